"""The texts inside a cell, and putting new texts back, keeping every structure as it was.

In chat data (`messages`: a list of `{"role", "content"}` objects) only `content` is text to anonymize: roles, order
and every other field stay as they are. Elsewhere every string inside a nested value is a text.
"""

from __future__ import annotations

from collections.abc import Iterator

# Keys of a chat turn that are never free text (OpenAI/HF chat formats).
_CHAT_TEXT_KEYS = frozenset({"content", "text", "value"})


def _is_turn(value: dict) -> bool:
    return "role" in value or "from" in value


def texts_in(value) -> Iterator[str]:
    """Every text of a cell, depth first; in a chat turn only its content."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        turn = _is_turn(value)
        for key, v in value.items():
            if not turn or key in _CHAT_TEXT_KEYS:
                yield from texts_in(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from texts_in(v)


def rebuild(value, new_texts: Iterator[str]):
    """`value` with its texts (in `texts_in` order) taken from `new_texts`; everything else unchanged."""
    if isinstance(value, str):
        return next(new_texts)
    if isinstance(value, dict):
        turn = _is_turn(value)
        return {k: (rebuild(v, new_texts) if not turn or k in _CHAT_TEXT_KEYS else v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rebuild(v, new_texts) for v in value]
    return value
