"""Consistent realistic surrogates: the same value always gets the same fake value, in every row and every process.

The fake value is drawn by Faker seeded from HMAC-SHA256(secret, entity type + normalised value): no shared state
between workers, and nobody without the secret can map a surrogate back to its original (or even test a guess).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from faker import Faker


def normalise(value: str) -> str:
    """Case, accents-compatible forms and spacing do not make a different person: `JOHN  smith` == `John Smith`."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def _name(fake: Faker, original: str) -> str:
    """Keep the shape: a lone first name stays one word, a full name stays a full name."""
    return fake.first_name() if len(original.split()) == 1 else fake.name()


def _age(fake: Faker, original: str) -> str:
    return str(fake.random_int(18, 90))


# Entity type -> how to draw a fake of it. Types not listed fall back to a placeholder (see `surrogate_for`).
PROVIDERS: dict[str, Callable[[Faker, str], str]] = {
    "PERSON": _name,
    "EMAIL_ADDRESS": lambda f, o: f.email(),
    "PHONE_NUMBER": lambda f, o: f.phone_number(),
    "LOCATION": lambda f, o: f.city(),
    "STREET_ADDRESS": lambda f, o: f.street_address(),
    "ADDRESS": lambda f, o: f.street_address(),
    "ORGANIZATION": lambda f, o: f.company(),
    "IBAN_CODE": lambda f, o: f.iban(),
    "CREDIT_CARD": lambda f, o: f.credit_card_number(),
    "US_SSN": lambda f, o: f.ssn(),
    "IP_ADDRESS": lambda f, o: f.ipv4_public(),
    "URL": lambda f, o: f.url(),
    "DATE_TIME": lambda f, o: f.date(),
    "DATE_OF_BIRTH": lambda f, o: f.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
    "US_DRIVER_LICENSE": lambda f, o: f.bothify("?#######").upper(),
    "US_PASSPORT": lambda f, o: f.bothify("#########"),
    "US_BANK_NUMBER": lambda f, o: f.bban(),
    "ZIP_CODE": lambda f, o: f.postcode(),
    "AGE": _age,
    "NRP": lambda f, o: f.random_element(["European", "Canadian", "Brazilian", "Kenyan", "Japanese"]),
    "TITLE": lambda f, o: f.prefix().rstrip("."),
}


_local = threading.local()


def _faker(locale: str) -> Faker:
    """One Faker per thread and locale: a surrogate re-seeds it, so threads must not share one."""
    fakers = _local.__dict__.setdefault("fakers", {})
    if locale not in fakers:
        fakers[locale] = Faker(locale)
    return fakers[locale]


def keyed_seed(secret: bytes, entity_type: str, value: str) -> int:
    digest = hmac.new(secret, f"{entity_type}\x1f{normalise(value)}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def surrogate_for(entity_type: str, value: str, secret: bytes, locale: str = "en_US") -> str:
    """A realistic fake for `value`, the same for the same (secret, entity type, normalised value), never the value.

    Entity types without a realistic provider (and all secrets) get the `<ENTITY>` placeholder.
    """
    provider = PROVIDERS.get(entity_type)
    if provider is None:
        return f"<{entity_type}>"
    return _cached_surrogate(entity_type, value, secret, locale, provider)


@lru_cache(maxsize=65_536)
def _cached_surrogate(entity_type: str, value: str, secret: bytes, locale: str, provider) -> str:
    fake = _faker(locale)
    seed = keyed_seed(secret, entity_type, value)
    original = normalise(value)
    for attempt in range(20):
        fake.seed_instance(seed + attempt)
        candidate = provider(fake, value)
        if normalise(candidate) != original:
            return candidate
    return f"<{entity_type}>"  # pragma: no cover - 20 collisions in a row does not happen with real providers
