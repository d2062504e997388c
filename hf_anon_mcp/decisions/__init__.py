"""Dataset-level judgement between detection and replacement.

The anonymize workflow is three passes over the whole dataset: **detect** (every text once; findings stored compactly,
statistics gathered: `detect.DetectWorker`, `stats`), **decide** (what is a private identifier *here*: column types,
frequent terms, propagation of found values, the policy: `decide`), **replace** (write the new copy from the stored
findings and the decisions: `replace.ReplaceWorker`), then verify with other eyes (`verify`). Workers follow
`runners.base.BatchWorker`, so the local pool and Ray run the same code.
"""

# First, before any module here imports Presidio: the engine package imports Presidio without the torch stack it
# would otherwise load (6.5 s and ~400 MB a process). A Ray actor of `replace.ReplaceWorker` imports this package
# first, and paid both at every start before this line.
import hf_anon_mcp.engine  # noqa: E402,F401
