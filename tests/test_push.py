"""push_private against the local Hub stand-in (see hub_standin.py), plus an opt-in live test.

The push workflow runs in a separate client interpreter started with `hub_env` (huggingface_hub and datasets
freeze HF_ENDPOINT at import, and other test modules import them in-process without it): one long-lived worker
per module, because importing the package (presidio, spaCy, datasets) costs ~4 s per process; the token is set
per call. The server side (stored repos, files, requests) is inspected in-process.

Live test: `test_live_push_private_roundtrip` pushes a tiny anonymized dataset to a private repo on the real Hub
and deletes the repo afterwards. It is skipped unless both `HF_TOKEN` (a write token) and `HF_ANON_MCP_LIVE=1`
are set:  HF_ANON_MCP_LIVE=1 HF_TOKEN=hf_... pytest tests/test_push.py -k live
"""

from __future__ import annotations

import io
import json
import os
import secrets
import string
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from hub_standin import ClientResult, HubStandin, hub_env, run_client  # noqa: E402

from hf_anon_mcp.errors import InputError  # noqa: E402
from hf_anon_mcp.hub.client import scrub, validate_repo_id  # noqa: E402
from hf_anon_mcp.hub.models import PushRequest  # noqa: E402
from hf_anon_mcp.workflow.card import START  # noqa: E402
from hf_anon_mcp.workflow.push import _plan  # noqa: E402


def fake_hf_token() -> str:
    """A made-up token of the real shape ("hf_" + 34 letters/digits); never a real one."""
    return "hf_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(34))


WRITE = fake_hf_token()   # the canary: must never appear in any output, log or error
READ = fake_hf_token()
ROWS = [{"id": i, "text": f"ticket {i}: printer on floor {i} is jammed again"} for i in range(1, 6)]


def parquet(path: Path, rows: list[dict]) -> Path:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def hub():
    with HubStandin(lfs_threshold=64 * 1024) as hub:
        hub.add_token(WRITE, user="alice", scope="write")
        hub.add_token(READ, user="alice", scope="read")
        yield hub


_WORKER = r"""
import json, os, sys
out = sys.stdout
sys.stdout = sys.stderr  # snippets print to stderr unless they capture stdout themselves
import hf_anon_mcp.workflow.push  # pay the import once (presidio, spaCy, datasets)
for line in sys.stdin:
    req = json.loads(line)
    os.environ.pop("HF_TOKEN", None)
    if req["token"]:
        os.environ["HF_TOKEN"] = req["token"]  # huggingface_hub reads it at each call
    ns = {"result": None}
    try:
        exec(compile(req["code"], "<client>", "exec"), ns)
        payload = {"result": ns["result"], "error": None}
    except BaseException as e:
        response = getattr(e, "response", None)
        payload = {"result": ns["result"], "error": {"type": type(e).__name__,
                   "mro": [c.__name__ for c in type(e).__mro__],
                   "status": getattr(response, "status_code", None), "message": str(e)}}
    sys.stderr.flush()
    out.write("@@CLIENT_RESULT@@" + json.dumps(payload, default=str) + "\n")
    out.flush()
"""


class Worker:
    """One long-lived client interpreter for the module (hub_env set before any import): the package import
    costs ~4 s, paid once. The token is set per call in its environment; stderr is collected per call."""

    def __init__(self, hub_url: str, home: Path):
        self._err_path = home / "stderr.log"
        home.mkdir(parents=True, exist_ok=True)
        self._err = open(self._err_path, "w+")
        self.proc = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._err, text=True, env=hub_env(hub_url, home))
        self._seen = 0

    def run(self, code: str, token: str | None = WRITE) -> ClientResult:
        self.proc.stdin.write(json.dumps({"code": code, "token": token}) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"worker died:\n{self._err_path.read_text()[-3000:]}")
            if line.startswith("@@CLIENT_RESULT@@"):
                break
        payload = json.loads(line[len("@@CLIENT_RESULT@@"):])
        text = self._err_path.read_text()
        stderr, self._seen = text[self._seen:], len(text)
        return ClientResult(payload["result"], payload["error"], stderr)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self._err.close()


@pytest.fixture(scope="module")
def worker(hub, tmp_path_factory):
    w = Worker(hub.url, tmp_path_factory.mktemp("worker-home"))
    yield w
    w.close()


