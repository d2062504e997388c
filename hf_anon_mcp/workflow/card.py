"""The card workflow: write the privacy section of a dataset or model card from scan / anonymize reports.

The text goes where the Hub's own card templates (shipped inside `huggingface_hub`) ask for it:
- a dataset card: under the template's "Personal and Sensitive Information" heading (inside "Dataset Creation"),
  replacing its "[More Information Needed]" placeholder; the heading is created where the template puts it when
  the card lacks it;
- a model card: a "Privacy and personal data" subsection under "Training Details" > "Training Data", plus one line
  in "Bias, Risks, and Limitations".
Each piece sits between stable markers, so writing it again replaces it in place and leaves every other section
byte-identical; the YAML metadata gets privacy tags merged in (and is left as it was when it already has them).
The text holds entity types, counts, columns, operators and the detectors, never values, samples or keys: cards
are public documents even on private repos.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from hf_anon_mcp.entity_names import canonical_anonymize, canonical_scan
from hf_anon_mcp.errors import AccessError, InputError
from hf_anon_mcp.headers import NO_NAMES, detectors_of, finds_names, profile_of
from hf_anon_mcp.hub.models import CardRequest, CardResult
from hf_anon_mcp.models import AnonymizeReport, DetectorInfo, ScanReport

log = logging.getLogger("hf_anon_mcp.card")

START = "<!-- hf-anon-mcp:privacy:start -->"
END = "<!-- hf-anon-mcp:privacy:end -->"
RISK_START = "<!-- hf-anon-mcp:privacy-risk:start -->"
RISK_END = "<!-- hf-anon-mcp:privacy-risk:end -->"
TAG_REVIEWED = "privacy-reviewed"
TAG_ANONYMIZED = "pii-anonymized"
PLACEHOLDER = "[More Information Needed]"  # the templates' empty-section text
# The templates' headings this module writes under (tests check them against the installed templates).
DATASET_HEADING = "Personal and Sensitive Information"
MODEL_HEADING = "Training Data"
MODEL_RISK_HEADING = "Bias, Risks, and Limitations"
MODEL_SUBSECTION = "Privacy and personal data"


def write_card_section(request: CardRequest, extra_lines: list[str] | None = None) -> CardResult:
    """Write (or replace) the privacy section of the card at `request.card_path`, atomically.

    `extra_lines` (Markdown) are appended to the section, e.g. the leak audit's `audit_card_lines(report)`.

    >>> result = write_card_section(CardRequest(card_path="out/README.md", scan_report_path="scan.json",
    ...                                         anonymize_report_path="anon.json"))
    >>> result.tags, result.changed
    (['pii-anonymized', 'privacy-reviewed'], True)
    """
    scan_report = request.scan_report or _load_report(request.scan_report_path, ScanReport, "scan")
    anon_report = request.anonymize_report or _load_report(request.anonymize_report_path, AnonymizeReport,
                                                           "anonymize")
    audit_report = _load_audit(request.audit_report_path)
    if scan_report is None and anon_report is None and request.upload_scan is None and audit_report is None:
        raise InputError("give a scan report, an anonymize report and/or an audit report to describe in the card")
    path = Path(request.card_path).expanduser()
    if path.is_dir():
        path = path / "README.md"
    old = _read(path)
    level = _section_level(old, request.card_type)
    if audit_report is not None:
        extra_lines = [*(extra_lines or []), *_at_level(_audit_lines(audit_report), level + 1)]
    section = render_section(scan_report, anon_report, request, level=level, extra_lines=extra_lines)
    risk = risk_line(anon_report) if request.card_type == "model" else None
    new = merge_card(old, section, card_type=request.card_type, anonymized=anon_report is not None, risk=risk)
    changed = new != old
    if changed:
        _write_atomic(path, new)
    return CardResult(path=str(path), card_type=request.card_type, section_markdown=section,
                      tags=_tags_of(new, request.card_type), changed=changed)


# ---- card text ----------------------------------------------------------------------------------------------
def merge_card(old: str | None, section: str, *, card_type: str, anonymized: bool, risk: str | None = None) -> str:
    """The card text with `section` under the template's heading (replaced in place when already there) and privacy
    tags merged into the YAML metadata; `risk` (model cards) is the line for "Bias, Risks, and Limitations"."""
    content = old if old is not None else _minimal(card_type)
    crlf = "\r\n" in content  # keep the card's line endings: work on \n, restore at the end
    card = _parse(content.replace("\r\n", "\n"), card_type)
    tags = card.data.get("tags")
    tags = [tags] if isinstance(tags, str) else list(tags or [])
    wanted = [t for t in ([TAG_ANONYMIZED] if anonymized else []) + [TAG_REVIEWED] if t not in tags]
    text = card.text
    if card_type == "model":
        body = f"{_heading(_anchor_level(text, card_type) + 1, MODEL_SUBSECTION)}\n\n{section.strip()}"
    else:
        body = section.strip()
    text = _place(text, START, END, body, card_type, MODEL_HEADING if card_type == "model" else DATASET_HEADING,
                  replace_placeholder=card_type != "model")
    if risk is not None:
        text = _place(text, RISK_START, RISK_END, risk, card_type, MODEL_RISK_HEADING, replace_placeholder=True)
    if wanted:
        card.data["tags"] = tags + wanted
        card.text = text
        new = str(card)
    else:  # the metadata already has the tags: keep its bytes (comments, quoting, order) exactly
        yaml_block = _yaml_block(content.replace("\r\n", "\n"))
        new = (yaml_block + text) if yaml_block else _with_text(card, text)
    return new.replace("\n", "\r\n") if crlf else new


def _with_text(card, text: str) -> str:
    card.text = text
    return str(card)


def _yaml_block(content: str) -> str:
    from huggingface_hub.repocard import REGEX_YAML_BLOCK

    match = REGEX_YAML_BLOCK.search(content)
    return content[:match.end()] if match else ""


# ---- where the text goes: the Hub's card templates ------------------------------------------------------------
@dataclass
class _Heading:
    level: int
    title: str  # normalised: lower case, no "[optional]", single spaces
    start: int  # offset of the heading line
    end: int  # offset just after the heading line (and its newline)


@lru_cache(maxsize=2)
def template_headings(card_type: str) -> tuple[tuple[int, str], ...]:
    """(level, normalised title) of every heading of the Hub's card template, in order (the installed
    `huggingface_hub`'s `datasetcard_template.md` / `modelcard_template.md`)."""
    from huggingface_hub import repocard

    path = repocard.TEMPLATE_MODELCARD_PATH if card_type == "model" else repocard.TEMPLATE_DATASETCARD_PATH
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\s*---\n.*?\n---\n", text, re.S)  # the YAML block's comment lines are no headings
    return tuple((h.level, h.title) for h in _headings(text[match.end() if match else 0:]))


