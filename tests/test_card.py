"""The privacy section of dataset/model cards: idempotent, preserves the rest of the card, never shows values.

Reports come from real runs of `scan` and `anonymize` (NER on) over the conftest's fake people.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
from pathlib import Path

import pytest
from conftest import CANARY_ROWS, CANARY_VALUES, write_jsonl

from hf_anon_mcp.cli_hub import add_hub_commands
from hf_anon_mcp.errors import InputError
from hf_anon_mcp.hub.models import CardRequest
from hf_anon_mcp.models import AnonymizeRequest, ScanRequest
from hf_anon_mcp.workflow.anonymize import anonymize
from hf_anon_mcp.workflow.card import END, START, write_card_section
from hf_anon_mcp.workflow.scan import scan

EXISTING = """---
license: cc-by-4.0
language:
- en
pretty_name: Support tickets
tags:
- customer-support
custom_key:
  nested: 3
---

# Support tickets

Tickets from our help desk.

## Dataset structure

| column | type |
| --- | --- |
| text | string |

## Citation

Please cite us.
"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A raw-sample scan (the worst case for leaks) and a surrogate anonymization, with their JSON files."""
    folder = tmp_path_factory.mktemp("reports")
    src = write_jsonl(folder / "people.jsonl", CANARY_ROWS)
    scan_report = scan(ScanRequest(source=str(src), include_raw_samples=True))
    assert scan_report.raw_samples_included and any(v in scan_report.model_dump_json() for v in CANARY_VALUES)
    anon_report = anonymize(AnonymizeRequest(source=str(src), output=str(folder / "people.anon.parquet"),
                                             operator="surrogate", policy={"columns": {"email": {"action": "drop"}}}))
    scan_path = folder / "scan.json"
    anon_path = folder / "anon.json"
    scan_path.write_text(scan_report.model_dump_json())
    anon_path.write_text(anon_report.model_dump_json())
    return {"scan": scan_report, "anon": anon_report, "scan_path": scan_path, "anon_path": anon_path}


def write(path: Path, reports, **kw):
    return write_card_section(CardRequest(card_path=str(path), scan_report=reports["scan"],
                                          anonymize_report=reports["anon"], **kw))


def test_writing_twice_is_byte_identical(tmp_path, reports, no_network):
    card = tmp_path / "README.md"
    first = write(card, reports, differential_privacy=False)
    content = card.read_bytes()
    second = write(card, reports, differential_privacy=False)
    assert first.changed is True and second.changed is False
    assert card.read_bytes() == content
    assert first.section_markdown == second.section_markdown
    assert content.decode().count(START) == 1 and content.decode().count(END) == 1


def test_missing_card_is_created_with_yaml_header(tmp_path, reports):
    card = tmp_path / "new" / "README.md"
    card.parent.mkdir()
    result = write(card, reports)
    text = card.read_text()
    assert text.startswith("---\ntags:\n- pii-anonymized\n- privacy-reviewed\n---\n")
    assert "# Dataset card" in text and result.tags == ["pii-anonymized", "privacy-reviewed"]
    assert result.card_type == "dataset" and result.path == str(card)
    assert [p.name for p in card.parent.iterdir()] == ["README.md"]  # no temporary left behind


def test_existing_sections_and_yaml_are_kept(tmp_path, reports):
    card = tmp_path / "README.md"
    card.write_text(EXISTING)
    result = write(card, reports)
    text = card.read_text()
    from huggingface_hub import DatasetCard

    data = DatasetCard(text).data.to_dict()
    assert data["license"] == "cc-by-4.0" and data["language"] == ["en"] and data["pretty_name"] == "Support tickets"
    assert data["custom_key"] == {"nested": 3}
    assert data["tags"] == ["customer-support", "pii-anonymized", "privacy-reviewed"] == result.tags
    body = EXISTING.split("---\n", 2)[2]
    before, after = body.split("## Citation")
    assert before in text and "## Citation" + after in text  # every existing section, unchanged
    # created where the Hub's template puts it: a "Dataset Creation" section ending with the privacy heading,
    # before "Citation" (which the template puts after it)
    assert text.index("## Dataset Creation\n\n#### Personal and Sensitive Information\n\n" + START) \
        < text.index(END) < text.index("## Citation")


def test_section_in_the_middle_is_replaced_in_place(tmp_path, reports):
    card = tmp_path / "README.md"
    head = ("---\nlicense: mit\ntags:\n- privacy-reviewed\n- pii-anonymized\n---\n\n# Intro\n\n"
            "#### Personal and Sensitive Information\n\n")
    card.write_text(f"{head}{START}\nold text\n{END}\n\n## After\n\nKeep me.\n")
    write(card, reports, differential_privacy=True, differential_privacy_details="DP-SGD, epsilon=8")
    text = card.read_text()
    assert "old text" not in text and text.startswith(head + START)
    assert text.endswith(f"{END}\n\n## After\n\nKeep me.\n")
    assert "Differential privacy was used in training." in text and "epsilon=8" in text


def test_a_section_written_elsewhere_by_an_older_version_moves_under_the_template_heading(tmp_path, reports):
    card = tmp_path / "README.md"
    card.write_text(f"---\nlicense: mit\n---\n\n# Intro\n\nAbout.\n\n## Privacy\n\n{START}\n"
                    f"## Privacy and personal data\nold text\n{END}\n\n## Citation\n\nKeep me.\n")
    write(card, reports)
    text = card.read_text()
    assert "old text" not in text and text.count(START) == 1
    assert ("# Intro\n\nAbout.\n\n## Privacy\n\n## Dataset Creation\n\n#### Personal and Sensitive Information"
            "\n\n" + START) in text
    assert text.endswith(f"{END}\n\n## Citation\n\nKeep me.\n")


