"""Score anonymized copies of `finetune_gen.py` data against its truth, with issue 19's targets.

    python bench/finetune_score.py ORIGINAL_DIR OUTPUT_DIR            # outputs named tickets.*, chats.*, ...
    python bench/finetune_score.py ORIGINAL_DIR out/tickets.anon.csv out/chats.anon.jsonl --json
    python bench/finetune_score.py ORIGINAL_DIR OUTPUT_DIR --entities PERSON,EMAIL_ADDRESS   # a narrower policy

Outputs are matched to formats by their file name's start (`tickets`, `chats`, `instructions`); they may be CSV,
JSONL, Parquet or a `save_to_disk` folder, and must hold the same rows in the same order.

What is measured, per format and overall (black box: only the files are read):

- **rows keeping a direct identifier**: a row counts when any truth value of the row is found anywhere in its output
  row (all cells, every string nested in them). Names: the full name, and the first and last name alone (parts of 3+
  letters; parts that are also words of the generator's templates are not checked alone), whole word,
  case-insensitive. Emails: the address and its local part (3+ characters), whole word. Phones and cards: their
  digits, whatever the separators around them. Street (the street line), date of birth: whole phrase. Secrets: the
  exact string. Share of the rows that hold at least one identifier in the original.
- **words lost in PII-free rows**: their free-text cells (chat message contents included) aligned word by word
  (`difflib` on whitespace tokens); the share of original words with no counterpart in the output. The same share
  is given for the non-PII words of rows with PII (words that overlap no truth span), as information.
- **protected cells changed**: id, SKU, label and timestamp columns must come out equal, cell by cell.
- **structured PII cells not replaced**: every cell of `customer_name`, `email`, `phone` must be replaced; a cell
  counts as not replaced when it is unchanged or still holds its value (or a name part, the local part, the digits).
- **chat rows with broken structure**: a different number of messages, other roles or order, other keys.
- **secrets left**: truth secrets found verbatim in the output row; 0 under every policy.

`--entities A,B` narrows the identifiers checked to those types (secrets are always checked), for a policy that
names only them.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

FORMATS = ("tickets", "chats", "instructions")
DATA_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet")
PROTECTED_ROLES = ("id", "sku", "label", "timestamp")
TEXT_ROLES = ("free_text", "chat")

TARGETS = [
    # (key in the figures, label, comparison, bound, how it is printed)
    ("leak_share", "rows keeping a direct identifier", "<=", 0.02, "share"),
    ("pii_free_words_lost", "PII-free rows: words lost", "<=", 0.01, "share"),
    ("protected_cells_changed", "id/SKU/label/timestamp cells changed", "==", 0, "count"),
    ("structured_cells_not_replaced", "structured PII cells not replaced", "==", 0, "count"),
    ("chat_rows_broken", "chat rows with broken structure", "==", 0, "count"),
    ("secrets_left", "secrets left", "==", 0, "count"),
]


class ScoreError(Exception):
    """A missing or unreadable file, or an output that does not line up with its original."""


# ---- reading -----------------------------------------------------------------------------------------------------


def read_rows(path: Path) -> list[dict]:
    """Rows of a CSV (all cells as strings), JSONL, Parquet file or `save_to_disk` folder."""
    if path.is_dir():
        from datasets import load_from_disk

        ds = load_from_disk(str(path))
        return ds.to_list() if hasattr(ds, "to_list") else ds[next(iter(ds))].to_list()
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    if suffix in (".jsonl", ".json"):
        with path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    raise ScoreError(f"unsupported file type: {path.name}")


def find_outputs(paths: list[Path]) -> dict[str, Path]:
    """Map each format to its output file: given files by name, or the files of a given folder."""
    found: dict[str, Path] = {}

    def take(p: Path) -> None:
        fmt = next((f for f in FORMATS if p.name.startswith(f)), None)
        if fmt is None or p.name.endswith(".truth.jsonl") or p.name.startswith("."):
            return
        if not (p.suffix.lower() in DATA_SUFFIXES or (p.is_dir() and (p / "dataset_info.json").exists())):
            return
        if fmt in found and found[fmt] != p:
            raise ScoreError(f"two outputs for {fmt}: {found[fmt].name} and {p.name}")
        found[fmt] = p

    for path in paths:
        if not path.exists():
            raise ScoreError(f"no such output: {path}")
        if path.is_dir() and not (path / "dataset_info.json").exists():
            for child in sorted(path.iterdir()):
                take(child)
        else:
            take(path)
    return found


def strings_in(value):
    """Every string inside a cell, depth first (dict values only)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings_in(v)


