"""The fast profile's scanner (`engine.fastscan`): what it finds, what it refuses, and that it finds what Presidio's
patterns-only mode finds."""

from __future__ import annotations

import importlib.util
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest

from hf_anon_mcp.engine import detect, fastscan, phones
from hf_anon_mcp.engine.analyzer import EngineConfig, phone_regions
from hf_anon_mcp.engine.fastscan import fast_analyze, fast_find

from conftest import SHARED

REPO = Path(__file__).resolve().parents[1]
FAST = EngineConfig(patterns_only=True)
DEV = {
    "pii": SHARED / "data" / "pii-dev" / "presidio_research_dev.jsonl",
    "btc": SHARED / "data" / "real-text-dev" / "btc_dev.jsonl",
    "wnut": SHARED / "data" / "real-text-dev" / "wnut17_dev.jsonl",
    "secrets": SHARED / "data" / "secrets-dev" / "gitleaks_dev.jsonl",
}


def found(text: str, config: EngineConfig = FAST) -> dict[str, str]:
    return {text[r.start:r.end]: r.entity_type for r in fast_analyze([text], config)[0]}


def _token(alphabet: str, n: int, seed: int) -> str:
    rnd = random.Random(seed)
    return "".join(rnd.choice(alphabet) for _ in range(n))


ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HF_TOKEN = "hf_" + _token(ALNUM, 34, 1)
AWS_KEY = "AKIA" + _token("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 2)
GITHUB_TOKEN = "ghp_" + _token(ALNUM, 36, 3)


@pytest.mark.parametrize("text, value, entity", [
    ("write to marisol.quintanilla@example.org today", "marisol.quintanilla@example.org", "EMAIL_ADDRESS"),
    ("Call me on 212-555-0187 after six", "212-555-0187", "PHONE_NUMBER"),
    ("the number (458)629-0755 is the office", "(458)629-0755", "PHONE_NUMBER"),
    ("card 4111 1111 1111 1111 expired", "4111 1111 1111 1111", "CREDIT_CARD"),
    ("pay to DE89370400440532013000 please", "DE89370400440532013000", "IBAN_CODE"),
    ("SSN: 536-22-8741.", "536-22-8741", "US_SSN"),
    ("the host 192.168.12.40 answered", "192.168.12.40", "IP_ADDRESS"),
    ("see https://www.example.com/tickets/12 for more", "https://www.example.com/tickets/12", "URL"),
    ("send BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT now", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "CRYPTO"),
    ("device 00:1A:2B:3C:4D:5E is online", "00:1A:2B:3C:4D:5E", "MAC_ADDRESS"),
    ("invoice dated 12/31/2023 was paid", "12/31/2023", "DATE_TIME"),
    (f"HF_TOKEN={HF_TOKEN}", HF_TOKEN, "SECRET_HF_TOKEN"),
    (f"aws_access_key_id = {AWS_KEY}", AWS_KEY, "SECRET_AWS_ACCESS_KEY"),
    (f"token: {GITHUB_TOKEN}", GITHUB_TOKEN, "SECRET_GITHUB_TOKEN"),
    ("db = postgres://admin:S3cr3tPassw0rd@db.internal:5432/app", "admin:S3cr3tPassw0rd",
     "SECRET_CONNECTION_STRING_PASSWORD"),
    ("She lives at 1668 Glyn St, Springfield", "1668 Glyn St, Springfield", "STREET_ADDRESS"),
    ("Please ask Marisol Quintanilla about it", "Marisol Quintanilla", "PERSON"),
    ("thanks @jennyfromtheblock for the tip", "@jennyfromtheblock", "PERSON"),
    ("my grandfather turned 87 last week", "87", "AGE"),
    ("ZIP: 75534 is the code", "75534", "ZIP_CODE"),
])
def test_each_kind_is_found(text, value, entity):
    assert found(text).get(value) == entity


@pytest.mark.parametrize("text, value", [
    ("card 4111 1111 1111 1112 expired", "4111 1111 1111 1112"),  # Luhn fails
    ("pay to DE89370400440532013001 please", "DE89370400440532013001"),  # IBAN checksum fails
    ("send BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyA now", "1BoatSLRHtKNngkdXEeobR76b53LETtpyA"),  # base58 checksum
    ("SSN: 000-22-8741.", "000-22-8741"),  # no SSN starts with 000
    ("the host 999.300.1.1 answered", "999.300.1.1"),  # not an IP address
    ("write to someone@example.invalidtld today", "someone@example.invalidtld"),  # no such top-level domain
    ("reference 0000000 0000 is not a phone", "0000000 0000"),
])
def test_checksum_invalid_candidates_are_refused(text, value):
    assert value not in found(text)


@pytest.mark.parametrize("text", [
    "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "api_key = YOUR_API_KEY_HERE",
    "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX",
    "password = ${DB_PASSWORD}",
    "token: <token>",
])
def test_placeholders_are_refused(text):
    assert not any(e.startswith("SECRET_") for e in found(text).values())


def _rows(name: str, n: int) -> list[str]:
    lines = DEV[name].read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines[:n] if line.strip()]


