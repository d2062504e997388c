"""Leak audit of a fine-tuned model: canaries planted at anonymize time, their exposure, membership inference and
extraction.

`canaries`, `exposure`, `membership`, `models` and `card` need only the base install (numpy/scipy for the metrics);
`run` and `extraction` drive a model and need the `audit` extra (`pip install 'hf-anon-mcp[audit]'`).
"""