def as_text(value) -> str:
    """A cell as one comparable string (None and '' alike: CSV cannot tell them apart)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def messages_of(value) -> list | None:
    """A chat cell as a list of messages (a JSON string is parsed, as CSV outputs hold it), or None."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, list) else None


def cell_at(row: dict, loc: str):
    """`body` or `messages.2.content`: the value at a truth location, or None."""
    head, *rest = loc.split(".")
    value = row.get(head)
    if rest:
        value = messages_of(value)
        try:
            value = value[int(rest[0])][rest[1]]
        except (TypeError, IndexError, KeyError, ValueError):
            return None
    return value


# ---- needles -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Needle:
    """One value whose presence in an output row counts as a leak."""

    kind: str  # person_full, person_first, person_last, email, email_local, phone, card, address, dob, secret
    entity: str
    value: str

    def found_in(self, text: str, digit_runs: list[str]) -> bool:
        if self.kind in ("phone", "card"):
            return any(self.value in run for run in digit_runs)
        if self.kind == "secret":
            return self.value in text
        return _word_pattern(self.value).search(text) is not None


_PATTERNS: dict[str, re.Pattern] = {}


def _word_pattern(value: str) -> re.Pattern:
    pat = _PATTERNS.get(value)
    if pat is None:
        body = r"\s+".join(re.escape(part) for part in value.split())
        pat = _PATTERNS[value] = re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)
    return pat


_DIGIT_RUN = re.compile(r"\d(?:[\d\s().\-/+]*\d)?")


def digit_runs(text: str) -> list[str]:
    """Digit sequences with their separators removed: a number is found however it is written."""
    return [re.sub(r"\D", "", m.group()) for m in _DIGIT_RUN.finditer(text)]


def needles(entry: dict) -> list[Needle]:
    """The values of one truth entry that must not survive."""
    kind, value = entry["type"], entry["value"]
    if kind == "PERSON":
        ambiguous = {a.lower() for a in entry.get("ambiguous", [])}
        first, last = entry["first"], entry["last"]
        out = [Needle("person_full", kind, f"{first} {last}")]
        if len(first) >= 3 and first.lower() not in ambiguous:
            out.append(Needle("person_first", kind, first))
        parts = [last] + [p for p in re.findall(r"[^\W\d_]+", last) if p[0].isupper() and p != last]
        out += [Needle("person_last", kind, p) for p in parts if len(p) >= 3 and p.lower() not in ambiguous]
        if value.lower() != f"{first} {last}".lower() and len(value.split()) > 1:
            out.append(Needle("person_full", kind, value))  # "Novak, Roman", "R. Novak"
        return out
    if kind == "EMAIL_ADDRESS":
        local = value.split("@", 1)[0]
        return [Needle("email", kind, value)] + ([Needle("email_local", kind, local)] if len(local) >= 3 else [])
    if kind in ("PHONE_NUMBER", "CREDIT_CARD"):
        return [Needle("phone" if kind == "PHONE_NUMBER" else "card", kind, entry["digits"])]
    if kind == "STREET_ADDRESS":
        return [Needle("address", kind, entry.get("street") or value)]
    if kind == "DATE_OF_BIRTH":
        return [Needle("dob", kind, value)]
    if kind == "SECRET":
        return [Needle("secret", kind, value)]
    return [Needle(kind.lower(), kind, value)]


# ---- scoring -----------------------------------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def _lost(orig: str, out: str, spans: list[dict] | None = None) -> tuple[int, int]:
    """(non-PII words lost, non-PII words) for one cell: words aligned with difflib on whitespace tokens."""
    toks = _tokens(orig)
    if spans:
        keep = [not any(t[1] < s["end"] and s["start"] < t[2] for s in spans) for t in toks]
    else:
        keep = [True] * len(toks)
    matcher = difflib.SequenceMatcher(None, [t[0] for t in toks], out.split(), autojunk=False)
    matched = [False] * len(toks)
    for block in matcher.get_matching_blocks():
        for i in range(block.a, block.a + block.size):
            matched[i] = True
    total = sum(keep)
    return sum(1 for k, m in zip(keep, matched) if k and not m), total


