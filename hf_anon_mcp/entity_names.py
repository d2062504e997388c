"""One name per entity type: every report, table and card shows the canonical name; aliases are accepted on input.

Different sources name one thing differently (our address recognizer says STREET_ADDRESS, a policy may say ADDRESS,
spaCy says GPE/LOC/FAC for places, other models say EMAIL or PHONE); a report that lists the same type under two
names double-counts nothing but reads as if two things were found. `canonical_entity` is the one mapping; the
`canonical_*` helpers merge a report's statistics under it.
"""

from __future__ import annotations

from collections.abc import Iterable

from hf_anon_mcp.models import AnonymizeReport, ColumnReport, EntityStat, ReplacedStat, ScanReport, SecretStat

# alias -> canonical name (Presidio's names are canonical; ours where Presidio has none)
ALIASES = {
    "ADDRESS": "STREET_ADDRESS", "STREET": "STREET_ADDRESS", "STREETADDRESS": "STREET_ADDRESS",
    "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION", "CITY": "LOCATION", "PLACE": "LOCATION",
    "ORG": "ORGANIZATION", "ORGANISATION": "ORGANIZATION", "COMPANY": "ORGANIZATION",
    "PER": "PERSON", "NAME": "PERSON", "PERSON_NAME": "PERSON",
    "NORP": "NRP",
    "DATE": "DATE_TIME", "TIME": "DATE_TIME",
    "EMAIL": "EMAIL_ADDRESS", "E_MAIL": "EMAIL_ADDRESS",
    "PHONE": "PHONE_NUMBER", "TELEPHONE": "PHONE_NUMBER", "TELEPHONENUM": "PHONE_NUMBER",
    "IP": "IP_ADDRESS", "SSN": "US_SSN", "SOCIALNUM": "US_SSN",
    "CREDIT_CARD_NUMBER": "CREDIT_CARD", "CREDITCARDNUMBER": "CREDIT_CARD",
    "IBAN": "IBAN_CODE",
    "ZIP": "ZIP_CODE", "ZIPCODE": "ZIP_CODE", "POSTCODE": "ZIP_CODE", "POSTAL_CODE": "ZIP_CODE",
}


def canonical_entity(name: str) -> str:
    """The one name of an entity type: `ADDRESS` -> `STREET_ADDRESS`, `gpe` -> `LOCATION`, `PERSON` -> `PERSON`.

    >>> canonical_entity("address"), canonical_entity("EMAIL_ADDRESS")
    ('STREET_ADDRESS', 'EMAIL_ADDRESS')
    """
    key = name.strip().upper().replace("-", "_").replace(" ", "_")
    return ALIASES.get(key, key)


def canonical_entities(names: Iterable[str] | None) -> list[str] | None:
    """A caller's entity list with aliases resolved, order kept, duplicates dropped."""
    if names is None:
        return None
    return list(dict.fromkeys(canonical_entity(n) for n in names))


def canonical_stats(stats: list[EntityStat]) -> list[EntityStat]:
    """Statistics of one column with aliases merged (counts added, score weighted, samples pooled)."""
    if all(canonical_entity(s.entity_type) == s.entity_type for s in stats):
        return stats
    merged: dict[str, EntityStat] = {}
    for s in stats:
        name = canonical_entity(s.entity_type)
        if name not in merged:
            merged[name] = s.model_copy(update={"entity_type": name, "samples": list(s.samples)})
            continue
        m = merged[name]
        total = m.count + s.count
        m.mean_score = round((m.mean_score * m.count + s.mean_score * s.count) / total, 3) if total else 0.0
        m.count = total
        m.rows_affected = max(m.rows_affected, s.rows_affected)  # the union is unknown; never over-count rows
        m.samples = list(dict.fromkeys([*m.samples, *s.samples]))[:max(len(m.samples), len(s.samples), 3)]
    return sorted(merged.values(), key=lambda e: -e.count)


def canonical_columns(columns: list[ColumnReport]) -> list[ColumnReport]:
    return [c if (stats := canonical_stats(c.entities)) is c.entities else c.model_copy(update={"entities": stats})
            for c in columns]


def canonical_scan(report: ScanReport) -> ScanReport:
    """The report with one name per entity type (a no-op copy-free return when it already has them)."""
    columns = canonical_columns(report.columns)
    secrets = _merge_secrets(report.secrets)
    if all(a is b for a, b in zip(columns, report.columns)) and secrets is report.secrets:
        return report
    return report.model_copy(update={"columns": columns, "secrets": secrets})


def canonical_anonymize(report: AnonymizeReport) -> AnonymizeReport:
    replaced: dict[tuple[str, str, str], int] = {}
    for r in report.replaced:
        key = (r.column, canonical_entity(r.entity_type), r.operator)
        replaced[key] = replaced.get(key, 0) + r.count
    operators = {canonical_entity(e): op for e, op in report.operators.items()}
    whole = {c: canonical_entity(e) for c, e in report.whole_cell_columns.items()}
    residual = canonical_columns(report.residual)
    if (len(replaced) == len(report.replaced) and operators == report.operators and whole == report.whole_cell_columns
            and all(a is b for a, b in zip(residual, report.residual))
            and all(r.entity_type == canonical_entity(r.entity_type) for r in report.replaced)):
        return report
    return report.model_copy(update={
        "replaced": [ReplacedStat(column=c, entity_type=e, count=n, operator=op)
                     for (c, e, op), n in sorted(replaced.items(), key=lambda kv: (kv[0][0], -kv[1]))],
        "operators": operators, "whole_cell_columns": whole, "residual": residual,
    })


def _merge_secrets(secrets: list[SecretStat]) -> list[SecretStat]:
    if all(canonical_entity(s.entity_type) == s.entity_type for s in secrets):
        return secrets
    merged: dict[tuple[str, str], SecretStat] = {}
    for s in secrets:
        key = (s.column, canonical_entity(s.entity_type))
        if key in merged:
            merged[key].count += s.count
        else:
            merged[key] = s.model_copy(update={"entity_type": key[1]})
    return list(merged.values())