@pytest.fixture
def client(worker):
    """`client(code, token=WRITE)` runs a snippet in the worker and checks no token leaked."""

    def run(code: str, token: str | None = WRITE) -> ClientResult:
        out = worker.run(code, token)
        assert_no_token(out)
        return out

    return run


@pytest.fixture
def push(client):
    """`push(token=..., **request)` runs push_private in the worker against the stand-in."""

    def run(token: str | None = WRITE, **request):
        payload = PushRequest(**request).model_dump_json()
        return client(f"""
from hf_anon_mcp.hub.models import PushRequest
from hf_anon_mcp.workflow.push import push_private
result = push_private(PushRequest.model_validate_json({payload!r})).model_dump(mode="json")
""", token)

    return run


def assert_no_token(out) -> None:
    text = json.dumps([out.result, out.error]) + out.stderr
    for token in (WRITE, READ):
        assert token not in text
        assert token[3:] not in text


def repo_requests(hub, repo_id: str, start: int) -> list:
    return [r for r in hub.requests[start:] if repo_id in r.path]


# ---- no Hub needed ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["noslash", "a/b/c", "/name", "user/", "us er/x", "user/na--me", "user/x..y",
                                 "user/x.git", "-user/x", "user/" + "x" * 100, "user/näme"])
def test_malformed_repo_id_is_input_error(bad):
    with pytest.raises(InputError):
        validate_repo_id(bad)


def test_valid_repo_ids():
    for good in ("alice/data", "Org-1/my_data.v2", "a/b"):
        assert validate_repo_id(good) == good


def test_scrub_removes_token_shapes():
    token = fake_hf_token()
    text = f"401 for Bearer {token} and {token} and api_org_{'x' * 34}"
    cleaned = scrub(text, token)
    assert token not in cleaned and token[3:] not in cleaned and "api_org_x" not in cleaned


def test_folder_plan_never_includes_keys_env_temporaries_or_canaries(tmp_path):
    folder = tmp_path / "ds"
    (folder / "data").mkdir(parents=True)
    parquet(folder / "data" / "train.parquet", ROWS)
    for name in ("train.parquet.surrogate-key", "secret.key", ".env", ".env.local", "x.tmp", ".hfanon-tmp", "id.pem",
                 "run.canaries.json"):
        (folder / name).write_text("do not upload")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "lock").write_text("x")
    (folder / "README.md").write_text("# card\n")
    (folder / "notes.txt").write_text("hello\n")
    (folder / "LICENSE").write_text("MIT\n")
    plan = _plan(PushRequest(source=str(folder), repo_id="alice/x"))
    assert sorted(plan.files) == ["data/train.parquet"]  # README.md becomes the staged card
    assert plan.not_included == ["LICENSE", "notes.txt"]  # not part of the dataset, not named: left out
    assert plan.card_source == folder / "README.md"
    assert {"train.parquet.surrogate-key", "secret.key", ".env", ".env.local", "x.tmp", ".hfanon-tmp", "id.pem",
            "run.canaries.json", ".cache/lock"} == set(plan.excluded)
    named = _plan(PushRequest(source=str(folder), repo_id="alice/x", include=["notes.txt"]))
    assert sorted(named.files) == ["data/train.parquet", "notes.txt"] and named.not_included == ["LICENSE"]
    assert named.kinds == {"data/train.parquet": "data", "notes.txt": "text"}


@pytest.mark.parametrize("named", ["run.canaries.json", "secret.key", ".env", "../outside.txt", "missing.txt"])
def test_naming_a_canary_key_or_outside_file_is_refused(tmp_path, named):
    folder = tmp_path / "ds"
    folder.mkdir()
    parquet(folder / "train.parquet", ROWS)
    for name in ("run.canaries.json", "secret.key", ".env"):
        (folder / name).write_text("do not upload")
    (tmp_path / "outside.txt").write_text("x")
    with pytest.raises(InputError) as err:
        _plan(PushRequest(source=str(folder), repo_id="alice/x", include=[named]))
    assert "\n" not in str(err.value) and "do not upload" not in str(err.value)


def test_a_canary_file_is_never_pushed_on_its_own(tmp_path):
    (tmp_path / "audit.canaries.json").write_text('[{"canary": "x"}]')
    with pytest.raises(InputError, match="canary file"):
        _plan(PushRequest(source=str(tmp_path / "audit.canaries.json"), repo_id="alice/x"))