def text_cells(fmt_columns: dict, orig: dict, out: dict) -> list[tuple[str, str, str]]:
    """(location, original text, output text) for every free-text cell of a row, chat contents one by one."""
    cells = []
    for col, info in fmt_columns.items():
        if info["role"] == "free_text":
            cells.append((col, as_text(orig.get(col)), as_text(out.get(col))))
        elif info["role"] == "chat":
            o_msgs, a_msgs = messages_of(orig.get(col)) or [], messages_of(out.get(col))
            if a_msgs is not None and len(a_msgs) == len(o_msgs):
                for i, (o, a) in enumerate(zip(o_msgs, a_msgs)):
                    a_content = a.get("content") if isinstance(a, dict) else None
                    cells.append((f"{col}.{i}.content", as_text(o.get("content")), as_text(a_content)))
            else:  # structure broken: compare all contents as one text
                joined = "\n".join(as_text(m.get("content")) for m in o_msgs)
                cells.append((col, joined, "\n".join(strings_in(a_msgs or out.get(col)))))
    return cells


def chat_intact(orig_value, out_value) -> bool:
    o, a = messages_of(orig_value), messages_of(out_value)
    if o is None or a is None or len(o) != len(a):
        return False
    return all(isinstance(y, dict) and sorted(x) == sorted(y) and x.get("role") == y.get("role")
               for x, y in zip(o, a))


def score_format(fmt: str, info: dict, originals: list[dict], truth: list[dict], outputs: list[dict],
                 entities: set[str] | None) -> dict:
    """All figures of one format."""
    if len(outputs) != len(originals):
        raise ScoreError(f"{fmt}: {len(outputs)} output rows for {len(originals)} original rows")
    columns = info["columns"]
    missing = [c for c in columns if outputs and c not in outputs[0]]
    if missing:
        raise ScoreError(f"{fmt}: output lacks column(s) {', '.join(missing)}")

    def wanted(entity: str) -> bool:
        return entity == "SECRET" or entities is None or entity in entities

    res = {
        "rows": len(originals), "rows_with_identifiers": 0, "rows_leaking": 0, "leaks_by_kind": {},
        "pii_free_rows": 0, "pii_free_words": 0, "pii_free_words_lost": 0, "pii_free_rows_touched": 0,
        "pii_rows_other_words": 0, "pii_rows_other_words_lost": 0,
        "protected_cells_changed": 0, "protected_changed_by_column": {},
        "structured_cells": 0, "structured_cells_unchanged": 0, "structured_cells_not_replaced": 0,
        "structured_not_replaced_by_column": {}, "chat_rows": 0, "chat_rows_broken": 0,
        "secrets": 0, "secrets_left": 0, "secrets_left_by_provider": {},
    }
    for orig, out, t in zip(originals, outputs, truth):
        # direct identifiers anywhere in the output row
        row_text = "\n".join(s for v in out.values() for s in strings_in(v))
        runs = digit_runs(row_text)
        row_needles = {n for entries in t["cells"].values() for e in entries for n in needles(e) if wanted(n.entity)}
        if row_needles:
            res["rows_with_identifiers"] += 1
            kinds = sorted({n.kind for n in row_needles if n.found_in(row_text, runs)})
            if kinds:
                res["rows_leaking"] += 1
                for k in kinds:
                    res["leaks_by_kind"][k] = res["leaks_by_kind"].get(k, 0) + 1
        for entries in t["cells"].values():
            for e in entries:
                if e["type"] == "SECRET":
                    res["secrets"] += 1
                    if e["value"] in row_text:
                        res["secrets_left"] += 1
                        p = e.get("provider", "?")
                        res["secrets_left_by_provider"][p] = res["secrets_left_by_provider"].get(p, 0) + 1
        # words
        touched = False
        for loc, o_text, a_text in text_cells(columns, orig, out):
            lost, total = _lost(o_text, a_text, t["cells"].get(loc))
            touched = touched or o_text != a_text
            if t["pii_free"]:
                res["pii_free_words"] += total
                res["pii_free_words_lost"] += lost
            else:
                res["pii_rows_other_words"] += total
                res["pii_rows_other_words_lost"] += lost
        if t["pii_free"]:
            res["pii_free_rows"] += 1
            res["pii_free_rows_touched"] += touched
        # columns by role
        for col, cinfo in columns.items():
            role = cinfo["role"]
            if role in PROTECTED_ROLES and as_text(orig[col]) != as_text(out[col]):
                res["protected_cells_changed"] += 1
                res["protected_changed_by_column"][col] = res["protected_changed_by_column"].get(col, 0) + 1
            elif role == "structured_pii" and wanted(cinfo["entity"]):
                res["structured_cells"] += 1
                o_text, a_text = as_text(orig[col]), as_text(out[col])
                unchanged = o_text == a_text
                kept = unchanged or any(n.found_in(a_text, digit_runs(a_text))
                                        for e in t["cells"].get(col, []) for n in needles(e))
                res["structured_cells_unchanged"] += unchanged
                if kept:
                    res["structured_cells_not_replaced"] += 1
                    by_col = res["structured_not_replaced_by_column"]
                    by_col[col] = by_col.get(col, 0) + 1
            elif role == "chat":
                res["chat_rows"] += 1
                res["chat_rows_broken"] += not chat_intact(orig[col], out[col])
    return _shares(res)


