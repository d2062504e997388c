"""What a column's header suggests it holds. Evidence, not a verdict: `decide` also needs the cells to agree."""

from __future__ import annotations

import re

# Header words -> the entity a column of single values under that header would hold.
_HINTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("DATE_OF_BIRTH", frozenset({"dob", "birth", "birthday", "birthdate", "born"})),
    ("EMAIL_ADDRESS", frozenset({"email", "mail", "e-mail"})),
    ("PHONE_NUMBER", frozenset({"phone", "tel", "telephone", "mobile", "cell", "fax", "msisdn"})),
    ("STREET_ADDRESS", frozenset({"address", "street", "addr"})),
    ("US_SSN", frozenset({"ssn"})),
    ("CREDIT_CARD", frozenset({"card", "cc", "pan"})),
    ("IBAN_CODE", frozenset({"iban"})),
    ("IP_ADDRESS", frozenset({"ip"})),
    ("LOCATION", frozenset({"city", "town", "country", "region", "location", "place", "village"})),
    ("ORGANIZATION", frozenset({"employer", "organization", "organisation", "workplace"})),
    ("PERSON", frozenset({"name", "customer", "client", "patient", "contact", "author", "user", "username",
                          "first", "last", "surname", "firstname", "lastname", "fullname", "employee", "agent",
                          "requester", "assignee", "owner", "sender", "recipient", "login", "handle"})),
)
_NOT_PII_WORDS = frozenset({"id", "uuid", "key", "count", "type", "status", "code", "number", "no", "num", "sku",
                            "product", "company", "file", "host", "file_name", "filename", "model", "version"})
_ID_WORDS = frozenset({"id", "ids", "uuid", "key", "hash", "count", "type", "status", "code", "sku", "verified",
                       "domain", "country", "provider", "format", "length", "flag"})
_SPLIT = re.compile(r"[^a-z0-9]+|(?<=[a-z])(?=[A-Z])")


def header_words(name: str) -> list[str]:
    """`customerName` / `customer_name` / `Customer Name` -> ['customer', 'name']."""
    return [w for w in _SPLIT.split(re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()) if w]


def header_hint(name: str) -> str | None:
    """The entity a header names, or None. `user_id`, `product_name`: an id or a product, not a person."""
    words = header_words(name)
    if not words or words[-1] in _ID_WORDS:
        return None  # user_id, email_hash, phone_type: an id or a label about the value, not the value
    if any(w in _NOT_PII_WORDS for w in words[:-1]) and words[-1] == "name":
        return None  # product_name, file_name, company_name
    for entity, hints in _HINTS:
        if any(w in hints for w in words):
            return entity
    return None