def test_single_file_plan_uses_data_folder_and_refuses_key_files(tmp_path):
    plan = _plan(PushRequest(source=str(parquet(tmp_path / "tickets.parquet", ROWS)), repo_id="alice/x"))
    assert list(plan.files) == ["data/tickets.parquet"]
    (tmp_path / "a.surrogate-key").write_text("k")
    with pytest.raises(InputError):
        _plan(PushRequest(source=str(tmp_path / "a.surrogate-key"), repo_id="alice/x"))


def test_blocking_findings_secrets_always_surrogates_of_a_report_never():
    from hf_anon_mcp.hub.models import PushFinding
    from hf_anon_mcp.models import AnonymizeReport, DetectorInfo, RiskLevel
    from hf_anon_mcp.workflow.push import _blocking_findings

    det = DetectorInfo(presidio_version="x", mode="patterns-only", score_threshold=0.4)
    anon = AnonymizeReport(report_id="a", source="s", output_path="o", output_format="parquet", rows_in=1, rows_out=1,
                           columns_anonymized=["t"], default_operator="surrogate", detector=det, elapsed_s=0,
                           rows_per_s=0, operators={"PERSON": "surrogate", "EMAIL_ADDRESS": "placeholder",
                                                    "SECRET_HF_TOKEN": "surrogate"})
    found = [PushFinding(path_in_repo="d.parquet", column="t", entity_type=e, count=1, risk=r) for e, r in
             [("PERSON", RiskLevel.high), ("EMAIL_ADDRESS", RiskLevel.high), ("SECRET_HF_TOKEN", RiskLevel.high),
              ("LOCATION", RiskLevel.medium)]]
    assert [f.entity_type for f in _blocking_findings(found, anon)] == ["EMAIL_ADDRESS", "SECRET_HF_TOKEN"]
    assert [f.entity_type for f in _blocking_findings(found, None)] == ["PERSON", "EMAIL_ADDRESS", "SECRET_HF_TOKEN"]


# ---- against the stand-in ---------------------------------------------------------------------------------------
def test_preview_uploads_nothing(hub, push, tmp_path):
    data = parquet(tmp_path / "tickets.parquet", ROWS)
    start = len(hub.requests)
    out = push(source=str(data), repo_id="alice/preview", patterns_only=True)
    assert out.error is None, (out.error, out.stderr[-2000:])
    res = out.result
    assert res["uploaded"] is False and res["repo_existed"] is False and res["visibility_before"] == "missing"
    assert res["rows"] == 5 and res["blocking"] == []
    assert [f["path_in_repo"] for f in res["files"]] == ["README.md", "data/tickets.parquet"]
    assert res["files"][1]["size"] == data.stat().st_size and res["files"][1]["rows"] == 5
    assert res["actions"][0] == "create private dataset repo alice/preview"
    assert "confirm" in res["actions"][-1]
    assert ("dataset", "alice/preview") not in hub._repos
    assert all(r.method in ("GET", "HEAD") for r in hub.requests[start:]), hub.requests[start:]


@pytest.mark.parametrize("offline", [True, False], ids=["HF_HUB_OFFLINE", "online-no-token"])
def test_preview_needs_no_token_and_no_network(hub, tmp_path, offline):
    """The preview (files, card, the privacy gate's verdict) with no token at all, offline or not: no request
    reaches the Hub, and the CLI exits 0 for a clean preview and 3 for one whose push would be refused."""
    clean = parquet(tmp_path / "clean.parquet", ROWS)
    dirty = parquet(tmp_path / "dirty.parquet", ROWS + [{"id": 8, "text": f"token {fake_hf_token()}"}])
    env = hub_env(hub.url, tmp_path / "home")  # no HF_TOKEN, no login
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    start = len(hub.requests)
    code = f"""
from hf_anon_mcp.hub.models import PushRequest
from hf_anon_mcp.workflow.push import push_private
res = push_private(PushRequest(source={str(clean)!r}, repo_id="alice/offline-preview", patterns_only=True))
result = res.model_dump(mode="json")
"""
    out = run_client(code, env, timeout=180)
    assert out.error is None, (out.error, out.stderr[-2000:])
    res = out.result
    assert res["uploaded"] is False and res["visibility_before"] == "unknown" and res["repo_existed"] is None
    assert ("offline" if offline else "no Hugging Face token") in res["hub_note"]
    assert [f["path_in_repo"] for f in res["files"]] == ["README.md", "data/clean.parquet"]
    assert res["blocking"] == [] and res["residual_risk"] == "none"
    assert "confirm" in res["actions"][-1]
    cli = [sys.executable, "-m", "hf_anon_mcp.cli", "push"]
    ok = subprocess.run([*cli, str(clean), "--repo", "alice/offline-preview", "--patterns-only"], env=env,
                        capture_output=True, text=True, timeout=180)
    bad = subprocess.run([*cli, str(dirty), "--repo", "alice/offline-preview", "--patterns-only"], env=env,
                         capture_output=True, text=True, timeout=180)
    assert ok.returncode == 0 and "PREVIEW (nothing uploaded)" in ok.stdout, ok.stderr[-1500:]
    assert "`--confirm`" in ok.stdout and "confirm=true" not in ok.stdout  # the CLI's words
    assert bad.returncode == 3 and "SECRET_HF_TOKEN" in bad.stdout, bad.stderr[-1500:]
    assert hub.requests[start:] == []  # nothing reached the Hub
    confirm = subprocess.run([*cli, str(clean), "--repo", "alice/offline-preview", "--patterns-only", "--confirm"],
                             env=env, capture_output=True, text=True, timeout=180)
    assert confirm.returncode == 2 and confirm.stderr.startswith("error: ")  # only the push needs them


