"""The one-line headers every face prints: which profile ran and which detectors actually looked at the data.

A reader of a report, a progress bar or a card must not believe names were checked when they were not: a
patterns-only (`fast`) run says so in plain words. `DetectorInfo.profile` and `DetectorInfo.detectors` are read
when the engine fills them in; older reports only have `mode`, from which the same header is derived.
"""

from __future__ import annotations

from typing import Any

NO_NAMES = "names, places and organisations are NOT detected (no NER; only a few rule-based name cues)"
# What each profile runs, for the header shown before a run starts (the report's own header lists what ran).
PLANNED = {
    "fast": "patterns, checksums and secret rules",
    "balanced": "patterns, checksums, secret rules and spaCy NER",
    "thorough": "patterns, checksums, secret rules, spaCy NER and the Rampart ONNX token classifier",
}


def profile_of(thing: Any) -> str:
    """The profile of a DetectorInfo or a request: its `profile` field, else `fast` for patterns-only, else
    `balanced`."""
    profile = getattr(thing, "profile", None)
    if profile:
        return str(getattr(profile, "value", profile))
    if getattr(thing, "patterns_only", False) or getattr(thing, "mode", None) == "patterns-only":
        return "fast"
    return "balanced"


def detectors_of(detector: Any) -> list[str]:
    """Names (with versions) of the detectors that ran, from `detectors` when present, else from `mode`."""
    listed = getattr(detector, "detectors", None)
    if listed:
        return [_label(d) for d in listed]
    out = [f"Presidio {detector.presidio_version} patterns and checksums", "secret rules"]
    if getattr(detector, "mode", None) != "patterns-only" and detector.model_name:
        out.append(f"spaCy NER {detector.model_name} {detector.model_version or ''}".rstrip())
    return out


def finds_names(detector: Any) -> bool:
    """False when nothing in this run could find people's names."""
    if "PERSON" in (getattr(detector, "cannot_detect", None) or []):
        return False
    if getattr(detector, "detectors", None):
        return any(k in _label(d).lower() for d in detector.detectors for k in ("ner", "onnx", "rampart", "model"))
    return getattr(detector, "mode", None) != "patterns-only"


def detector_header(detector: Any) -> str:
    """`profile balanced: Presidio 2.2.366 patterns and checksums, secret rules, spaCy NER en_core_web_sm 3.8.0`,
    with the plain warning when names were not looked for."""
    text = f"profile {profile_of(detector)}: {', '.join(detectors_of(detector))}"
    return text if finds_names(detector) else f"{text}; {NO_NAMES}"


def planned_header(request: Any) -> str:
    """The header of a run about to start, from its request (the report's header will name the exact versions)."""
    profile = profile_of(request)
    text = f"profile {profile}: {PLANNED.get(profile, profile)}"
    return f"{text}; {NO_NAMES}" if profile == "fast" else text


def _label(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return " ".join(str(item[k]) for k in ("name", "version") if item.get(k))
    name = getattr(item, "name", None)
    version = getattr(item, "version", None)
    if name in _LABELS:
        return _LABELS[name].format(version=version or "")
    return " ".join(str(x) for x in (name, version) if x) or str(item)


# The engine's detector names, as people read them in a header.
_LABELS = {
    "presidio-analyzer": "Presidio {version} patterns and checksums, secret rules",
    "spacy-model": "spaCy NER {version}",
    "rampart": "Rampart ONNX token classifier ({version})",
}
