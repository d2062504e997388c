"""The real huggingface_hub / datasets clients against the local Hub stand-in (see hub_standin.py).

Client code runs in a fresh interpreter per call (`run_client`) because both libraries freeze
HF_ENDPOINT and the offline flag at import time; the server side is inspected in-process.
"""

from __future__ import annotations

import io
import json
import os
import sys
import urllib.error
import urllib.request

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from hub_standin import HubStandin, hub_env, run_client  # noqa: E402

WRITE = "hf_aliceWriteToken0000000000000000"
READ = "hf_aliceReadToken00000000000000000"
BOB = "hf_bobWriteToken000000000000000000"
LFS_THRESHOLD = 64 * 1024  # preupload answers "lfs" from this size on (the Hub uses 10 MB)
ROWS = [{"id": 1, "text": "alpha"}, {"id": 2, "text": "beta"}, {"id": 3, "text": "gamma"}]


def parquet_bytes(rows: list[dict]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def hub():
    with HubStandin(lfs_threshold=LFS_THRESHOLD) as hub:
        hub.add_token(WRITE, user="alice", scope="write")
        hub.add_token(READ, user="alice", scope="read")
        hub.add_token(BOB, user="bob", scope="write")
        yield hub


@pytest.fixture
def client(hub, tmp_path):
    """`client(code, token=None)` runs `code` with the real client in a fresh process (fresh HF_HOME)."""
    counter = iter(range(1000))

    def run(code: str, token: str | None = None):
        home = tmp_path / f"home{next(counter)}"
        return run_client(code, hub_env(hub.url, home, token=token), timeout=60)

    return run


@pytest.fixture(scope="module")
def pushed(hub, tmp_path_factory):
    """alice creates a private dataset repo and pushes a parquet file + README via upload_folder."""
    folder = tmp_path_factory.mktemp("upload")
    (folder / "data").mkdir()
    (folder / "data" / "train.parquet").write_bytes(parquet_bytes(ROWS))
    (folder / "README.md").write_text("# Test dataset\n")
    code = f"""
from huggingface_hub import HfApi
api = HfApi()
url = api.create_repo("alice/private-data", repo_type="dataset", private=True)
info = api.upload_folder(folder_path={str(folder)!r}, repo_id="alice/private-data", repo_type="dataset",
                         commit_message="Add data")
result = {{"url": str(url), "oid": info.oid, "commit_url": info.commit_url}}
"""
    start = len(hub.requests)
    out = run_client(code, hub_env(hub.url, tmp_path_factory.mktemp("home"), token=WRITE))
    assert out.error is None, (out.error, out.stderr)
    return {**out.result, "folder": folder, "requests": hub.requests[start:]}


def test_whoami_returns_user_and_role(client):
    out = client('from huggingface_hub import HfApi\nHfApi().whoami(token="hf_unknown")')
    assert out.error["type"] == "HfHubHTTPError" and out.error["status"] == 401, out.error
    out = client(f"""
from huggingface_hub import HfApi
api = HfApi()
w, r = api.whoami(token={WRITE!r}), api.whoami(token={READ!r})
result = {{"w": [w["name"], w["auth"]["accessToken"]["role"]], "r": [r["name"], r["auth"]["accessToken"]["role"]]}}
""")
    assert out.error is None, out.error
    assert out.result == {"w": ["alice", "write"], "r": ["alice", "read"]}


def test_create_repo_private_and_upload_folder(hub, pushed):
    repo = hub.repo("alice/private-data", repo_type="dataset")
    assert repo.private is True
    assert pushed["url"].endswith("/datasets/alice/private-data")
    assert repo.sha == pushed["oid"] and len(pushed["oid"]) == 40
    assert repo.files["data/train.parquet"].content == (pushed["folder"] / "data" / "train.parquet").read_bytes()
    assert repo.files["README.md"].content == b"# Test dataset\n"
    assert not repo.files["README.md"].lfs and repo.files["data/train.parquet"].lfs  # binary => LFS, as on the Hub
    assert repo.commits[-1]["title"] == "Add data"
    assert ("POST", "/api/datasets/alice/private-data/commit/main", 200) in pushed["requests"]


def test_file_above_threshold_uses_lfs(hub, client):
    hub.add_repo("alice/lfs-test", repo_type="dataset")
    big = "line of text\n" * (LFS_THRESHOLD // 13 + 100)
    out = client(f"""
from huggingface_hub import HfApi
info = HfApi().upload_file(path_or_fileobj={big.encode()!r}, path_in_repo="big.txt",
                           repo_id="alice/lfs-test", repo_type="dataset")
result = info.oid
""", token=WRITE)
    assert out.error is None, out.error
    stored = hub.repo("alice/lfs-test").files["big.txt"]
    assert stored.lfs and stored.content == big.encode()
    paths = hub.paths()
    assert "/datasets/alice/lfs-test.git/info/lfs/objects/batch" in paths
    assert f"/_lfs/{stored.sha256}" in hub.paths("PUT")
    assert f"/_lfs/{stored.sha256}/verify" in paths


def test_repo_info_private_and_hidden_from_others(client, pushed):
    code = """
from huggingface_hub import HfApi
info = HfApi().repo_info("alice/private-data", repo_type="dataset", files_metadata=True)
result = {"private": info.private, "sha": info.sha, "files": sorted(s.rfilename for s in info.siblings),
          "lfs": [s.rfilename for s in info.siblings if s.lfs]}
"""
    out = client(code, token=WRITE)
    assert out.error is None, out.error
    assert out.result == {"private": True, "sha": pushed["oid"], "lfs": ["data/train.parquet"],
                          "files": [".gitattributes", "README.md", "data/train.parquet"]}
    for token in (None, BOB):  # anonymous, and another user
        out = client(code, token=token)
        assert out.error["type"] == "RepositoryNotFoundError", out.error
        assert "HfHubHTTPError" in out.error["mro"]


def test_read_token_cannot_create_or_commit(hub, client, pushed):
    before = hub.repo("alice/private-data").sha
    out = client("""
from huggingface_hub import HfApi
HfApi().create_repo("alice/not-allowed", repo_type="dataset")
""", token=READ)
    assert out.error["type"] == "HfHubHTTPError" and out.error["status"] == 403, out.error
    out = client("""
from huggingface_hub import HfApi
HfApi().upload_file(path_or_fileobj=b"nope", path_in_repo="x.txt", repo_id="alice/private-data", repo_type="dataset")
""", token=READ)
    assert out.error["type"] == "HfHubHTTPError" and out.error["status"] == 403, out.error
    assert ("dataset", "alice/not-allowed") not in hub._repos
    assert hub.repo("alice/private-data").sha == before


def test_create_repo_exist_ok(client, pushed):
    out = client("""
from huggingface_hub import HfApi
api = HfApi()
url = api.create_repo("alice/private-data", repo_type="dataset", exist_ok=True)
result = str(url)
api.create_repo("alice/private-data", repo_type="dataset")
""", token=WRITE)
    assert out.error["type"] == "HfHubHTTPError" and out.error["status"] == 409, out.error
    assert out.result == pushed["url"]  # exist_ok=True swallowed the same 409


def test_update_repo_settings_flips_visibility(hub, client):
    hub.add_repo("alice/flip", repo_type="dataset", private=True, files={"a.txt": b"a"})
    out = client("""
from huggingface_hub import HfApi
HfApi().update_repo_settings("alice/flip", private=False, repo_type="dataset")
""", token=WRITE)
    assert out.error is None, out.error
    assert hub.repo("alice/flip").private is False
    out = client("""
from huggingface_hub import HfApi
result = HfApi().repo_info("alice/flip", repo_type="dataset").private
""")  # anonymous now sees it
    assert out.error is None and out.result is False, out.error


def test_hf_hub_download_returns_uploaded_bytes(client, pushed):
    out = client("""
from huggingface_hub import hf_hub_download
result = {name: open(hf_hub_download("alice/private-data", name, repo_type="dataset"), "rb").read().hex()
          for name in ("README.md", "data/train.parquet")}
""", token=WRITE)
    assert out.error is None, out.error
    assert bytes.fromhex(out.result["README.md"]) == b"# Test dataset\n"
    assert bytes.fromhex(out.result["data/train.parquet"]) == (pushed["folder"] / "data" / "train.parquet").read_bytes()
    out = client("""
from huggingface_hub import hf_hub_download
hf_hub_download("alice/private-data", "missing.txt", repo_type="dataset")
""", token=WRITE)
    assert out.error["type"] == "RemoteEntryNotFoundError", out.error


def test_load_dataset_returns_pushed_rows(client, pushed):
    out = client("""
import sys
hosts = set()  # every host the process resolves or connects to
def audit(event, args):
    if event == "socket.getaddrinfo":
        hosts.add(str(args[0]))
    elif event == "socket.connect" and isinstance(args[1], tuple):
        hosts.add(str(args[1][0]))
sys.addaudithook(audit)
import datasets
ds = datasets.load_dataset("alice/private-data", split="train")
result = {"rows": ds.to_list(), "hosts": sorted(hosts)}
""", token=WRITE)
    assert out.error is None, (out.error, out.stderr[-2000:])
    assert out.result["rows"] == ROWS
    # datasets derives the dataset-viewer host from HF_ENDPOINT; "datasets-server.127.0.0.1" cannot resolve
    assert set(out.result["hosts"]) <= {"127.0.0.1", "datasets-server.127.0.0.1"}, out.result["hosts"]


def test_model_repo_roundtrip(hub, client):
    out = client("""
from huggingface_hub import HfApi, hf_hub_download
api = HfApi()
api.create_repo("alice/tiny-model")
api.upload_file(path_or_fileobj=b'{"hidden": 4}', path_in_repo="config.json", repo_id="alice/tiny-model")
info = api.model_info("alice/tiny-model")
files = [f.path for f in api.list_repo_tree("alice/tiny-model", recursive=True)]
result = {"id": info.id, "private": info.private, "files": files,
          "config": open(hf_hub_download("alice/tiny-model", "config.json"), "rb").read().decode()}
""", token=WRITE)
    assert out.error is None, out.error
    assert out.result == {"id": "alice/tiny-model", "private": False, "files": [".gitattributes", "config.json"],
                          "config": '{"hidden": 4}'}
    assert hub.repo("alice/tiny-model", repo_type="model").files["config.json"].lfs is False


def test_second_upload_creates_new_commit(hub, client):
    repo = hub.add_repo("alice/evolving", repo_type="dataset", files={"data.jsonl": b'{"x": 1}\n'})
    first = repo.sha
    out = client("""
from huggingface_hub import HfApi
api = HfApi()
info = api.upload_file(path_or_fileobj=b'{"x": 1}\\n{"x": 2}\\n', path_in_repo="data.jsonl",
                       repo_id="alice/evolving", repo_type="dataset")
result = {"oid": info.oid, "sha": api.repo_info("alice/evolving", repo_type="dataset").sha}
""", token=WRITE)
    assert out.error is None, out.error
    assert out.result["oid"] == out.result["sha"] == hub.repo("alice/evolving").sha != first
    assert hub.repo("alice/evolving").files["data.jsonl"].content == b'{"x": 1}\n{"x": 2}\n'
    assert len(hub.repo("alice/evolving").commits) == 3


def test_injected_500_on_whoami(hub, client):
    hub.fail_next("/api/whoami-v2", 500)
    out = client(f"""
from huggingface_hub import HfApi
api = HfApi()
try:
    api.whoami(token={WRITE!r})
except Exception as e:
    first = [type(e).__name__, e.response.status_code]
result = {{"first": first, "second": api.whoami(token={WRITE!r})["name"]}}
""")
    assert out.error is None, out.error
    assert out.result == {"first": ["HfHubHTTPError", 500], "second": "alice"}


def test_unknown_route_and_hang(hub):
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{hub.url}/api/datasets/alice/private-data/parquet", timeout=5)
    assert exc.value.code == 404 and "error" in json.loads(exc.value.read())
    hub.hang_next("/api/whoami-v2", seconds=2)
    with pytest.raises(OSError):  # socket timeout while the server hangs
        urllib.request.urlopen(f"{hub.url}/api/whoami-v2", timeout=0.3)