def test_push_creates_private_repo_then_updates_it(hub, push, tmp_path):
    data = parquet(tmp_path / "tickets.parquet", ROWS)
    out = push(source=str(data), repo_id="alice/tickets", patterns_only=True, confirm=True,
               differential_privacy=False)
    assert out.error is None, (out.error, out.stderr[-2000:])
    res = out.result
    repo = hub.repo("alice/tickets")
    assert repo.private is True and res["private"] is True and res["uploaded"] is True
    assert res["commit_sha"] == repo.sha and res["commit_url"].endswith(repo.sha)
    assert res["repo_url"] == f"{hub.url}/datasets/alice/tickets"
    assert sorted(repo.files) == [".gitattributes", "README.md", "data/tickets.parquet"]
    assert repo.files["data/tickets.parquet"].content == data.read_bytes()
    card = repo.files["README.md"].content.decode()
    assert START in card and "privacy-reviewed" in card and "Differential privacy was not used" in card
    assert "Pre-upload scan of the published files" in card
    first, n_commits = repo.sha, len(repo.commits)

    parquet(data, ROWS + [{"id": 6, "text": "ticket 6: toner low"}])
    out = push(source=str(data), repo_id="alice/tickets", patterns_only=True, confirm=True)
    assert out.error is None, out.error
    assert out.result["repo_existed"] is True and out.result["visibility_before"] == "private"
    assert out.result["actions"][0].startswith("uploaded")
    repo = hub.repo("alice/tickets")
    assert repo.sha == out.result["commit_sha"] != first and len(repo.commits) == n_commits + 1
    assert repo.files["data/tickets.parquet"].content == data.read_bytes()


def test_pushed_repo_hidden_from_anonymous_and_loadable_by_id(hub, push, client, tmp_path):
    data = parquet(tmp_path / "rows.parquet", ROWS)
    out = push(source=str(data), repo_id="alice/loadable", patterns_only=True, confirm=True)
    assert out.error is None, out.error
    anon = client("""
from huggingface_hub import HfApi
HfApi().repo_info("alice/loadable", repo_type="dataset")
""", token=None)
    assert anon.error and anon.error["type"] == "RepositoryNotFoundError", anon.error
    loaded = client("""
import datasets
from hf_anon_mcp.models import ScanRequest
from hf_anon_mcp.workflow.scan import scan
rows = datasets.load_dataset("alice/loadable", split="train").to_list()
report = scan(ScanRequest(source="alice/loadable", patterns_only=True))
result = {"rows": rows, "scanned": report.rows_scanned, "source": report.source, "cols": report.text_columns}
""")
    assert loaded.error is None, (loaded.error, loaded.stderr[-2000:])
    assert loaded.result["rows"] == ROWS
    assert loaded.result["scanned"] == 5 and loaded.result["source"] == "alice/loadable"
    assert loaded.result["cols"] == ["text"]


