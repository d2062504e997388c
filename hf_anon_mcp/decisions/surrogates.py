"""One person, one fake everywhere: "Roman Novak" -> "Lars Berg", "Roman" -> "Lars", "R. Novak" -> "L. Berg", and an
email of theirs -> "lars.berg@example.net". Keyed by HMAC (engine.surrogates), so workers agree without shared state."""

from __future__ import annotations

import re
from functools import lru_cache

from hf_anon_mcp.engine.surrogates import _faker, keyed_seed, normalise, surrogate_for

_DOMAINS = ("example.com", "example.net", "example.org")
_LOCAL_SPLIT = re.compile(r"[._+-]+")


@lru_cache(maxsize=65_536)
def person_parts(key: str, secret: bytes, locale: str) -> tuple[str, str]:
    """The fake (first, last) name of the person whose full name (normalised) is `key`."""
    fake = _faker(locale)
    seed = keyed_seed(secret, "PERSON", key)
    own = set(key.split())
    for attempt in range(20):
        fake.seed_instance(seed + attempt)
        first, last = fake.first_name(), fake.last_name()
        if first.casefold() not in own and last.casefold() not in own:
            return first, last
    return "Alex", "Doe"  # pragma: no cover - 20 collisions in a row does not happen


def _same_case(original: str, fake: str) -> str:
    if original.isupper() and len(original) > 1:
        return fake.upper()
    if original.islower():
        return fake.lower()
    return fake


def person_surrogate(value: str, persons: dict[str, str], secret: bytes, locale: str) -> str:
    """The fake for a name, consistent with the fake of the person it belongs to."""
    norm = normalise(value).strip(".,;:!?\"'()")
    tokens = norm.split()
    key = persons.get(norm)
    if key is not None:
        first, last = person_parts(key, secret, locale)
        key_tokens = key.split()
        if norm == key:
            fake = f"{first} {last}"
        elif norm == key_tokens[-1]:
            fake = last
        else:
            fake = first
        return _same_case(value, fake)
    if len(tokens) == 2 and len(tokens[0].rstrip(".")) == 1 and tokens[1] in persons:
        first, last = person_parts(persons[tokens[1]], secret, locale)
        return _same_case(value, f"{first[0]}. {last}")
    return surrogate_for("PERSON", value, secret, locale)


def email_surrogate(value: str, persons: dict[str, str], secret: bytes, locale: str) -> str:
    """An email whose local part names a known person gets that person's fake name; others a keyed fake email."""
    local = normalise(value).split("@", 1)[0]
    for token in _LOCAL_SPLIT.split(local):
        key = persons.get(token)
        if key is not None:
            first, last = person_parts(key, secret, locale)
            domain = _DOMAINS[keyed_seed(secret, "EMAIL_DOMAIN", value) % len(_DOMAINS)]
            return f"{first}.{last}@{domain}".lower()
    return surrogate_for("EMAIL_ADDRESS", value, secret, locale)
