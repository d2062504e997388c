"""The privacy text lands where the Hub's own card templates (inside the installed huggingface_hub) ask for it, and
rewriting it is idempotent and leaves every other section byte-identical.

Reports come from real patterns-only runs of `scan` and `anonymize` over the conftest's fake people.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from huggingface_hub import DatasetCard, DatasetCardData, ModelCard, ModelCardData
from huggingface_hub.repocard import TEMPLATE_DATASETCARD_PATH, TEMPLATE_MODELCARD_PATH

from conftest import CANARY_ROWS, CANARY_VALUES, write_jsonl
from hf_anon_mcp.hub.models import CardRequest
from hf_anon_mcp.models import AnonymizeRequest, ScanRequest
from hf_anon_mcp.workflow.anonymize import anonymize
from hf_anon_mcp.workflow.card import (DATASET_HEADING, END, MODEL_HEADING, MODEL_RISK_HEADING, RISK_END, RISK_START,
                                       START, render_section, template_headings, write_card_section)
from hf_anon_mcp.workflow.scan import scan


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template-reports")
    src = write_jsonl(folder / "people.jsonl", CANARY_ROWS)
    return {"scan": scan(ScanRequest(source=str(src), patterns_only=True)),
            "anon": anonymize(AnonymizeRequest(source=str(src), output=str(folder / "anon.jsonl"),
                                               patterns_only=True))}


def _write(path: Path, reports, card_type: str = "dataset", **kw):
    return write_card_section(CardRequest(card_path=str(path), card_type=card_type, scan_report=reports["scan"],
                                          anonymize_report=reports["anon"]), **kw)


def _sections(text: str) -> dict[str, str]:
    """Heading line -> its own text up to the next heading (marker blocks taken out, kept apart)."""
    text = re.sub(r"<!-- hf-anon-mcp:privacy(?:-risk)?:start -->.*?<!-- hf-anon-mcp:privacy(?:-risk)?:end -->\n?",
                  "", text, flags=re.S)
    parts = re.split(r"^(#{1,6} .*)$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def _headings_of(path: Path) -> list[str]:
    body = path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    return [m.group(0) for m in re.finditer(r"^#{1,6} .+$", body, re.M)]


def test_the_headings_we_write_under_are_the_installed_templates_own():
    assert f"#### {DATASET_HEADING}" in _headings_of(TEMPLATE_DATASETCARD_PATH)
    model = _headings_of(TEMPLATE_MODELCARD_PATH)
    assert f"### {MODEL_HEADING}" in model and f"## {MODEL_RISK_HEADING}" in model
    assert model.index("## Training Details") < model.index(f"### {MODEL_HEADING}")
    assert (4, "personal and sensitive information") in template_headings("dataset")


def test_dataset_template_card_gets_the_text_under_its_own_heading(tmp_path, reports):
    card = tmp_path / "README.md"
    card.write_text(str(DatasetCard.from_template(DatasetCardData(pretty_name="Tickets", license="mit"))))
    before = card.read_text()
    _write(card, reports)
    first = card.read_text()
    _write(card, reports)
    assert card.read_text() == first  # idempotent, byte for byte
    # the placeholder under the heading is replaced by the block, right after the template's own comment
    section = first.split(f"#### {DATASET_HEADING}\n", 1)[1].split("\n## ", 1)[0]
    assert section.startswith("\n<!-- State whether the dataset contains data") and START in section
    assert "[More Information Needed]" not in section and section.rstrip().endswith(END)
    # every other section byte-identical
    old, new = _sections(before), _sections(first)
    assert list(old) == list(new)
    changed = [h for h in old if old[h] != new[h]]
    assert changed == [f"#### {DATASET_HEADING}"], changed
    assert [v for v in CANARY_VALUES if v in first] == []


def test_model_template_card_gets_a_training_data_subsection_and_a_risk_line(tmp_path, reports):
    card = tmp_path / "README.md"
    card.write_text(str(ModelCard.from_template(ModelCardData(license="apache-2.0"), model_id="me/model")))
    before = card.read_text()
    result = _write(card, reports, card_type="model")
    first = card.read_text()
    assert _write(card, reports, card_type="model").changed is False and card.read_text() == first
    training = first.split(f"### {MODEL_HEADING}\n", 1)[1].split("\n### ", 1)[0]
    assert f"{START}\n#### Privacy and personal data\n" in training and END in training
    risk = first.split(f"## {MODEL_RISK_HEADING}\n", 1)[1].split("\n### ", 1)[0]
    block = risk.split(RISK_START, 1)[1].split(RISK_END, 1)[0].strip()
    assert block.startswith("- **Personal data in the training data**") and "\n" not in block
    assert "NOT detected" in block  # the reports are patterns-only: the line says so
    old, new = _sections(before), _sections(first)
    # only the two sections written into changed (the risk line replaced the placeholder; the subsection follows
    # Training Data's own text)
    assert [h for h in old if old[h] != new.get(h)] == [f"## {MODEL_RISK_HEADING}", f"### {MODEL_HEADING}"]
    assert old[f"### {MODEL_HEADING}"].rstrip() == new[f"### {MODEL_HEADING}"].rstrip()
    assert "##### What was scanned" in result.section_markdown


def test_a_card_without_the_heading_gets_it_where_the_template_puts_it(tmp_path, reports):
    card = tmp_path / "README.md"
    card.write_text("---\nlicense: mit\n---\n\n# Tickets\n\n## Dataset Creation\n\n### Source Data\n\nA help desk.\n\n"
                    "## Citation\n\nCite us.\n")
    _write(card, reports)
    text = card.read_text()
    assert "### Source Data\n\nA help desk.\n\n#### Personal and Sensitive Information\n\n" + START in text
    assert text.endswith(f"{END}\n\n## Citation\n\nCite us.\n")


def test_model_card_without_the_sections_gets_them_in_template_order(tmp_path, reports):
    card = tmp_path / "README.md"
    card.write_text("---\nlicense: mit\n---\n\n# Model\n\n## Uses\n\nChat.\n\n## Evaluation\n\nGood.\n")
    _write(card, reports, card_type="model")
    heads = [h for h in _headings_of(card) if h.startswith("#")]
    assert heads[:6] == ["# Model", "## Uses", f"## {MODEL_RISK_HEADING}", "## Training Details",
                         f"### {MODEL_HEADING}", "#### Privacy and personal data"]
    assert heads[-1] == "## Evaluation" and card.read_text().endswith("## Evaluation\n\nGood.\n")


def test_extra_lines_hook_and_yaml_kept_byte_identical(tmp_path, reports):
    card = tmp_path / "README.md"
    yaml = "---\n# a comment the YAML dumper would drop\nlicense: mit  # inline\ntags:\n- pii-anonymized\n" \
           "- privacy-reviewed\n---\n"
    card.write_text(yaml + "\n# Tickets\n")
    result = _write(card, reports, extra_lines=["##### Leak audit", "", "Exposure of 10 canaries: 1.2 bits."])
    text = card.read_text()
    assert text.startswith(yaml)  # the metadata already had the tags: not re-serialised
    assert result.section_markdown.rstrip().endswith("Exposure of 10 canaries: 1.2 bits.")
    assert text.index("##### Leak audit") < text.index(END)
    direct = render_section(reports["scan"], reports["anon"], CardRequest(card_path="x"), level=3,
                            extra_lines=["- audited"])
    assert "#### What was scanned" in direct and direct.rstrip().endswith("- audited")


def test_crlf_card_keeps_its_line_endings_and_rewrites_identically(tmp_path, reports):
    card = tmp_path / "README.md"
    card.write_bytes(b"---\r\nlicense: mit\r\n---\r\n\r\n# Tickets\r\n\r\n## Citation\r\n\r\nCite.\r\n")
    _write(card, reports)
    first = card.read_bytes()
    assert b"\n" not in first.replace(b"\r\n", b"")
    _write(card, reports)
    assert card.read_bytes() == first