def test_public_repo_is_refused_and_nothing_uploaded(hub, push, tmp_path):
    hub.add_repo("alice/public-ds", private=False, files={"old.txt": b"old\n"})
    before = hub.repo("alice/public-ds").sha
    start = len(hub.requests)
    out = push(source=str(parquet(tmp_path / "d.parquet", ROWS)), repo_id="alice/public-ds", patterns_only=True,
               confirm=True)
    assert out.error["type"] == "UnsafePushError", out.error
    assert "PUBLIC" in out.error["message"] and "make_private" in out.error["message"]
    repo = hub.repo("alice/public-ds")
    assert repo.sha == before and sorted(repo.files) == [".gitattributes", "old.txt"] and not repo.private
    assert not [r for r in repo_requests(hub, "alice/public-ds", start) if r.method in ("POST", "PUT")]
    assert not [p for p in hub.paths("PUT")[start:] if p.startswith("/_lfs")]

    preview = push(source=str(tmp_path / "d.parquet"), repo_id="alice/public-ds", patterns_only=True)
    assert preview.error is None and preview.result["visibility_before"] == "public"
    assert preview.result["actions"][0].startswith("refuse the push")


def test_make_private_flips_public_repo_and_says_so(hub, push, tmp_path):
    hub.add_repo("alice/flip-me", private=False, files={"old.txt": b"old\n"})
    out = push(source=str(parquet(tmp_path / "d.parquet", ROWS)), repo_id="alice/flip-me", patterns_only=True,
               make_private=True, confirm=True)
    assert out.error is None, out.error
    assert out.result["made_private"] is True and out.result["private"] is True
    assert out.result["visibility_before"] == "public"
    assert "made existing public repo alice/flip-me private" in out.result["actions"]
    repo = hub.repo("alice/flip-me")
    assert repo.private is True and "data/d.parquet" in repo.files


def test_hf_token_in_data_or_text_blocks_the_push(hub, push, tmp_path):
    leaked = fake_hf_token()
    rows = ROWS + [{"id": 9, "text": f"my key is {leaked} please rotate"}]
    out = push(source=str(parquet(tmp_path / "leak.parquet", rows)), repo_id="alice/leaky", patterns_only=True,
               confirm=True)
    assert out.error["type"] == "UnsafePushError", out.error
    assert "SECRET_HF_TOKEN x1" in out.error["message"] and leaked not in json.dumps(out.error) + out.stderr
    assert ("dataset", "alice/leaky") not in hub._repos

    folder = tmp_path / "folder"
    folder.mkdir()
    parquet(folder / "train.parquet", ROWS)
    (folder / "train.py").write_text(f'TOKEN = "{leaked}"\n')
    out = push(source=str(folder), repo_id="alice/leaky", patterns_only=True)  # not part of the dataset: left out
    assert out.error is None and out.result["not_included"] == ["train.py"] and out.result["blocking"] == []
    out = push(source=str(folder), repo_id="alice/leaky", patterns_only=True, include=["train.py"])  # named
    assert out.error is None and out.result["uploaded"] is False
    assert any("SECRET_HF_TOKEN" in b and "train.py" in b for b in out.result["blocking"])
    assert leaked not in json.dumps(out.result)
    assert ("dataset", "alice/leaky") not in hub._repos


def test_allow_residual_pii_pushes_and_card_records_it(hub, push, tmp_path):
    rows = ROWS + [{"id": 7, "text": "write to marisol.quintanilla@example.org"}]
    data = parquet(tmp_path / "pii.parquet", rows)
    refused = push(source=str(data), repo_id="alice/forced", patterns_only=True, confirm=True)
    assert refused.error["type"] == "UnsafePushError" and "EMAIL_ADDRESS x1" in refused.error["message"]
    assert "marisol" not in refused.error["message"]
    out = push(source=str(data), repo_id="alice/forced", patterns_only=True, confirm=True, allow_residual_pii=True)
    assert out.error is None, out.error
    card = hub.repo("alice/forced").files["README.md"].content.decode()
    assert "allow_residual_pii" in card and "EMAIL_ADDRESS" in card and "marisol" not in card


