"""The card workflow: write the privacy section of a dataset or model card from scan / anonymize reports.

The section sits between stable markers, so writing it again replaces it and leaves the rest of the card as it
was; the YAML metadata gets privacy tags merged in. The section holds entity types, counts, columns, operators
and the detector, never values, samples or keys: cards are public documents even on private repos.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from pydantic import ValidationError

from hf_anon_mcp.errors import AccessError, InputError
from hf_anon_mcp.hub.models import CardRequest, CardResult
from hf_anon_mcp.models import AnonymizeReport, DetectorInfo, ScanReport

log = logging.getLogger("hf_anon_mcp.card")

START = "<!-- hf-anon-mcp:privacy:start -->"
END = "<!-- hf-anon-mcp:privacy:end -->"
TAG_REVIEWED = "privacy-reviewed"
TAG_ANONYMIZED = "pii-anonymized"


def write_card_section(request: CardRequest) -> CardResult:
    """Write (or replace) the privacy section of the card at `request.card_path`, atomically.

    >>> result = write_card_section(CardRequest(card_path="out/README.md", scan_report_path="scan.json",
    ...                                         anonymize_report_path="anon.json"))
    >>> result.tags, result.changed
    (['pii-anonymized', 'privacy-reviewed'], True)
    """
    scan_report = request.scan_report or _load_report(request.scan_report_path, ScanReport, "scan")
    anon_report = request.anonymize_report or _load_report(request.anonymize_report_path, AnonymizeReport,
                                                           "anonymize")
    if scan_report is None and anon_report is None and request.upload_scan is None:
        raise InputError("give a scan report and/or an anonymize report to describe in the card")
    section = render_section(scan_report, anon_report, request)
    path = Path(request.card_path).expanduser()
    if path.is_dir():
        path = path / "README.md"
    old = _read(path)
    new = merge_card(old, section, card_type=request.card_type, anonymized=anon_report is not None)
    changed = new != old
    if changed:
        _write_atomic(path, new)
    return CardResult(path=str(path), card_type=request.card_type, section_markdown=section,
                      tags=_tags_of(new, request.card_type), changed=changed)


# ---- card text ----------------------------------------------------------------------------------------------
def merge_card(old: str | None, section: str, *, card_type: str, anonymized: bool) -> str:
    """The card text with `section` between the markers (replaced, or appended) and privacy tags merged."""
    nl = "\r\n" if old and "\r\n" in old else "\n"  # keep the card's line endings
    card = _parse(old if old is not None else _minimal(card_type), card_type)
    tags = card.data.get("tags")
    tags = [tags] if isinstance(tags, str) else list(tags or [])
    for tag in ([TAG_ANONYMIZED] if anonymized else []) + [TAG_REVIEWED]:
        if tag not in tags:
            tags.append(tag)
    card.data["tags"] = tags
    block = f"{START}\n{section.strip()}\n{END}".replace("\n", nl)
    text = card.text
    start, end = text.find(START), text.find(END)
    if start != -1 and end > start:
        text = text[:start] + block + text[end + len(END):]
    else:
        if start != -1 or end != -1:
            raise InputError("the card has a broken privacy section (one marker without the other): fix it by hand")
        body = text.rstrip()
        text = (body + nl + nl if body else nl) + block + nl
    card.text = text
    return str(card)


def _minimal(card_type: str) -> str:
    title = "Dataset card" if card_type == "dataset" else "Model card"
    return f"---\n{{}}\n---\n\n# {title}\n"


def _parse(content: str, card_type: str):
    from huggingface_hub import DatasetCard, ModelCard

    cls = DatasetCard if card_type == "dataset" else ModelCard
    if not content.startswith("---"):  # no YAML block yet: start an empty one (and skip the library's warning)
        nl = "\r\n" if "\r\n" in content else "\n"
        content = f"---{nl}{{}}{nl}---{nl}" + content
    try:
        return cls(content)
    except Exception as err:  # noqa: BLE001 - yaml errors quote the card, keep only the kind
        raise InputError(f"the card's YAML metadata is invalid ({type(err).__name__})") from None


def _tags_of(content: str, card_type: str) -> list[str]:
    tags = _parse(content, card_type).data.get("tags")
    return [tags] if isinstance(tags, str) else list(tags or [])


def _read(path: Path) -> str | None:
    if not path.exists():
        return None
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return f.read()
    except UnicodeDecodeError:
        raise InputError(f"card is not UTF-8 text: {path.name}") from None
    except OSError as err:
        raise AccessError(f"cannot read card {path.name} ({type(err).__name__})") from None


def _write_atomic(path: Path, content: str) -> None:
    """Temporary file in the same folder, then `os.replace`: readers see the old card or the new one."""
    if not path.parent.is_dir():
        raise AccessError(f"card folder does not exist: {path.parent}")
    tmp = path.parent / f".hfanon-{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise AccessError(f"cannot write card {path.name} ({type(err).__name__})") from None


def _load_report(path: str | None, model, what: str):
    if not path:
        return None
    p = Path(path).expanduser()
    try:
        return model.model_validate_json(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} report not found: {p.name}") from None
    except (ValidationError, ValueError):
        raise InputError(f"not a {what} report (JSON of a {model.__name__}): {p.name}") from None
    except OSError as err:
        raise AccessError(f"cannot read {what} report {p.name} ({type(err).__name__})") from None


# ---- the section ----------------------------------------------------------------------------------------------
def render_section(scan_report: ScanReport | None, anon: AnonymizeReport | None, request: CardRequest) -> str:
    """The Markdown of the privacy section: deterministic for the same reports (no ids, times or speeds)."""
    upload = request.upload_scan
    first = scan_report or upload
    out = ["## Privacy and personal data", "",
           "Written by hf-anon-mcp from its scan and anonymization reports. It names entity types and counts "
           "only: no values or samples from the data appear here."]
    out += ["", "### What was scanned", "", "| Item | Value |", "| --- | --- |"]
    if first is not None:
        total = f" of {first.rows_total}" if first.rows_total and first.rows_total != first.rows_scanned else ""
        out.append(f"| Rows scanned | {first.rows_scanned}{total} |")
        out.append(f"| Text columns | {_codes(first.text_columns)} |")
    elif anon is not None:
        out.append(f"| Rows | {anon.rows_in} |")
        out.append(f"| Text columns | {_codes(anon.columns_anonymized)} |")
    det = first.detector if first is not None else anon.detector
    out += _detector_rows(det)

    out += ["", "### What was found", ""]
    found = scan_report or (upload if anon is None else None)
    if found is None:
        out.append("No scan report of the original data was provided.")
    else:
        out += _findings_table(found)

    out += ["", "### How it was treated", ""]
    if anon is None:
        out.append("No anonymization report was provided: the data was published as scanned.")
    else:
        out += _treatment(anon)

    out += ["", "### Verification re-scan", ""]
    if anon is not None:
        out.append(f"Residual risk after anonymization: **{anon.residual_risk.value}**"
                   + (f" ({_cell(anon.residual_note)})." if anon.residual_note else "."))
        rows = [(c.column, s.entity_type, s.count, c.risk.value) for c in anon.residual for s in c.entities]
        out += ["", *(_table(["Column", "Entity type", "Residual count", "Column risk"], rows) if rows
                      else ["The re-scan of the anonymized output found nothing."])]
    if upload is not None:
        if anon is not None:
            out.append("")
        rows = [(c.column, s.entity_type, s.count, c.risk.value) for c in upload.columns for s in c.entities]
        out.append(f"Pre-upload scan of the published files: overall risk **{upload.overall_risk.value}**.")
        out += ["", *(_table(["File / column", "Entity type", "Count", "Risk"], rows) if rows
                      else ["The pre-upload scan found nothing."])]
    if anon is None and upload is None:
        out.append("No verification re-scan was provided.")

    out += ["", "### Known limitations", ""]
    out += _limitations([d for d in (det, anon.detector if anon else None, upload.detector if upload else None) if d])

    out += ["", "### Differential privacy", ""]
    if request.differential_privacy is None:
        out.append("Not stated.")
    else:
        out.append("Differential privacy was used in training." if request.differential_privacy
                   else "Differential privacy was not used in training.")
    if request.differential_privacy_details:
        out.append(f"Details: {_cell(request.differential_privacy_details)}")

    if request.allow_residual_pii:
        out += ["", "### Publication override", "",
                "This dataset was pushed with `allow_residual_pii`: the uploader chose to publish although the "
                "pre-upload scan still reported high-risk findings (see above)."]
    return "\n".join(out) + "\n"


def _detector_rows(det: DetectorInfo) -> list[str]:
    model = f"`{det.model_name}` {det.model_version or ''}".strip() if det.model_name else "none (patterns only)"
    mode = "NER + patterns" if det.mode == "ner" else "patterns only"
    return [f"| Detector | Presidio {det.presidio_version} |", f"| NER model | {model} |",
            f"| Mode | {mode} |", f"| Language | {det.language} |", f"| Score threshold | {det.score_threshold} |"]


def _findings_table(report: ScanReport) -> list[str]:
    per: dict[str, list] = {}
    for col in report.columns:
        for s in col.entities:
            entry = per.setdefault(s.entity_type, [0, 0, []])
            entry[0] += s.count
            entry[1] += s.rows_affected
            entry[2].append(col.column)
    if not per:
        return [f"Nothing was found in {report.rows_scanned} rows (overall risk **{report.overall_risk.value}**)."]
    rows = [(e, n, r, _codes(cols)) for e, (n, r, cols) in sorted(per.items(), key=lambda kv: (-kv[1][0], kv[0]))]
    return [f"Overall risk before treatment: **{report.overall_risk.value}**.", "",
            *_table(["Entity type", "Count", "Rows affected", "Columns"], rows)]


def _treatment(anon: AnonymizeReport) -> list[str]:
    totals = anon.replaced_totals()
    entities = sorted(set(anon.operators) | set(totals))
    rows = [(e, anon.operators.get(e, anon.default_operator), totals.get(e, 0)) for e in entities]
    out = [f"Default operator: `{anon.default_operator}`.", ""]
    out += _table(["Entity type", "Operator", "Spans replaced"], rows) if rows else ["No spans were replaced."]
    out.append("")
    out.append(f"- Columns dropped: {_codes(anon.columns_dropped) if anon.columns_dropped else 'none'}")
    if anon.whole_cell_columns:
        whole = ", ".join(f"`{c}` ({e})" for c, e in sorted(anon.whole_cell_columns.items()))
        out.append(f"- Columns replaced as a whole: {whole}")
    if anon.columns_kept:
        out.append(f"- Columns kept unchanged by policy: {_codes(anon.columns_kept)}")
    if anon.surrogates_consistent:
        out.append("- Surrogates are consistent and keyed: the same value gets the same replacement everywhere, "
                   "derived with a secret key that is not published.")
    else:
        out.append("- No keyed consistent surrogates were used.")
    return out


def _limitations(detectors: list[DetectorInfo]) -> list[str]:
    out = ["- Detection is statistical: some personal data may have been missed and some text replaced needlessly.",
           "- Names and places in languages or scripts the NER model was not trained on are often missed "
           f"(model language: {detectors[0].language}).",
           "- Free-text quasi-identifiers (job titles, rare events, combinations of details) can still "
           "re-identify people even when no single entity is detected."]
    missing = sorted({e for d in detectors if d.mode != "ner" for e in d.cannot_detect})
    if missing:
        out.append(f"- Patterns-only mode was used: these entity types could not be detected: {', '.join(missing)}.")
    return out


def _table(header: list[str], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _codes(names: list[str]) -> str:
    return ", ".join(f"`{_cell(n)}`" for n in names) if names else "none"