_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
_FENCE = re.compile(r"^(```|~~~)", re.M)


def _norm(title: str) -> str:
    title = re.sub(r"\[optional\]|\{\{.*?\}\}", "", title, flags=re.I)
    return " ".join(title.lower().split()).strip(" :.")


def _headings(text: str) -> list[_Heading]:
    """ATX headings outside fenced code and outside our own marker blocks."""
    hidden = _fences(text)
    for start, end in ((START, END), (RISK_START, RISK_END)):
        i = text.find(start)
        j = text.find(end, i + 1) if i != -1 else -1
        if i != -1 and j != -1:
            hidden.append((i, j + len(end)))
    out = []
    for m in _HEADING.finditer(text):
        if any(a <= m.start() < b for a, b in hidden):
            continue
        end = m.end() + 1 if m.end() < len(text) and text[m.end()] == "\n" else m.end()
        out.append(_Heading(len(m.group(1)), _norm(m.group(2)), m.start(), end))
    return out


def _fences(text: str) -> list[tuple[int, int]]:
    """Spans of fenced code blocks (``` or ~~~ ... the same fence)."""
    spans, open_at, marker = [], None, ""
    for m in _FENCE.finditer(text):
        if open_at is None:
            open_at, marker = m.start(), m.group(1)
        elif m.group(1) == marker:
            spans.append((open_at, m.end()))
            open_at = None
    if open_at is not None:
        spans.append((open_at, len(text)))
    return spans


def _section_end(text: str, headings: list[_Heading], heading: _Heading) -> int:
    """Where the section under `heading` ends: the next heading of the same or a higher level, or the end."""
    return next((h.start for h in headings if h.start > heading.start and h.level <= heading.level), len(text))