def test_token_never_leaks_through_success_or_failure(hub, client, tmp_path):
    """Missing, read-only and unknown tokens, then 401/500/403 from the Hub, then success: the canary token (and
    the unknown one) appears in no result, message, repr, chained exception or log line (logging at DEBUG)."""
    unknown = fake_hf_token()
    data = parquet(tmp_path / "c.parquet", ROWS)
    code = f"""
import logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, force=True)
from hf_anon_mcp.hub.models import PushRequest
from hf_anon_mcp.workflow.push import push_private
from hf_anon_mcp.errors import HfAnonError
try:
    res = push_private(PushRequest(source={str(data)!r}, repo_id="alice/canary", patterns_only=True, confirm=True))
    result = ["ok", res.model_dump_json()]
except HfAnonError as e:
    result = [type(e).__name__, str(e), repr(e), repr(e.__cause__), repr(e.__context__), repr(e.__traceback__)]
finally:
    logging.getLogger().setLevel(logging.WARNING)
"""
    got = {}
    for label, token, fault in [("missing", None, None), ("read", READ, None), ("unknown", unknown, None),
                                ("401", WRITE, ("/api/whoami-v2", 401)), ("500", WRITE, ("/api/repos/create", 500, 3)),
                                ("403", WRITE, ("/api/datasets/alice/canary/commit/main", 403)), ("ok", WRITE, None)]:
        if fault:
            hub.fail_next(*fault)
        out = client(code, token=token)
        assert out.error is None, out.error
        assert unknown not in json.dumps(out.result) + out.stderr and unknown[3:] not in out.stderr
        if label == "401":
            assert "/api/whoami-v2" in out.stderr  # the debug log really was on
        got[label] = out.result
    assert got["missing"][:2] == ["AccessError", "no Hugging Face token: set HF_TOKEN or run `hf auth login`"]
    assert got["read"][0] == "AccessError" and "cannot write" in got["read"][1]
    assert got["unknown"][0] == "AccessError" and "401" in got["unknown"][1]
    assert got["401"][0] == "AccessError" and "401" in got["401"][1]
    assert got["500"][0] == "HubServiceError" and "500" in got["500"][1]
    assert got["403"][0] == "AccessError" and "403" in got["403"][1]
    assert got["ok"][0] == "ok" and json.loads(got["ok"][1])["private"] is True
    for label, r in got.items():
        if label != "ok":
            assert "\n" not in r[1] and r[3:5] == ["None", "None"], r  # one line, no chained library exception
    assert hub.repo("alice/canary").private is True


