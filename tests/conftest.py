"""Shared fixtures: small datasets written on the fly, the shared dev data, and a network blocker."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
PII_DEV = SHARED / "data" / "pii-dev" / "presidio_research_dev.jsonl"

# Fake people, invented for the tests ("canaries"): none of these values may ever appear in a result or log.
CANARY_ROWS = [
    {"id": 1, "name": "Marisol Quintanilla", "email": "marisol.quintanilla@example.org",
     "notes": "Call Marisol Quintanilla at 415-555-0143 about card 4111 1111 1111 1111."},
    {"id": 2, "name": "Thaddeus Okonkwo", "email": "t.okonkwo@example.net",
     "notes": "Thaddeus Okonkwo lives at 742 Evergreen Terrace, Springfield; SSN 536-22-8741."},
    {"id": 3, "name": "Ingrid Vasquez-Holm", "email": "ingrid.vh@example.com",
     "notes": "Ingrid Vasquez-Holm wrote from ingrid.vh@example.com, IBAN GB82WEST12345698765432."},
]
CANARY_VALUES = [
    "Marisol Quintanilla", "Quintanilla", "marisol.quintanilla@example.org", "415-555-0143", "4111 1111 1111 1111",
    "Thaddeus Okonkwo", "Okonkwo", "t.okonkwo@example.net", "536-22-8741", "Ingrid Vasquez-Holm",
    "ingrid.vh@example.com", "GB82WEST12345698765432",
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def canary_jsonl(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "people.jsonl", CANARY_ROWS)


@pytest.fixture
def pii_dev() -> Path:
    if not PII_DEV.exists():
        pytest.fail(f"shared dev data missing: {PII_DEV} (CI clones ../shared beside the repo)")
    return PII_DEV


@pytest.fixture
def no_network(monkeypatch):
    """Fail loudly on any attempt to open a network connection or resolve a name."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise OSError("network access attempted during a test that must be offline")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield attempts
