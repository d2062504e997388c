"""Masked samples for reports: enough shape to recognise the kind of value, never the value itself."""

from __future__ import annotations

import re

_ALNUM = re.compile(r"\w", re.UNICODE)


def mask_sample(value: str, entity_type: str) -> str:
    """Mask a detected value for display: `john@example.com` -> `j***@e***.com`, `Ann Smith` -> `A** S****`."""
    value = value.strip()
    if not value:
        return ""
    if entity_type.startswith("SECRET_"):
        return _mask_secret(value)
    if entity_type == "EMAIL_ADDRESS" and "@" in value:
        return _mask_email(value)
    return " ".join(_mask_word(w) for w in value.split())


def _mask_word(word: str) -> str:
    """Digits all become `*` (formats stay); other words keep their first letter."""
    if any(c.isdigit() for c in word):
        return _ALNUM.sub("*", word)
    return word[0] + _ALNUM.sub("*", word[1:])


def _mask_email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    labels = domain.split(".")
    tld = labels[-1] if len(labels) > 1 else ""
    masked_domain = (domain[:1] + "***") + (f".{tld}" if tld else "")
    return f"{local[:1]}***@{masked_domain}"


def _mask_secret(value: str) -> str:
    """Credentials show at most a 3-character prefix (e.g. `hf_`, `AKI`) and never their length."""
    if value.startswith("-----BEGIN"):
        return "-----BEGIN ***"
    return value[:3] + "***"