def test_no_raw_values_in_the_card(tmp_path, reports):
    card = tmp_path / "README.md"
    write(card, reports, allow_residual_pii=True)
    text = card.read_text()
    for value in CANARY_VALUES:
        assert value not in text
    samples = {s for c in reports["scan"].columns for e in c.entities for s in e.samples}
    for sample in samples:  # raw samples; a short one ("SSN") may be a word of the section itself
        assert len(sample) < 6 or sample not in text, sample


def test_section_says_what_was_scanned_found_and_treated(tmp_path, reports):
    section = write(tmp_path / "README.md", reports, allow_residual_pii=True).section_markdown
    scan_report, anon = reports["scan"], reports["anon"]
    det = scan_report.detector
    assert f"| Rows scanned | {scan_report.rows_scanned} |" in section
    assert f"Presidio {det.presidio_version}" in section and det.model_name in section and det.model_version in section
    assert "| Profile | balanced |" in section and "| Names, places, organisations | yes |" in section
    for entity, count in scan_report.entity_totals().items():
        assert re.search(rf"^\| {entity} \| {count} \|", section, re.M), entity
    for entity, op in anon.operators.items():
        assert f"| {entity} | {op} |" in section
    assert "Columns dropped: `email`" in section and "consistent and keyed" in section
    assert f"Residual risk after anonymization: **{anon.residual_risk.value}**" in section
    assert "Detection is statistical" in section and "languages" in section and "quasi-identifiers" in section
    assert "##### Differential privacy\n\nNot stated." in section  # under the template's #### heading
    assert "allow_residual_pii" in section


def test_markdown_is_clean(tmp_path, reports):
    section = write(tmp_path / "README.md", reports).section_markdown
    assert re.findall(r"<[^>]+>", section) == []  # markers live outside the section; no other HTML
    lines = section.splitlines()
    assert lines[0].startswith("Privacy and personal data, written by hf-anon-mcp")
    for i, line in enumerate(lines):
        if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|")):  # a table starts here
            cols = line.count("|")
            assert re.fullmatch(r"\|( --- \|)+", lines[i + 1]) and lines[i + 1].count("|") == cols, line
            assert lines[i - 1] == ""  # a blank line before every table
        if line.startswith("#"):
            assert re.fullmatch(r"##### \S.*", line) and lines[i + 1] == ""  # one level under the #### heading
    text = (tmp_path / "README.md").read_text()
    assert set(re.findall(r"<[^>]+>", text)) == {START, END}


def test_patterns_only_lists_what_it_cannot_detect(tmp_path, reports):
    quick = scan(ScanRequest(source=reports["scan"].source, patterns_only=True))
    result = write_card_section(CardRequest(card_path=str(tmp_path / "README.md"), scan_report=quick))
    assert "| Profile | fast |" in result.section_markdown
    assert "| Names, places, organisations | **no**: names, places and organisations are NOT detected" \
        in result.section_markdown
    assert "could not be detected: DATE_TIME, LOCATION, NRP, ORGANIZATION, PERSON" in result.section_markdown
    assert result.tags == ["privacy-reviewed"]  # not anonymized: no pii-anonymized tag
    assert "No anonymization report was provided" in result.section_markdown


def test_model_card_from_report_files(tmp_path, reports):
    card = tmp_path / "README.md"
    card.write_text("---\nlicense: apache-2.0\nbase_model: some/base\n---\n\n# My model\n")
    result = write_card_section(CardRequest(card_path=str(card), card_type="model",
                                            scan_report_path=str(reports["scan_path"]),
                                            anonymize_report_path=str(reports["anon_path"])))
    text = card.read_text()
    assert result.card_type == "model" and "base_model: some/base" in text and "license: apache-2.0" in text
    assert result.section_markdown == write(tmp_path / "other.md", reports).section_markdown


def test_bad_inputs_are_input_errors(tmp_path, reports):
    with pytest.raises(InputError, match="scan report, an anonymize report and/or an audit report"):
        write_card_section(CardRequest(card_path=str(tmp_path / "README.md")))
    with pytest.raises(InputError, match="not found"):
        write_card_section(CardRequest(card_path=str(tmp_path / "README.md"), scan_report_path="/nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a report"}')
    with pytest.raises(InputError, match="not a scan report"):
        write_card_section(CardRequest(card_path=str(tmp_path / "README.md"), scan_report_path=str(bad)))
    broken = tmp_path / "broken.md"
    broken.write_text(f"# Card\n\n{START}\nno end marker\n")
    with pytest.raises(InputError, match="broken privacy section"):
        write(broken, reports)
    assert broken.read_text() == f"# Card\n\n{START}\nno end marker\n"


def test_cli_card_command(tmp_path, reports):
    parser = argparse.ArgumentParser()
    add_hub_commands(parser.add_subparsers(dest="command", required=True))
    card = tmp_path / "README.md"
    argv = ["card", "--scan-report", str(reports["scan_path"]), "--anonymize-report", str(reports["anon_path"]),
            "--card", str(card), "--differential-privacy", "no", "--json"]
    outputs = []
    for _ in range(2):
        args = parser.parse_args(argv)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert args.handler(args) == 0
        outputs.append(json.loads(buf.getvalue()))
    assert outputs[0]["changed"] is True and outputs[1]["changed"] is False
    assert "Differential privacy was not used in training." in card.read_text()
    with pytest.raises(SystemExit):
        parser.parse_args(["card", "--card", str(card), "--differential-privacy", "maybe"])
