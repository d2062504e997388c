"""The scrubbing engine: Presidio analyzer and anonymizer with our recognizers and operators, on plain strings."""

import logging
import os
import sys

# Presidio logs a warning per recognizer of another language, and per unmapped NER label, at every engine build:
# noise on stderr (which MCP clients keep as the server log). Its errors still show.
for _name in ("presidio-analyzer", "presidio-anonymizer"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def _import_presidio_without_torch() -> None:
    """Import Presidio and spaCy without the transformers/torch stack they load when it is installed.

    `presidio_analyzer` imports `transformers` at module level for an NLP engine we never use, and thinc imports
    `torch`: ~6 CPU-seconds in every process (the CLI, each worker, the server), against ~1.5 s for everything
    else; the NER model is spaCy's small CPU pipeline and needs neither. Both are kept out while Presidio and spaCy
    load, then released, so a later `import torch` (the leak audit) works as usual; only spaCy's transformer-based
    pipelines lose torch. `HF_ANON_MCP_EAGER_TORCH=1` turns this off.
    """
    if os.environ.get("HF_ANON_MCP_EAGER_TORCH") == "1":
        return
    blocked = [m for m in ("transformers", "torch") if m not in sys.modules]
    for module in blocked:
        sys.modules[module] = None  # `import` raises ImportError, which both libraries handle
    try:
        import presidio_analyzer  # noqa: F401
        import spacy  # noqa: F401
    finally:
        for module in blocked:
            if sys.modules.get(module, 0) is None:
                del sys.modules[module]


_import_presidio_without_torch()
