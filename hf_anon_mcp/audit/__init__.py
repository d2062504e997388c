"""Leak audit of a fine-tuned model: canaries planted at anonymize time, their exposure, membership inference and
extraction.

`canaries`, `models` and `card` need only the base install (the anonymize workflow plants canaries without torch);
`exposure` and `membership` need scipy; `lm`, `extraction`'s probes and `run` drive a model and need the `audit`
extra (`pip install 'hf-anon-mcp[audit]'`: torch, transformers, scipy).
"""
