"""Our Presidio operators, shaped like Presidio's own (`operate`, `validate`, `operator_name`), so they plug into
`AnonymizerEngine.add_anonymizer` instead of living beside it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Dict

from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

from hf_anon_mcp.engine.surrogates import normalise, surrogate_for


def _secret(params: Dict) -> bytes:
    secret = params.get("secret")
    if isinstance(secret, str):
        secret = secret.encode()
    return secret or b""


class Surrogate(Operator):
    """Replace a value by a consistent realistic fake (see `engine.surrogates`), keyed by a user secret."""

    def operate(self, text: str = None, params: Dict = None) -> str:
        return surrogate_for(params["entity_type"], text, _secret(params), params.get("locale", "en_US"))

    def validate(self, params: Dict = None) -> None:
        if len(_secret(params or {})) < 16:
            raise InvalidParamError("surrogate operator needs a secret of at least 16 bytes")

    def operator_name(self) -> str:
        return "surrogate"

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize


# A numbered placeholder leaves a worker as `<PERSON_#3fa9c1d2e4b5a6f7>` (a keyed digest of the value: same value,
# same digest, in every process); `Renumberer` then turns digests into `<PERSON_1>`, `<PERSON_2>` in order of
# first appearance, in the one process that writes the output.
PENDING_NUMBER = re.compile(r"<([A-Z][A-Z0-9_]*)_#([0-9a-f]{16})>")


class NumberedPlaceholder(Operator):
    """`<PERSON_1>`, `<PERSON_2>`...: the same value gets the same number across the whole dataset."""

    def operate(self, text: str = None, params: Dict = None) -> str:
        entity = params["entity_type"]
        digest = hmac.new(_secret(params), f"{entity}\x1f{normalise(text)}".encode(), hashlib.sha256).hexdigest()
        return f"<{entity}_#{digest[:16]}>"

    def validate(self, params: Dict = None) -> None:
        if len(_secret(params or {})) < 16:
            raise InvalidParamError("numbered operator needs a secret of at least 16 bytes")

    def operator_name(self) -> str:
        return "numbered"

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize


class Renumberer:
    """Turns pending digests into sequential numbers per entity type; one instance per output dataset."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str], int] = {}
        self._next: dict[str, int] = {}

    def __call__(self, text: str) -> str:
        if "_#" not in text:
            return text
        return PENDING_NUMBER.sub(self._number, text)

    def _number(self, match: re.Match) -> str:
        entity, digest = match.group(1), match.group(2)
        key = (entity, digest)
        if key not in self._numbers:
            self._next[entity] = self._next.get(entity, 0) + 1
            self._numbers[key] = self._next[entity]
        return f"<{entity}_{self._numbers[key]}>"