def _shares(res: dict) -> dict:
    def share(a: str, b: str) -> float | None:
        return res[a] / res[b] if res[b] else None

    res["leak_share"] = share("rows_leaking", "rows_with_identifiers")
    res["leak_share_all_rows"] = share("rows_leaking", "rows")
    res["pii_free_words_lost_share"] = share("pii_free_words_lost", "pii_free_words")
    res["pii_rows_other_words_lost_share"] = share("pii_rows_other_words_lost", "pii_rows_other_words")
    return res


def combine(per_format: dict[str, dict]) -> dict:
    """Overall figures: counts summed over formats, shares recomputed from the sums."""
    total: dict = {}
    for res in per_format.values():
        for key, value in res.items():
            if isinstance(value, dict):
                bucket = total.setdefault(key, {})
                for k, v in value.items():
                    bucket[k] = bucket.get(k, 0) + v
            elif isinstance(value, int) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    return _shares(total)


def target_value(res: dict, key: str):
    return res["pii_free_words_lost_share"] if key == "pii_free_words_lost" else res.get(key)


def verdicts(res: dict) -> list[dict]:
    out = []
    for key, label, op, bound, kind in TARGETS:
        value = target_value(res, key)
        if key == "chat_rows_broken" and not res.get("chat_rows"):
            value = None
        if value is None:
            ok = None
        else:
            ok = value <= bound if op == "<=" else value == bound
        out.append({"key": key, "label": label, "value": value, "target": f"{op} {bound}", "pass": ok})
    return out