def test_unreachable_hub_is_offline_error_for_a_push_but_not_for_a_preview(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: connections are refused
    code = f"""
from hf_anon_mcp.hub.models import PushRequest
from hf_anon_mcp.workflow.push import push_private
from hf_anon_mcp.errors import OfflineError
src = {str(parquet(tmp_path / 'u.parquet', ROWS))!r}
preview = push_private(PushRequest(source=src, repo_id="alice/x", patterns_only=True))
result = [preview.visibility_before, preview.hub_note, preview.uploaded]
push_private(PushRequest(source=src, repo_id="alice/x", patterns_only=True, confirm=True))
"""
    out = run_client(code, hub_env(f"http://127.0.0.1:{port}", tmp_path / "home", token=WRITE), timeout=120)
    assert_no_token(out)
    assert out.result[0] == "unknown" and "unreachable" in out.result[1] and out.result[2] is False, out.result
    assert out.error["type"] == "OfflineError" and "unreachable" in out.error["message"], out.error


def test_public_after_create_is_caught_before_upload(hub, client, tmp_path):
    """If the repo somehow is not private after creation, nothing is uploaded (read-back check)."""
    out = client(f"""
from huggingface_hub import HfApi
original = HfApi.create_repo
def public_create(self, repo_id, **kw):
    kw["private"] = False
    return original(self, repo_id, **kw)
HfApi.create_repo = public_create
try:
    from hf_anon_mcp.hub.models import PushRequest
    from hf_anon_mcp.workflow.push import push_private
    push_private(PushRequest(source={str(parquet(tmp_path / 'p.parquet', ROWS))!r}, repo_id="alice/oops",
                             patterns_only=True, confirm=True))
finally:
    HfApi.create_repo = original
""")
    assert out.error["type"] == "UnsafePushError" and "not private" in out.error["message"], out.error
    assert sorted(hub.repo("alice/oops").files) == [".gitattributes"]


def test_folder_push_with_ner_keeps_card_and_skips_keys(hub, client, tmp_path):
    """The one NER run: a folder with its own card, a key file and an env file, pushed through the CLI."""
    folder = tmp_path / "anon"
    folder.mkdir()
    parquet(folder / "train.parquet", ROWS)
    (folder / "train.parquet.surrogate-key").write_text("0" * 64)
    (folder / ".env").write_text("HF_TOKEN=whatever\n")
    (folder / "README.md").write_text("---\nlicense: mit\ntags:\n- support\n---\n\n# Tickets\n\n"
                                      "Printer tickets.\n\n## Usage\n\nFine-tuning only.\n")
    code = f"""
import argparse, sys
from hf_anon_mcp.cli_hub import add_hub_commands
parser = argparse.ArgumentParser()
add_hub_commands(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(["push", {str(folder)!r}, "--repo", "alice/folder-ner", "--confirm", "--json"])
result = args.handler(args)
"""
    out = client(code)
    assert out.error is None and out.result == 0, (out.error, out.stderr[-3000:])
    repo = hub.repo("alice/folder-ner")
    assert repo.private and sorted(repo.files) == [".gitattributes", "README.md", "train.parquet"]
    card = repo.files["README.md"].content.decode()
    assert "license: mit" in card and "- support" in card and "- privacy-reviewed" in card
    assert "## Usage\n\nFine-tuning only." in card and "spaCy NER" in card and "| Profile | balanced |" in card
    assert (folder / "README.md").read_text().count(START) == 0  # the input card is never modified


def test_cli_push_preview_exit_codes(hub, client, tmp_path):
    leaked = fake_hf_token()
    clean = parquet(tmp_path / "clean.parquet", ROWS)
    dirty = parquet(tmp_path / "dirty.parquet", ROWS + [{"id": 8, "text": f"token {leaked}"}])
    code = f"""
import argparse, contextlib, io
from hf_anon_mcp.cli_hub import add_hub_commands
parser = argparse.ArgumentParser()
add_hub_commands(parser.add_subparsers(dest="command", required=True))
result = []
for src in ({str(clean)!r}, {str(dirty)!r}):
    args = parser.parse_args(["push", src, "--repo", "alice/cli-preview", "--patterns-only"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = args.handler(args)
    result.append([code, buf.getvalue()])
"""
    out = client(code)
    assert out.error is None, (out.error, out.stderr[-3000:])
    (ok_code, ok_text), (bad_code, bad_text) = out.result
    assert ok_code == 0 and "PREVIEW (nothing uploaded)" in ok_text and "data/clean.parquet" in ok_text
    assert bad_code == 3 and "SECRET_HF_TOKEN" in bad_text and leaked not in bad_text
    assert ("dataset", "alice/cli-preview") not in hub._repos


# ---- the real Hub (opt-in) --------------------------------------------------------------------------------------
@pytest.mark.skipif(not (os.environ.get("HF_TOKEN") and os.environ.get("HF_ANON_MCP_LIVE") == "1"),
                    reason="live Hub test: set HF_TOKEN (write) and HF_ANON_MCP_LIVE=1")
def test_live_push_private_roundtrip(tmp_path):
    """Push a tiny anonymized dataset to a new private repo on huggingface.co, verify, then delete the repo."""
    from conftest import CANARY_ROWS, write_jsonl

    src = write_jsonl(tmp_path / "people.jsonl", CANARY_ROWS)
    name = f"hf-anon-mcp-live-{uuid.uuid4().hex[:8]}"
    code = f"""
from hf_anon_mcp.hub.client import HubClient
from hf_anon_mcp.hub.models import PushRequest
from hf_anon_mcp.models import AnonymizeRequest
from hf_anon_mcp.workflow.anonymize import anonymize
from hf_anon_mcp.workflow.push import push_private
out = {str(tmp_path / 'anon.parquet')!r}
report = anonymize(AnonymizeRequest(source={str(src)!r}, output=out, operator="placeholder"))
from huggingface_hub import HfApi
client = HubClient()
repo_id = client.user_name() + "/{name}"
try:
    res = push_private(PushRequest(source=out, repo_id=repo_id, anonymize_report_path=None, confirm=True))
    try:
        HfApi(token=False).repo_info(repo_id, repo_type="dataset")
        anonymous_sees_it = True
    except Exception:
        anonymous_sees_it = False
    result = {{"private": res.private, "uploaded": res.uploaded, "anonymous_sees_it": anonymous_sees_it}}
finally:
    client.delete_repo(repo_id)
"""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_ENDPOINT", "HF_HUB_OFFLINE")}
    proc = subprocess.run([sys.executable, "-c", code + "\nprint(result)"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert os.environ["HF_TOKEN"] not in proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "'private': True" in proc.stdout and "'uploaded': True" in proc.stdout
    assert "'anonymous_sees_it': False" in proc.stdout
