"""The scrubbing engine: Presidio analyzer and anonymizer with our recognizers and operators, on plain strings."""

import logging

# Presidio logs a warning per recognizer of another language, and per unmapped NER label, at every engine build:
# noise on stderr (which MCP clients keep as the server log). Its errors still show.
for _name in ("presidio-analyzer", "presidio-anonymizer"):
    logging.getLogger(_name).setLevel(logging.ERROR)