def score(original_dir: Path, outputs: list[Path], entities: set[str] | None = None) -> dict:
    """Score every format that has an output; the result holds all figures (what `--json` prints)."""
    manifest_path = original_dir / "manifest.json"
    if not manifest_path.exists():
        raise ScoreError(f"no manifest.json in {original_dir} (write it with bench/finetune_gen.py)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    found = find_outputs(outputs)
    per_format = {}
    for fmt, info in manifest["formats"].items():
        if fmt not in found:
            continue
        originals = read_rows(original_dir / info["file"])
        with (original_dir / info["truth"]).open(encoding="utf-8") as fh:
            truth = [json.loads(line) for line in fh]
        per_format[fmt] = score_format(fmt, info, originals, truth, read_rows(found[fmt]), entities)
        per_format[fmt]["output"] = str(found[fmt])
    if not per_format:
        raise ScoreError("no output matches a format of the manifest (names must start with "
                         + ", ".join(manifest["formats"]) + ")")
    overall = combine({k: {kk: vv for kk, vv in v.items() if kk != "output"} for k, v in per_format.items()})
    return {
        "original_dir": str(original_dir), "entities": sorted(entities) if entities else None,
        "formats": per_format, "missing_formats": [f for f in manifest["formats"] if f not in found],
        "overall": overall, "targets": verdicts(overall),
        "targets_per_format": {fmt: verdicts(res) for fmt, res in per_format.items()},
    }


# ---- printing ----------------------------------------------------------------------------------------------------


def _fmt_share(num: int, den: int) -> str:
    return f"{num / den:6.2%} ({num}/{den})" if den else "n/a"


def _mark(ok) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def table(result: dict, title: str | None = None) -> str:
    fmts = list(result["formats"])
    cols = fmts + ["overall"]
    data = {**result["formats"], "overall": result["overall"]}
    lines = []
    if title:
        lines.append(title)
    if result.get("entities"):
        lines.append(f"identifiers checked: {', '.join(result['entities'])} (+ secrets, always)")
    if result.get("missing_formats"):
        lines.append(f"no output for: {', '.join(result['missing_formats'])}")
    width = 24
    head = f"{'':42}" + "".join(f"{c:>{width}}" for c in cols) + f"{'target':>10}  verdict"
    lines.append(head)
    rows = [
        ("rows keeping a direct identifier", "rows_leaking", "rows_with_identifiers", "leak_share"),
        ("PII-free rows: words lost", "pii_free_words_lost", "pii_free_words", "pii_free_words_lost"),
        ("id/SKU/label/timestamp cells changed", "protected_cells_changed", None, "protected_cells_changed"),
        ("structured PII cells not replaced", "structured_cells_not_replaced", "structured_cells",
         "structured_cells_not_replaced"),
        ("chat rows with broken structure", "chat_rows_broken", "chat_rows", "chat_rows_broken"),
        ("secrets left", "secrets_left", "secrets", "secrets_left"),
    ]
    targets = {t["key"]: t for t in result["targets"]}
    per_fmt_targets = result["targets_per_format"]
    for label, num, den, key in rows:
        cells = []
        for c in cols:
            r = data[c]
            if den is None:
                cells.append(str(r[num]))
            elif not r.get(den):
                cells.append("n/a")
            elif key in ("leak_share", "pii_free_words_lost"):
                cells.append(_fmt_share(r[num], r[den]))
            else:
                cells.append(f"{r[num]} of {r[den]}")
            if c != "overall":
                ok = next(t["pass"] for t in per_fmt_targets[c] if t["key"] == key)
                cells[-1] = ("  " if ok in (None, True) else "! ") + cells[-1]
        t = targets[key]
        lines.append(f"{label:42}" + "".join(f"{v:>{width}}" for v in cells) + f"{t['target']:>10}  {_mark(t['pass'])}")
    lines.append("(! marks a format that misses the target)")
    lines.append("")
    info = [
        ("  rows keeping an identifier, of all rows", "rows_leaking", "rows"),
        ("  PII-free rows with any text changed", "pii_free_rows_touched", "pii_free_rows"),
        ("  non-PII words lost in rows with PII", "pii_rows_other_words_lost", "pii_rows_other_words"),
        ("  structured PII cells left unchanged", "structured_cells_unchanged", "structured_cells"),
    ]
    lines.append("information:")
    for label, num, den in info:
        lines.append(f"{label:42}" + "".join(f"{_fmt_share(data[c][num], data[c][den]):>{width}}" for c in cols))
    kinds = sorted({k for c in cols for k in data[c]["leaks_by_kind"]})
    if kinds:
        lines.append("rows keeping each kind of identifier:")
        for k in kinds:
            lines.append(f"  {k:40}" + "".join(f"{data[c]['leaks_by_kind'].get(k, 0):>{width}}" for c in cols))
    for title_, key in (("protected cells changed, by column:", "protected_changed_by_column"),
                        ("structured PII cells not replaced, by column:", "structured_not_replaced_by_column"),
                        ("secrets left, by provider:", "secrets_left_by_provider")):
        names = sorted({k for c in cols for k in data[c][key]})
        if names:
            lines.append(title_)
            for n in names:
                lines.append(f"  {n:40}" + "".join(f"{data[c][key].get(n, 0):>{width}}" for c in cols))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("original_dir", type=Path, help="the folder finetune_gen.py wrote")
    parser.add_argument("outputs", type=Path, nargs="+", help="an output folder, or output files")
    parser.add_argument("--entities", help="comma-separated entity types the policy covers (default: all)")
    parser.add_argument("--json", action="store_true", help="print all figures as JSON")
    args = parser.parse_args(argv)
    entities = {e.strip() for e in args.entities.split(",") if e.strip()} if args.entities else None
    try:
        result = score(args.original_dir, args.outputs, entities)
    except (ScoreError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