@pytest.mark.parametrize("name", list(DEV))
def test_same_findings_as_presidio_patterns_only_on_dev_data(name):
    """The triggers must fire wherever a recognizer can match: then the findings are exactly those of Presidio's
    patterns-only loop (type and span), validation and post-steps included."""
    texts = _rows(name, 250)
    presidio = detect._analyze_texts(texts, FAST)
    fast = fast_analyze(texts, FAST)
    assert sum(map(len, presidio)) > 20
    for text, a, b in zip(texts, presidio, fast):
        assert {(r.entity_type, r.start, r.end) for r in a} == {(r.entity_type, r.start, r.end) for r in b}, text


def _generator():
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_same_findings_on_generated_support_tickets():
    texts = [r["text"] for r in _generator().long_rows(300)]
    presidio = detect._analyze_texts(texts, FAST)
    fast = fast_analyze(texts, FAST)
    assert sum(map(len, fast)) > 300 * 3
    assert [{(r.entity_type, r.start, r.end) for r in x} for x in presidio] == \
        [{(r.entity_type, r.start, r.end) for r in x} for x in fast]


def test_offsets_are_characters_after_non_ascii_text():
    text = "Zoë 🙂 Ærøskøbing — écrivez à zoë.lefèvre@example.fr ou appelez le +33 1 42 68 53 00, Zoë."
    spans = {text[r.start:r.end]: r.entity_type for r in fast_analyze([text], FAST)[0]}
    assert spans.get("zoë.lefèvre@example.fr") == "EMAIL_ADDRESS"
    assert spans.get("+33 1 42 68 53 00") == "PHONE_NUMBER"


def test_results_align_with_inputs_across_batches(monkeypatch):
    monkeypatch.setattr(fastscan, "_BATCH_CHARS", 200)
    texts = [f"row {i}: mail user{i}@example.com" if i % 3 else "" for i in range(60)] + ["   "]
    results = fast_find(texts, FAST)
    assert len(results) == len(texts)
    for text, res in zip(texts, results):
        if "@" in text:
            assert [(f.entity_type, text[f.start:f.end]) for f in res] == [("EMAIL_ADDRESS", text[text.index("user"):])]
        else:
            assert res == []


def test_policy_entities_allow_and_deny_lists_apply():
    text = "Marisol Quintanilla (marisol@example.org) works on Project Bluebird with Acme Support."
    only_email = EngineConfig(patterns_only=True, entities=("EMAIL_ADDRESS",))
    assert set(found(text, only_email).values()) == {"EMAIL_ADDRESS"}
    allowed = EngineConfig(patterns_only=True, allow_list=("marisol@example.org",))
    assert "marisol@example.org" not in found(text, allowed)
    denied = EngineConfig(patterns_only=True, deny_list=("Project Bluebird",))
    assert found(text, denied).get("Project Bluebird") == "DENY_LIST"


def test_phone_verdicts_from_metadata_agree_with_phonenumbers():
    """`phones.valid_in` answers from phonenumbers' metadata first: on numbers of many countries' formats and on
    random digit strings it must agree with parsing and validating every region."""
    from faker import Faker

    regions = phone_regions(("us",))
    values = []
    for locale in ("en_US", "en_GB", "de_DE", "fr_FR", "he_IL", "en_IN", "pt_BR", "it_IT", "ja_JP", "pl_PL"):
        fake = Faker(locale)
        fake.seed_instance(7)
        values += [fake.phone_number() for _ in range(40)]
    rnd = random.Random(11)
    values += ["".join(rnd.choice("0123456789") for _ in range(rnd.randint(7, 13))) for _ in range(300)]
    values += ["+" + "".join(rnd.choice("0123456789") for _ in range(rnd.randint(8, 13))) for _ in range(150)]
    values = [v for v in values if 7 <= sum(c.isdigit() for c in phones._EXT.sub("", v)) <= 15]

    def by_parsing(value: str) -> bool:
        plain = re.sub(r"\D", "", phones._EXT.sub("", value))
        if len(plain) >= 13 and phones._luhn(plain):
            return False
        international = value.startswith("+") or value.startswith("00")
        for region in (None,) if international else regions:
            try:
                number = phonenumbers.parse("+" + value[2:] if value.startswith("00") else value, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return True
        return False

    expected = [by_parsing(v) for v in values]
    assert 0.2 < sum(expected) / len(expected) < 0.9
    assert [phones.valid_in(v, regions) for v in values] == expected


def test_trigger_database_is_cached_and_reloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ANON_MCP_CACHE_DIR", str(tmp_path))
    expressions, flags = [b"@", rb"\d{3}-\d{4}"], [0, 0]
    first = fastscan.compiled_database(expressions, flags)
    assert len(list(tmp_path.glob("fastscan-*.hsdb"))) == 1
    again = fastscan.compiled_database(expressions, flags)
    for database in (first, again):
        hits = []
        database.scan(b"a@b 555-0187", match_event_handler=lambda i, s, e, f, c: hits.append((i, e)),
                      scratch=fastscan.scratch_for(database))
        assert sorted(hits) == [(0, 2), (1, 12)]


@pytest.mark.parametrize("modules", ["hf_anon_mcp.engine.detect, hf_anon_mcp.engine.fastscan",
                                     # what a Ray actor or a spawned worker imports first
                                     "hf_anon_mcp.decisions.replace", "hf_anon_mcp.decisions.verify",
                                     "hf_anon_mcp.decisions.detect"])
def test_engine_imports_without_torch_or_transformers(modules):
    code = (f"import sys, {modules}; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