def _find(headings: list[_Heading], title: str) -> _Heading | None:
    return next((h for h in headings if h.title == _norm(title)), None)


def _anchor_level(text: str, card_type: str) -> int:
    """The level of the heading our text goes under (the card's own, else the template's)."""
    title = MODEL_HEADING if card_type == "model" else DATASET_HEADING
    found = _find(_headings(text), title)
    if found is not None:
        return found.level
    return next(level for level, t in template_headings(card_type) if t == _norm(title))


def _section_level(old: str | None, card_type: str) -> int:
    """The heading level of the section's own subsections' parent (see `render_section`)."""
    text = _parse(old, card_type).text if old is not None else ""
    level = _anchor_level(text.replace("\r\n", "\n"), card_type)
    return level + 1 if card_type == "model" else level


def _place(text: str, start: str, end: str, body: str, card_type: str, title: str, *,
           replace_placeholder: bool) -> str:
    """`text` with `body` between the markers `start`/`end` in the section headed `title`.

    Already there: replaced in place. Elsewhere (an older card kept it at the end): moved. The heading missing:
    created where the card template puts it, with its parent heading when that is missing too."""
    block = f"{start}\n{body.strip()}\n{end}"
    i = text.find(start)
    j = text.find(end, i + 1) if i != -1 else -1
    if (i == -1) != (j == -1) or (i == -1 and text.find(end) != -1):
        raise InputError("the card has a broken privacy section (one marker without the other): fix it by hand")
    if i != -1:
        governing = [h for h in _headings(text) if h.start < i]
        if governing and governing[-1].title == _norm(title):
            return text[:i] + block + text[j + len(end):]
        text = _cut(text, i, j + len(end))  # in the wrong place (e.g. appended by an older version): move it
    headings = _headings(text)
    anchor = _find(headings, title)
    if anchor is not None:
        stop = _section_end(text, headings, anchor)
        own = text[anchor.end:stop]
        if replace_placeholder and PLACEHOLDER in own and _only_placeholder(own):
            k = anchor.end + own.index(PLACEHOLDER)
            return text[:k] + block + text[k + len(PLACEHOLDER):]
        first_sub = next((h.start for h in headings if anchor.end <= h.start < stop), stop)
        return _insert(text, first_sub, block)
    return _create(text, card_type, title, block)


def _only_placeholder(own: str) -> bool:
    """The section holds nothing but template comments and the placeholder (up to its first subheading)."""
    head = _HEADING.split(own, maxsplit=1)[0] if _HEADING.search(own) else own
    rest = re.sub(r"<!--.*?-->", "", head, flags=re.S).replace(PLACEHOLDER, "")
    return not rest.strip()


def _create(text: str, card_type: str, title: str, block: str) -> str:
    """Add the heading `title` with `block` where the template puts it: inside its top-level (`##`) section, before
    the first heading the template puts after it, else at the end of that section; with the top-level heading
    too when the card lacks it. (The template nests "Personal and Sensitive Information" under "Annotations
    [optional]" in "Dataset Creation"; an Annotations heading is not invented to hold it.)"""
    template = list(template_headings(card_type))
    idx = next(k for k, (_, t) in enumerate(template) if t == _norm(title))
    level = template[idx][0]
    new = f"{_heading(level, _title_case(card_type, idx))}\n\n{block}"
    top = next((k for k in range(idx - 1, -1, -1) if template[k][0] == 2), None) if level > 2 else None
    if top is None:
        return _create_top(text, card_type, idx, new)
    headings = _headings(text)
    found = _find(headings, template[top][1])
    if found is None:
        return _create_top(text, card_type, top, f"{_heading(2, _title_case(card_type, top))}\n\n{new}")
    stop = _section_end(text, headings, found)
    later = {t for _, t in template[idx + 1:]}
    before = next((h.start for h in headings if found.end <= h.start < stop and h.title in later), stop)
    return _insert(text, before, new)


def _create_top(text: str, card_type: str, idx: int, new: str) -> str:
    """Insert `new` (a section at template position `idx`) before the first card heading the template puts after
    it at the same or a higher level, else at the end."""
    template = list(template_headings(card_type))
    level = template[idx][0]
    later = {t for lv, t in template[idx + 1:] if lv <= level}
    before = next((h.start for h in _headings(text) if h.title in later and h.level <= level), len(text))
    return _insert(text, before, new)


