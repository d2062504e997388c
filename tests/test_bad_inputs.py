"""The bad-input matrix: every case a clear one-line error naming the problem, exit code 2 on the CLI (or an
`is_error` result over MCP, in test_server.py), no traceback, and nothing written.

Cases that must succeed (a 1-row dataset, a 10 MB cell, binary and nested columns) are here too: bad-looking
input that is valid must not fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import CANARY_ROWS, PII_DEV, write_jsonl
from hf_anon_mcp.cli import main



def _src(tmp: Path) -> Path:
    return write_jsonl(tmp / "in.jsonl", [{"id": 1, "text": "Mail bob@example.com"}])


def _policy(tmp: Path, name: str, text: str) -> str:
    (tmp / name).write_text(text, encoding="utf-8")
    return str(tmp / name)


def _parquet(tmp: Path, table: pa.Table, name: str = "d.parquet") -> Path:
    pq.write_table(table, tmp / name)
    return tmp / name


def _truncated_parquet(tmp: Path) -> str:
    full = _parquet(tmp, pa.table({"text": ["hello there"] * 500}), "full.parquet").read_bytes()
    (tmp / "full.parquet").unlink()
    (tmp / "cut.parquet").write_bytes(full[: len(full) // 2])
    return str(tmp / "cut.parquet")


def _latin1_csv(tmp: Path) -> str:
    (tmp / "l1.csv").write_bytes("id,text\n1,Jos\xe9 Mu\xf1oz paid\n".encode("latin-1"))
    return str(tmp / "l1.csv")


def _utf16_jsonl(tmp: Path) -> str:
    (tmp / "u16.jsonl").write_bytes('{"text": "hello"}\n'.encode("utf-16"))
    return str(tmp / "u16.jsonl")


def _unwritable(tmp: Path) -> str:
    if os.geteuid() == 0:  # root may write anywhere but a pseudo file system
        return "/proc/self/out.jsonl"
    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return str(locked / "out.jsonl")


# (id, argv builder, phrase the one-line error must contain)
FAILING = [
    ("missing-file", lambda t: ["scan", str(t / "nope.csv")], "source not found"),
    ("wrong-extension", lambda t: ["scan", _policy(t, "d.xlsx", "x")], "unsupported file type '.xlsx'"),
    ("empty-file", lambda t: ["scan", _policy(t, "e.csv", "")], "file is empty"),
    ("zero-rows-csv", lambda t: ["scan", _policy(t, "h.csv", "id,text\n")], "empty"),
    ("zero-rows-json-array", lambda t: ["scan", _policy(t, "a.json", "[]")], "empty"),
    ("truncated-parquet", lambda t: ["scan", _truncated_parquet(t)], "unreadable Parquet file cut.parquet"),
    ("malformed-csv", lambda t: ["scan", _policy(t, "b.csv", 'id,text\n1,"ok"\n2,"unterminated\n')],
     "malformed CSV"),
    ("malformed-jsonl", lambda t: ["scan", _policy(t, "b.jsonl", '{"text": "a"}\n{"text": "b"}\n{"text": x\n')],
     "bad line 3"),
    ("malformed-json", lambda t: ["scan", _policy(t, "b.json", '[{"text": "a"}, {"text": ')], "malformed JSON"),
    ("wrong-encoding-latin1", lambda t: ["scan", _latin1_csv(t)], "not UTF-8"),
    ("wrong-encoding-utf16", lambda t: ["scan", _utf16_jsonl(t)], "not UTF-8"),
    ("unknown-column", lambda t: ["scan", str(_src(t)), "--columns", "body"], "unknown column(s): body"),
    ("non-string-column-named", lambda t: ["scan", str(_parquet(t, pa.table({"n": [1, 2], "s": ["a", "b"]}))),
                                           "--columns", "n"], "hold no text: n"),
    ("binary-column-named", lambda t: ["scan", str(_parquet(t, pa.table({"img": [b"\x89PNG", b"\xff\xd8"]}))),
                                       "--columns", "img"], "hold no text: img"),
    ("no-text-columns", lambda t: ["scan", str(_parquet(t, pa.table({"n": [1], "x": [1.5]})))], "no text columns"),
    ("hub-id-offline", lambda t: ["scan", "someuser/some-dataset"], "offline"),
    ("output-is-input", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "in.jsonl")],
     "output path is the input"),
    ("output-exists", lambda t: ["anonymize", str(_src(t)), "--out", _policy(t, "o.jsonl", "old")],
     "output exists: o.jsonl"),
    ("output-folder-unwritable", lambda t: ["anonymize", str(_src(t)), "--out", _unwritable(t)], "not writable"),
    ("output-folder-missing", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "no" / "o.jsonl")],
     "does not exist"),
    ("output-type", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "o.xlsx")], "unsupported output type"),
    ("policy-unknown-entity", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "o.jsonl"), "--policy",
                                         _policy(t, "p.yaml", "entity_operators:\n  PERSN: mask\n")],
     "unknown entity type(s): PERSN"),
    ("policy-unknown-operator", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "o.jsonl"), "--policy",
                                           _policy(t, "p.json", '{"default_operator": "shred"}')],
     "invalid policy at default_operator.operator"),
    ("policy-yaml-does-not-parse", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "o.jsonl"), "--policy",
                                              _policy(t, "p.yaml", "default_operator: mask\nx: [unclosed\n")],
     "does not parse: line 3"),
    ("policy-json-does-not-parse", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "o.jsonl"), "--policy",
                                              _policy(t, "p.json", '{"default_operator": "mask",\n "x": }')],
     "does not parse: line 2"),
    ("policy-keeps-secrets", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "o.jsonl"), "--policy",
                                        _policy(t, "p.yaml", "entity_operators:\n  SECRET_HF_TOKEN: keep\n")],
     "secrets are always replaced"),
    ("policy-unknown-column", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "o.jsonl"), "--policy",
                                         _policy(t, "p.yaml", "columns:\n  body: drop\n")], "unknown column(s): body"),
    ("encryption-key-length", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "o.jsonl"), "--policy",
                                         _policy(t, "p.yaml", "default_operator: encrypt\nencryption_key: short\n")],
     "16, 24 or 32 bytes"),
    ("hash-without-salt", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "o.jsonl"), "--operator", "hash"],
     "hash needs a salt"),
    ("salt-too-short", lambda t: ["anonymize", str(_src(t)), "--out", str(t / "o.jsonl"), "--policy",
                                  _policy(t, "p.yaml", "default_operator: hash\nhash_salt: abc\n")],
     "at least 16 bytes"),
    ("push-malformed-repo-id", lambda t: ["push", str(_src(t)), "--repo", "not a/valid//id"], "repo id"),
    ("push-no-token", lambda t: ["push", str(_src(t)), "--repo", "alice/data", "--confirm"], "no Hugging Face token"),
    ("card-missing-report", lambda t: ["card", "--scan-report", str(t / "nope.json"), "--card", str(t / "R.md")],
     "nope.json"),
]


@pytest.mark.parametrize("case", FAILING, ids=[c[0] for c in FAILING])
def test_bad_input_is_one_clear_line_exit_2_nothing_written(tmp_path, capsys, monkeypatch, case):
    _, build, phrase = case
    for var in ("HF_ANON_MCP_HASH_SALT", "HF_ANON_MCP_ENCRYPTION_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "no-login"))  # no cached login token either
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "no-login" / "token"))
    argv = build(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    code = main([*argv, "--patterns-only"] if argv[0] in ("scan", "anonymize") else argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert phrase in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before  # nothing written or changed


# Valid input that looks odd must work.
def _one_row(t):
    return ["scan", str(write_jsonl(t / "one.jsonl", [CANARY_ROWS[0]]))]


def _huge_cell(t):
    text = ("plain words about nothing in particular. " * 260_000) + " reach me at bob@example.com"
    return ["scan", str(write_jsonl(t / "big.jsonl", [{"text": text}])), "--json"]


def _binary_and_text(t):
    table = pa.table({"img": [b"\x89PNG\r\n", b"\xff\xd8\xff"], "caption": ["Photo of bob@example.com", "cat"]})
    return ["scan", str(_parquet(t, table)), "--json"]


def _chat(t):
    rows = [{"messages": [{"role": "user", "content": "I'm at bob@example.com"},
                          {"role": "assistant", "content": "ok"}]}]
    return ["anonymize", str(write_jsonl(t / "chat.jsonl", rows)), "--out", str(t / "chat.out.jsonl")]


VALID = [("one-row", _one_row, "EMAIL_ADDRESS"), ("10MB-single-cell", _huge_cell, "EMAIL_ADDRESS"),
         ("binary-column-ignored", _binary_and_text, '"text_columns": [\n    "caption"'),
         ("nested-chat-messages", _chat, "EMAIL_ADDRESS")]


@pytest.mark.parametrize("case", VALID, ids=[c[0] for c in VALID])
def test_odd_but_valid_input_works(tmp_path, capsys, case):
    _, build, expected = case
    assert main([*build(tmp_path), "--patterns-only"]) == 0
    out, err = capsys.readouterr()
    assert expected in out and "Traceback" not in err


def test_disk_filling_mid_write_leaves_no_partial_output(tmp_path):
    """A file-size limit (RLIMIT_FSIZE) makes the write fail part way, like a full disk."""
    out = tmp_path / "x.jsonl"
    script = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))
        from hf_anon_mcp.cli import main
        sys.exit(main(["anonymize", {str(PII_DEV)!r}, "--out", {str(out)!r}, "--patterns-only",
                       "--batch-size", "50", "--no-verify"]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert proc.stderr.strip().splitlines()[-1].startswith("error: writing the output failed")
    assert "nothing was written" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


# ---- the Hub misbehaving: retries with backoff, a timeout, then a clear error ---------------------------------

HUB_FAULTS = [
    ("401", ("/api/whoami-v2", 401, 1), "401"),
    ("403-on-commit", ("/commit/main", 403, 1), "403"),
    ("404-on-create", ("/api/repos/create", 404, 1), "not found"),
    ("429-persistent", ("/api/whoami-v2", 429, 9), "429"),
    ("500-persistent", ("/api/repos/create", 500, 9), "500"),
    ("hang", ("/api/whoami-v2", "hang", 9), "timed out"),
    ("read-only-token", None, "cannot write"),
]


@pytest.fixture(scope="module")
def hub():
    from hub_standin import HubStandin

    with HubStandin() as server:
        server.add_token(WRITE_TOKEN, user="alice", scope="write")
        server.add_token(READ_TOKEN, user="alice", scope="read")
        yield server


WRITE_TOKEN = "hf_" + "W" * 6 + "riteTokenForBadInputs000000"
READ_TOKEN = "hf_" + "R" * 6 + "eadTokenForBadInputs0000000"


@pytest.mark.parametrize("case", HUB_FAULTS, ids=[c[0] for c in HUB_FAULTS])
def test_hub_faults_end_in_a_clear_error(hub, tmp_path, case):
    from hub_standin import hub_env

    name, fault, phrase = case
    data = write_jsonl(tmp_path / "clean.jsonl", [{"id": 1, "text": "nothing personal here"}])
    if fault and fault[1] == "hang":
        hub.hang_next(fault[0], seconds=20, times=fault[2])
    elif fault:
        hub.fail_next(fault[0], fault[1], times=fault[2])
    token = READ_TOKEN if name == "read-only-token" else WRITE_TOKEN
    env = {**hub_env(hub.url, tmp_path / "home", token=token), "HF_ANON_MCP_HUB_TIMEOUT": "1",
           "HF_ANON_MCP_HUB_RETRIES": "2"}
    repo = f"alice/faults-{name}"
    proc = subprocess.run([sys.executable, "-m", "hf_anon_mcp.cli", "push", str(data), "--repo", repo,
                           "--patterns-only", "--confirm"], capture_output=True, text=True, timeout=120, env=env)
    hub._faults.clear()  # persistent faults must not leak into the next case
    assert proc.returncode == 2, proc.stderr[-1500:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and phrase in last, proc.stderr[-1500:]
    assert "Traceback" not in proc.stderr
    assert token not in proc.stderr + proc.stdout and token[3:] not in proc.stderr + proc.stdout
    try:
        stored = hub.repo(repo).files
    except KeyError:
        stored = {}
    assert not any(p.startswith("data/") for p in stored)  # no data went up


# ---- the same discipline over MCP: `is_error`, one clear message with a next step, nothing written ------------

def _mcp_cases(root: Path, outside: Path) -> dict[str, tuple[str, dict, str]]:
    (root / "escape").symlink_to(outside)
    (root / "link.jsonl").symlink_to(outside / "x.jsonl")
    return {
        "absolute-outside": ("scan_dataset", {"source": str(outside / "x.jsonl")}, "outside the allowed"),
        "dotdot": ("scan_dataset", {"source": f"../{outside.name}/x.jsonl"}, "outside the allowed"),
        "symlinked-file": ("scan_dataset", {"source": "link.jsonl"}, "outside the allowed"),
        "symlinked-folder-output": ("anonymize_dataset", {"source": "in.jsonl",
                                                                      "output": "escape/o.jsonl"},
                                    "outside the allowed"),
        "output-over-input": ("anonymize_dataset", {"source": "in.jsonl", "output": "in.jsonl"},
                              "output path is the input"),
        "bad-policy": ("anonymize_dataset", {"source": "in.jsonl", "output": "o.jsonl",
                                                         "policy": {"default_operator": "shred"}}, "invalid policy"),
        "unknown-column": ("scan_dataset", {"source": "in.jsonl", "columns": ["body"]},
                           "unknown column(s): body"),
        "empty-file": ("scan_dataset", {"source": "empty.csv"}, "file is empty"),
        "malformed-repo-id": ("push_private", {"source": "in.jsonl", "repo_id": "a/b/c"}, "repo id"),
        "bad-report-id": ("write_model_card_privacy_section", {"card_path": "R.md",
                                                                           "scan_report_id": "../../etc/passwd"},
                          "not a report id"),
        "validation": ("scan_dataset", {"source": "in.jsonl", "batch_size": 0}, "batch_size"),
    }


def test_bad_mcp_input_is_a_tool_error_with_a_next_step(tmp_path):
    import anyio
    from mcp import Client

    from hf_anon_mcp.config import Settings
    from hf_anon_mcp.server import build_server

    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    write_jsonl(outside / "x.jsonl", [{"text": "secret stuff"}])
    _src(root)
    (root / "empty.csv").write_text("")
    cases = _mcp_cases(root, outside)
    server = build_server(Settings(reports_dir=tmp_path / "reports"), roots=[root])
    before = sorted(p.name for p in root.iterdir()) + sorted(p.name for p in outside.iterdir())

    async def go():
        async with Client(server) as client:
            return {name: await client.call_tool(tool, args) for name, (tool, args, _) in cases.items()}
    results = anyio.run(go)
    for name, (_, _, phrase) in cases.items():
        r = results[name]
        assert r.is_error, name
        text = r.content[0].text
        assert phrase in text, (name, text)
        assert "\n" not in text.strip() and "Traceback" not in text
        assert "Next step" in text or "Fix them" in text, (name, text)
    assert sorted(p.name for p in root.iterdir()) + sorted(p.name for p in outside.iterdir()) == before