def _title_case(card_type: str, idx: int) -> str:
    """The template's heading text as written (without "[optional]")."""
    from huggingface_hub import repocard

    path = repocard.TEMPLATE_MODELCARD_PATH if card_type == "model" else repocard.TEMPLATE_DATASETCARD_PATH
    raw = path.read_text(encoding="utf-8")
    match = re.match(r"\s*---\n.*?\n---\n", raw, re.S)
    titles = [m.group(2) for m in _HEADING.finditer(raw[match.end() if match else 0:])]
    return re.sub(r"\s*\[optional\]", "", titles[idx], flags=re.I).strip()


def _insert(text: str, at: int, piece: str) -> str:
    """`piece` as its own paragraph at offset `at` (the start of a line, or the end of the text)."""
    before, after = text[:at], text[at:]
    if at >= len(text.rstrip()):  # at the end: one blank line before, a newline after
        body = before.rstrip()
        return (body + "\n\n" if body else "\n") + piece + "\n"
    lead = "" if before.endswith("\n\n") or not before else ("\n" if before.endswith("\n") else "\n\n")
    return before + lead + piece + "\n\n" + after


def _cut(text: str, i: int, j: int) -> str:
    """Remove text[i:j] and the blank line that set it apart."""
    before, after = text[:i], text[j:]
    if after.startswith("\n"):
        after = after[1:]
    if before.endswith("\n\n") and (not after or after.startswith("\n") or not after.strip()):
        before = before[:-1]
    return before + after


def _heading(level: int, title: str) -> str:
    return f"{'#' * level} {title}" if level <= 6 else f"**{title}**"


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
        a, a_model = ("an" if w[0].lower() in "aeiou" else "a" for w in (what, model.__name__))
        raise InputError(f"not {a} {what} report (JSON of {a_model} {model.__name__}): {p.name}") from None
    except OSError as err:
        raise AccessError(f"cannot read {what} report {p.name} ({type(err).__name__})") from None


def _load_audit(path: str | None):
    """The leak audit's report (`audit --json`), or None. Imported here: the audit package's models need no torch."""
    if not path:
        return None
    from hf_anon_mcp.audit.models import AuditReport

    return _load_report(path, AuditReport, "audit")


def _audit_lines(report) -> list[str]:
    from hf_anon_mcp.audit.card import audit_card_lines

    return audit_card_lines(report)


def _at_level(lines: list[str], level: int) -> list[str]:
    """Headings of `lines` moved to `level` (the audit writes `###`; the section may sit deeper)."""
    return [("#" * level + line.lstrip("#")) if line.startswith("#") else line for line in lines]


# ---- the section ----------------------------------------------------------------------------------------------
def render_section(scan_report: ScanReport | None, anon: AnonymizeReport | None, request: CardRequest, *,
                   level: int = 2, extra_lines: list[str] | None = None) -> str:
    """The Markdown of the privacy section: deterministic for the same reports (no ids, times or speeds).

    Its subsections are headings of `level + 1` (it sits under a heading of `level`); `extra_lines` are appended
    as they are (the hook for other reports, e.g. the leak audit's `audit_card_lines(report)`).
    """
    scan_report = canonical_scan(scan_report) if scan_report is not None else None
    anon = canonical_anonymize(anon) if anon is not None else None
    upload = canonical_scan(request.upload_scan) if request.upload_scan is not None else None
    first = scan_report or upload
    sub = level + 1
    if first is None and anon is None:  # a model card with the leak audit alone
        return "\n".join(["Privacy and personal data, written by hf-anon-mcp from its leak audit of this model. It "
                          "names counts and figures only: no values from the data or the canaries appear here.",
                          "", *(extra_lines or [])]) + "\n"
    out = ["Privacy and personal data, written by hf-anon-mcp from its scan and anonymization reports. It names "
           "entity types and counts only: no values or samples from the data appear here."]
    out += ["", _heading(sub, "What was scanned"), "", "| Item | Value |", "| --- | --- |"]
    if first is not None:
        total = f" of {first.rows_total}" if first.rows_total and first.rows_total != first.rows_scanned else ""
        out.append(f"| Rows scanned | {first.rows_scanned}{total} |")
        out.append(f"| Text columns | {_codes(first.text_columns)} |")
    elif anon is not None:
        out.append(f"| Rows | {anon.rows_in} |")
        out.append(f"| Text columns | {_codes(anon.columns_anonymized)} |")
    det = first.detector if first is not None else anon.detector
    out += _detector_rows(det)

    out += ["", _heading(sub, "What was found"), ""]
    found = scan_report or (upload if anon is None else None)
    if found is None:
        out.append("No scan report of the original data was provided.")
    else:
        out += _findings_table(found)

    out += ["", _heading(sub, "How it was treated"), ""]
    if anon is None:
        out.append("No anonymization report was provided: the data was published as scanned.")
    else:
        out += _treatment(anon)

    out += ["", _heading(sub, "Verification re-scan"), ""]
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

    out += ["", _heading(sub, "Known limitations"), ""]
    out += _limitations([d for d in (det, anon.detector if anon else None, upload.detector if upload else None) if d])

    out += ["", _heading(sub, "Differential privacy"), ""]
    if request.differential_privacy is None:
        out.append("Not stated.")
    else:
        out.append("Differential privacy was used in training." if request.differential_privacy
                   else "Differential privacy was not used in training.")
    if request.differential_privacy_details:
        out.append(f"Details: {_cell(request.differential_privacy_details)}")

    if request.allow_residual_pii:
        out += ["", _heading(sub, "Publication override"), "",
                "This dataset was pushed with `allow_residual_pii`: the uploader chose to publish although the "
                "pre-upload scan still reported high-risk findings (see above)."]
    if extra_lines:
        out += ["", *extra_lines]
    return "\n".join(out) + "\n"


def risk_line(anon: AnonymizeReport | None) -> str:
    """The model card's line in "Bias, Risks, and Limitations" (one line, no values)."""
    if anon is None:
        treated = "was scanned for personal data and secrets by hf-anon-mcp but not anonymized"
    else:
        anon = canonical_anonymize(anon)
        treated = (f"was anonymized by hf-anon-mcp (residual risk after anonymization: {anon.residual_risk.value})")
    names = "" if finds_names(anon.detector if anon else _NO_DETECTOR) else f"; {NO_NAMES}"
    return (f"- **Personal data in the training data**: the training data {treated}{names}. Automated detection "
            f"misses some personal data, so the model may still have memorised some; see "
            f"\"{MODEL_SUBSECTION}\" under Training Details.")


_NO_DETECTOR = DetectorInfo(presidio_version="", mode="ner", score_threshold=0.0)


def _detector_rows(det: DetectorInfo) -> list[str]:
    names = "yes" if finds_names(det) else f"**no**: {NO_NAMES}"
    return [f"| Profile | {profile_of(det)} |", f"| Detectors | {_cell(', '.join(detectors_of(det)))} |",
            f"| Names, places, organisations | {names} |", f"| Language | {det.language} |",
            f"| Score threshold | {det.score_threshold} |"]


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
    out.append(f"- Policy: `{anon.policy_level}` (direct identifiers, dates of birth and secrets replaced"
               + ("; quasi-identifiers too" if anon.policy_level == "strict" else "") + ")"
               + ("; **credentials were kept on purpose** (`keep_secrets: true`)" if anon.secrets_kept else ""))
    if anon.column_decisions:
        kinds = ", ".join(f"`{d.column}` {d.kind}" for d in anon.column_decisions[:20])
        out.append(f"- Column types decided from the whole dataset: {kinds}")
    if anon.kept_frequent_terms:
        out.append(f"- {len(anon.kept_frequent_terms)} frequent terms (products, the company, template phrases) "
                   "were recognised as the dataset's own vocabulary and kept")
    if anon.canaries_planted:
        out.append(f"- {anon.canaries_planted} synthetic canary records were planted ({anon.canary_rows} rows) to "
                   "audit models trained on this data; their values are not published")
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
    missing = sorted({e for d in detectors for e in d.cannot_detect})
    if missing or not all(finds_names(d) for d in detectors):
        out.append(f"- The fast profile (patterns only, no NER) was used: {NO_NAMES}"
                   + (f"; these entity types could not be detected: {', '.join(missing)}." if missing else "."))
    return out


def _table(header: list[str], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _codes(names: list[str]) -> str:
    return ", ".join(f"`{_cell(n)}`" for n in names) if names else "none"
