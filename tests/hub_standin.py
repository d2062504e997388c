"""In-memory stand-in for the Hugging Face Hub HTTP API, for tests that drive the REAL client.

Why: huggingface_hub >= 2.x talks through `httpx2`, which `responses`/`respx` cannot intercept, and we
must never contact huggingface.co. So tests start this stdlib-only server on 127.0.0.1 and point the
real `huggingface_hub` / `datasets` at it with `HF_ENDPOINT`. Only the routes the client needs for
auth, repo creation, uploads (regular + plain LFS, Xet disabled), listing and downloads exist; any
other route answers 404 with a JSON error, as the Hub does.

Environment and import-time constants
-------------------------------------
`huggingface_hub.constants` reads `HF_ENDPOINT` (-> ENDPOINT), `HF_HUB_OFFLINE`, `HF_HOME`/cache
paths, `HF_HUB_DISABLE_XET`, timeouts, ... once, at import; `datasets.config` likewise freezes
`HF_ENDPOINT`, `HF_HOME`/`HF_DATASETS_CACHE` and the offline flag. The stand-in listens on an
ephemeral port known only after it starts, and any other test module may already have imported
these libraries, so setting env vars in-process is not reliable and patching the constants would
be patching the client. We therefore run client code in a fresh interpreter: `hub_env()` builds
the complete environment (endpoint, no offline flag, Xet off, private HF_HOME and datasets cache,
no proxies, telemetry and download counters off, optional HF_TOKEN) and `run_client()` executes a
snippet there and returns its JSON result or the raised exception (class, MRO, HTTP status).
In-process use is possible only if the env is set before the first import of huggingface_hub /
datasets in the process (e.g. `HubStandin(port=...)` + env set at conftest import time).

Behaviour mirrors the Hub where the client depends on it: private repos are invisible (401 to
anonymous users, 404 to other users, both with `X-Error-Code: RepoNotFound`), an unknown token gets
401 "Invalid credentials in Authorization header", write operations need a write token for the
repo's namespace (403 + JSON `{"error": ...}` otherwise), HEAD errors have no body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

REPO_PREFIX = {"model": "", "dataset": "datasets/"}
API_TYPES = {"models": "model", "datasets": "dataset"}
GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n*.bin filter=lfs diff=lfs merge=lfs -text\n"


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class HubError(Exception):
    """Raised by route handlers; rendered as a Hub-style error response."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.code, self.headers, self.extra = status, message, code, headers or {}, extra


class Request(NamedTuple):
    method: str
    path: str
    status: int


@dataclass(frozen=True)
class StoredFile:
    """One file as committed; `lfs` files are addressed by sha256 (pointer oid = git-sha1 of pointer)."""

    content: bytes
    lfs: bool
    last_commit: dict

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def pointer(self) -> bytes:
        return f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\nsize {len(self.content)}\n".encode()

    @property
    def blob_id(self) -> str:
        return git_sha1(self.pointer if self.lfs else self.content)

    @property
    def etag(self) -> str:
        """What the Hub sends as (X-Linked-)ETag: sha256 for LFS files, git-sha1 otherwise."""
        return self.sha256 if self.lfs else git_sha1(self.content)


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    private: bool
    gated: Any = False
    created_at: str = field(default_factory=_now)
    commits: list[dict] = field(default_factory=list)  # oldest first: {id, title, date, files}

    @property
    def owner(self) -> str:
        return self.repo_id.split("/")[0]

    @property
    def sha(self) -> str:
        return self.commits[-1]["id"]

    @property
    def files(self) -> dict[str, StoredFile]:
        """Files at the head of `main`."""
        return self.commits[-1]["files"]

    def snapshot(self, revision: str) -> tuple[str, dict[str, StoredFile]]:
        if revision == "main":
            return self.sha, self.files
        for commit in self.commits:
            if commit["id"] == revision:
                return commit["id"], commit["files"]
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    def commit(self, title: str, files: dict[str, StoredFile] | None = None, **changes: tuple[bytes, bool] | None) -> str:
        """Record a new commit; `changes` maps path -> (content, is_lfs) or None for deletion."""
        info = {"id": hashlib.sha1(os.urandom(20)).hexdigest(), "title": title, "date": _now()}
        new = dict(self.commits[-1]["files"] if self.commits else {}) if files is None else dict(files)
        for path, change in changes.items():
            if change is None:
                new.pop(path, None)
            else:
                new[path] = StoredFile(change[0], change[1], {k: info[k] for k in ("id", "title", "date")})
        self.commits.append({**info, "files": new})
        return info["id"]


class HubStandin:
    """Context manager running the fake Hub on 127.0.0.1 in a background thread.

    `lfs_threshold`: files at least this big (or with a NUL byte in their first 512 bytes, i.e. binary,
    as the Hub decides) get uploadMode "lfs" from preupload; the Hub's limit for regular files is 10 MB.
    """

    def __init__(self, port: int = 0, lfs_threshold: int = 10 * 1024 * 1024):
        self.lfs_threshold = lfs_threshold
        self.requests: list[Request] = []
        self._tokens: dict[str, dict] = {}
        self._repos: dict[tuple[str, str], Repo] = {}
        self._lfs: dict[str, bytes] = {}
        self._faults: list[dict] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HubStandin:
        self._thread = threading.Thread(target=self._server.serve_forever, name="hub-standin", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()  # wake up hanging handlers
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    # ---- test-facing helpers -------------------------------------------------------------------
    def add_token(self, token: str, user: str, scope: str = "write", orgs: tuple[str, ...] = ()) -> str:
        assert scope in ("read", "write")
        self._tokens[token] = {"user": user, "scope": scope, "orgs": tuple(orgs)}
        return token

    def add_repo(self, repo_id: str, repo_type: str = "dataset", private: bool = False, files: dict[str, bytes] | None = None) -> Repo:
        """Seed a repo directly (no HTTP), with an initial commit like the Hub's `.gitattributes` one."""
        with self._lock:
            repo = Repo(repo_id, repo_type, private)
            repo.commit("initial commit", **{".gitattributes": (GITATTRIBUTES, False)})
            if files:
                repo.commit("Seed files", **{p: (c, self._is_lfs(len(c), c[:512])) for p, c in files.items()})
            self._repos[(repo_type, repo_id)] = repo
            return repo

    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        return self._repos[(repo_type, repo_id)]

    def paths(self, method: str | None = None) -> list[str]:
        return [r.path for r in self.requests if method is None or r.method == method]

    def fail_next(self, path_substring: str, status: int, times: int = 1, headers: dict | None = None) -> None:
        """Answer the next `times` requests whose path contains `path_substring` with `status`."""
        self._faults.append({"sub": path_substring, "status": status, "times": times, "headers": headers or {}})

    def hang_next(self, path_substring: str, seconds: float, times: int = 1) -> None:
        """Delay the next matching requests by `seconds` (cut short when the server stops)."""
        self._faults.append({"sub": path_substring, "hang": seconds, "times": times})

    # ---- internals -----------------------------------------------------------------------------
    def _is_lfs(self, size: int, sample: bytes) -> bool:
        return size > 0 and (size >= self.lfs_threshold or b"\0" in sample)

    def _take_fault(self, path: str) -> dict | None:
        with self._lock:
            for fault in self._faults:
                if fault["sub"] in path and fault["times"] > 0:
                    fault["times"] -= 1
                    return fault
        return None

    def _user(self, headers) -> dict | None:
        auth = headers.get("Authorization") or ""
        if not auth:
            return None
        token = auth.removeprefix("Bearer ").strip()
        if token not in self._tokens:
            raise HubError(401, "Invalid username or password.", headers={"X-Error-Message": "Invalid credentials in Authorization header"})
        return {"token": token, **self._tokens[token]}

    def _visible_repo(self, repo_type: str, repo_id: str, user: dict | None) -> Repo:
        repo = self._repos.get((repo_type, repo_id))
        if repo is None or (repo.private and not _owns(user, repo.owner)):
            status = 401 if user is None else 404
            raise HubError(status, "Repository not found", "RepoNotFound", {"X-Error-Message": "Repository not found"})
        return repo

    def _writable_repo(self, repo_type: str, repo_id: str, user: dict | None) -> Repo:
        repo = self._visible_repo(repo_type, repo_id, user)
        _require_write(user, repo.owner)
        return repo


def _owns(user: dict | None, namespace: str) -> bool:
    return user is not None and namespace in (user["user"], *user["orgs"])


def _require_write(user: dict | None, namespace: str) -> None:
    if user is None:
        raise HubError(401, "You must be authenticated to do this")
    if not _owns(user, namespace):
        raise HubError(403, f"You don't have the rights to write to the '{namespace}' namespace")
    if user["scope"] != "write":
        raise HubError(403, "This token has read-only access; a write token is required", headers={"X-Error-Message": "Forbidden"})


def _entry(path: str, f: StoredFile | None, expand: bool, head: dict) -> dict:
    """JSON of one tree / paths-info entry (`f` None => directory)."""
    if f is None:
        out = {"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "size": 0, "path": path}
        last = head
    else:
        out = {"type": "file", "oid": f.blob_id, "size": len(f.content), "path": path}
        if f.lfs:
            out["lfs"] = {"oid": f.sha256, "size": len(f.content), "pointerSize": len(f.pointer)}
        last = f.last_commit
    if expand:
        out["lastCommit"] = {"id": last["id"], "title": last["title"], "date": last["date"]}
    return out


def _folders(files: dict[str, StoredFile]) -> set[str]:
    return {p.rsplit("/", i)[0] for p in files for i in range(1, p.count("/") + 1)}


class _Route(NamedTuple):
    kind: str
    repo_type: str | None = None
    repo_id: str | None = None
    rest: list[str] = []


def _parse_route(path: str) -> _Route:
    """Split a raw (still %-encoded) path into a route; segments are unquoted individually."""
    seg = [unquote(s) for s in path.strip("/").split("/")]
    if seg[:2] == ["api", "whoami-v2"]:
        return _Route("whoami")
    if seg[:2] == ["api", "validate-yaml"]:
        return _Route("validate-yaml")
    if seg[:3] == ["api", "repos", "create"]:
        return _Route("create")
    if seg[:3] == ["api", "repos", "delete"]:
        return _Route("delete")
    if len(seg) >= 4 and seg[0] == "api" and seg[1] in API_TYPES:
        return _Route("api", API_TYPES[seg[1]], f"{seg[2]}/{seg[3]}", seg[4:])
    if seg[0] == "_lfs" and len(seg) >= 2:
        return _Route("lfs-object", rest=seg[1:])
    repo_type = "dataset" if seg[0] == "datasets" else "model"
    seg = seg[1:] if seg[0] == "datasets" else seg
    if len(seg) >= 4 and seg[2] == "resolve":
        return _Route("resolve", repo_type, f"{seg[0]}/{seg[1]}", seg[3:])
    if len(seg) == 6 and seg[1].endswith(".git") and seg[2:] == ["info", "lfs", "objects", "batch"]:
        return _Route("lfs-batch", repo_type, f"{seg[0]}/{seg[1][:-4]}")
    return _Route("unknown")


def _make_handler(hub: HubStandin):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

        def do_GET(self):
            self._handle()

        do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

        # -- plumbing --
        def _read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks = []
                while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _send(self, status: int, body: Any = b"", headers: dict | None = None, length: int | None = None) -> None:
            if not isinstance(body, bytes):
                body = json.dumps(body).encode()
                headers = {"Content-Type": "application/json", **(headers or {})}
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, str(value))
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            with hub._lock:
                hub.requests.append(Request(self.command, urlsplit(self.path).path, status))

        def _error(self, err: HubError) -> None:
            headers = dict(err.headers)
            if err.code:
                headers["X-Error-Code"] = err.code
            if self.command == "HEAD":  # the Hub sends no body on HEAD errors
                self._send(err.status, b"", headers, length=0)
            else:
                self._send(err.status, {"error": err.message, **err.extra}, headers)

        def _handle(self) -> None:
            split = urlsplit(self.path)
            self.query = parse_qs(split.query)
            self.body = self._read_body()
            try:
                fault = hub._take_fault(split.path)
                if fault and "hang" in fault:
                    hub._stop.wait(fault["hang"])
                elif fault:
                    raise HubError(fault["status"], f"Injected failure ({fault['status']})", headers=fault["headers"])
                route = _parse_route(split.path)
                handler = getattr(self, "r_" + route.kind.replace("-", "_"))
                with hub._lock:
                    handler(route, hub._user(self.headers))
            except HubError as err:
                self._error(err)
            except Exception as exc:  # a bug in the stand-in: make it visible to the client
                self._error(HubError(500, f"stand-in error: {exc!r}"))

        def _json(self) -> Any:
            try:
                return json.loads(self.body or b"{}")
            except ValueError:
                raise HubError(400, "Invalid JSON body")

        def _flag(self, name: str) -> bool:
            return (self.query.get(name) or ["false"])[0].lower() in ("1", "true")

        # -- routes --
        def r_unknown(self, route, user):
            raise HubError(404, "Sorry, we can't find the page you are looking for.")

        def r_whoami(self, route, user):
            if user is None:
                raise HubError(401, "Invalid username or password.")
            self._send(200, {
                "type": "user", "id": hashlib.md5(user["user"].encode()).hexdigest()[:24], "name": user["user"],
                "fullname": user["user"], "email": f"{user['user']}@example.invalid", "emailVerified": True,
                "canPay": False, "isPro": False, "periodEnd": None, "avatarUrl": "",
                "orgs": [{"type": "org", "name": org, "fullname": org, "roleInOrg": "admin"} for org in user["orgs"]],
                "auth": {"type": "access_token", "accessToken": {
                    "displayName": f"{user['user']}-{user['scope']}", "role": user["scope"], "createdAt": _now()}},
            })

        def r_validate_yaml(self, route, user):
            self._send(200, {"errors": [], "warnings": []})

        def r_create(self, route, user):
            payload = self._json()
            repo_type = payload.get("type") or "model"
            if repo_type not in REPO_PREFIX:
                raise HubError(400, f"Unsupported repo type in stand-in: {repo_type}")
            namespace = payload.get("organization") or (user["user"] if user else "")
            repo_id = f"{namespace}/{payload['name']}"
            _require_write(user, namespace)
            url = f"{hub.url}/{REPO_PREFIX[repo_type]}{repo_id}"
            if (repo_type, repo_id) in hub._repos:
                raise HubError(409, f"You already created this {repo_type} repo", url=url)  # client reads "url"
            private = payload.get("visibility", "private" if payload.get("private") else "public") == "private"
            hub.add_repo(repo_id, repo_type, private=private)
            self._send(200, {"url": url, "name": repo_id, "id": hashlib.md5(repo_id.encode()).hexdigest()[:24]})

        def r_delete(self, route, user):
            payload = self._json()
            repo_type = payload.get("type") or "model"
            repo_id = f"{payload.get('organization') or (user or {}).get('user')}/{payload['name']}"
            hub._writable_repo(repo_type, repo_id, user)
            del hub._repos[(repo_type, repo_id)]
            self._send(200, {})

        def r_api(self, route, user):
            action = route.rest[0] if route.rest else ""
            method = self.command
            if action in ("", "revision") and method == "GET":
                return self._repo_info(route, user, route.rest[1] if action else "main")
            if action == "settings" and method == "PUT":
                return self._settings(route, user)
            if action in ("preupload", "commit") and method == "POST":
                repo = hub._writable_repo(route.repo_type, route.repo_id, user)
                if route.rest[1:] not in (["main"], [repo.sha]):
                    raise HubError(404, f"Invalid rev id: {'/'.join(route.rest[1:])}", "RevisionNotFound")
                return self._preupload(repo) if action == "preupload" else self._commit(repo)
            if action == "tree" and method == "GET" and len(route.rest) >= 2:
                return self._tree(route, user)
            if action == "paths-info" and method == "POST" and len(route.rest) == 2:
                return self._paths_info(route, user)
            raise HubError(404, "Sorry, we can't find the page you are looking for.")

        def _repo_info(self, route, user, revision):
            repo = hub._visible_repo(route.repo_type, route.repo_id, user)
            sha, files = repo.snapshot(revision)
            blobs = self._flag("blobs")
            siblings = []
            for path, f in sorted(files.items()):
                sib = {"rfilename": path}
                if blobs:
                    sib.update(size=len(f.content), blobId=f.blob_id)
                    if f.lfs:
                        sib["lfs"] = {"size": len(f.content), "sha256": f.sha256, "pointerSize": len(f.pointer)}
                siblings.append(sib)
            info = {
                "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24], "id": repo.repo_id, "author": repo.owner,
                "sha": sha, "private": repo.private, "gated": repo.gated, "disabled": False, "downloads": 0,
                "likes": 0, "tags": [], "createdAt": repo.created_at, "lastModified": repo.commits[-1]["date"],
                "siblings": siblings, "usedStorage": sum(len(f.content) for f in files.values()),
            }
            if repo.repo_type == "model":
                info["modelId"] = repo.repo_id
            self._send(200, info)

        def _settings(self, route, user):
            repo = hub._writable_repo(route.repo_type, route.repo_id, user)
            payload = self._json()
            if "visibility" in payload:
                repo.private = payload["visibility"] == "private"
            if "private" in payload:
                repo.private = bool(payload["private"])
            if "gated" in payload:
                repo.gated = payload["gated"]
            self._send(200, {})

        def _preupload(self, repo):
            out = []
            for item in self._json().get("files", []):
                sample = base64.b64decode(item.get("sample", ""))
                existing = repo.files.get(item["path"])
                out.append({
                    "path": item["path"], "uploadMode": "lfs" if hub._is_lfs(item["size"], sample) else "regular",
                    "shouldIgnore": False, "oid": existing.etag if existing else None,
                })
            self._send(200, {"files": out, "commitOid": repo.sha})

        def _commit(self, repo):
            lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
            if not lines or lines[0].get("key") != "header":
                raise HubError(400, "First line of the commit payload must be the header")
            header = lines[0]["value"]
            if header.get("parentCommit") not in (None, repo.sha):
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            changes: dict[str, tuple[bytes, bool] | None] = {}
            for line in lines[1:]:
                key, value = line["key"], line["value"]
                if key == "file":
                    changes[value["path"]] = (base64.b64decode(value["content"]), False)
                elif key == "lfsFile":
                    if value["oid"] not in hub._lfs:
                        raise HubError(422, f"LFS object {value['oid']} was not uploaded")
                    changes[value["path"]] = (hub._lfs[value["oid"]], True)
                elif key == "deletedFile":
                    if value["path"] not in repo.files:
                        raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                    changes[value["path"]] = None
                elif key == "deletedFolder":
                    prefix = value["path"].rstrip("/") + "/"
                    changes.update({p: None for p in repo.files if p.startswith(prefix)})
                else:
                    raise HubError(400, f"Unsupported commit operation in stand-in: {key}")
            sha = repo.commit(header.get("summary", ""), **changes)
            url = f"{hub.url}/{REPO_PREFIX[repo.repo_type]}{repo.repo_id}/commit/{sha}"
            self._send(200, {"success": True, "commitOid": sha, "commitUrl": url, "hookOutput": ""})

        def _tree(self, route, user):
            repo = hub._visible_repo(route.repo_type, route.repo_id, user)
            sha, files = repo.snapshot(route.rest[1])
            base = "/".join(route.rest[2:]).strip("/")
            prefix = base + "/" if base else ""
            recursive, expand = self._flag("recursive"), self._flag("expand")
            head = next(c for c in repo.commits if c["id"] == sha)
            entries = []
            for path in sorted(set(files) | _folders(files)):
                rel = path[len(prefix):]
                if path.startswith(prefix) and rel and (recursive or "/" not in rel):
                    entries.append(_entry(path, files.get(path), expand, head))
            if base and not entries:
                raise HubError(404, f"Entry not found: {base}", "EntryNotFound", {"X-Repo-Commit": sha})
            self._send(200, entries)

        def _paths_info(self, route, user):
            repo = hub._visible_repo(route.repo_type, route.repo_id, user)
            sha, files = repo.snapshot(route.rest[1])
            form = parse_qs(self.body.decode()) if self.body else {}
            if not form and self.body:
                form = self._json()
            expand = str((form.get("expand") or ["false"])[0]).lower() == "true"
            head = next(c for c in repo.commits if c["id"] == sha)
            folders = _folders(files)
            out = [_entry(p, files.get(p), expand, head) for p in form.get("paths", []) if p in files or p in folders]
            self._send(200, out)

        def r_resolve(self, route, user):
            if self.command not in ("GET", "HEAD"):
                raise HubError(405, "Method not allowed")
            repo = hub._visible_repo(route.repo_type, route.repo_id, user)
            sha, files = repo.snapshot(route.rest[0])
            path = "/".join(route.rest[1:])
            f = files.get(path)
            if f is None:
                raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": sha})
            data, status = f.content, 200
            headers = {"ETag": f'"{f.etag}"', "X-Repo-Commit": sha, "Accept-Ranges": "bytes",
                       "Content-Type": "application/octet-stream"}
            if f.lfs:
                headers.update({"X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": len(data)})
            if (rng := self.headers.get("Range")) and rng.startswith("bytes="):
                start_s, _, end_s = rng[6:].split(",")[0].partition("-")
                start = int(start_s) if start_s else max(len(data) - int(end_s), 0)
                end = min(int(end_s), len(data) - 1) if start_s and end_s else len(data) - 1
                if start >= len(data):
                    raise HubError(416, "Range not satisfiable", headers={"Content-Range": f"bytes */{len(data)}"})
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                data, status = data[start:end + 1], 206
            self._send(status, data, headers)

        def r_lfs_batch(self, route, user):
            payload = self._json()
            if payload.get("operation") == "upload":
                hub._writable_repo(route.repo_type, route.repo_id, user)
            else:
                hub._visible_repo(route.repo_type, route.repo_id, user)
            objects = []
            for obj in payload.get("objects", []):
                out = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
                if obj["oid"] not in hub._lfs:
                    out["actions"] = {
                        "upload": {"href": f"{hub.url}/_lfs/{obj['oid']}", "header": {}},
                        "verify": {"href": f"{hub.url}/_lfs/{obj['oid']}/verify", "header": {}},
                    }
                objects.append(out)
            self._send(200, {"transfer": "basic", "objects": objects}, {"Content-Type": "application/vnd.git-lfs+json"})

        def r_lfs_object(self, route, user):
            """Plays the pre-signed storage URL (PUT, no auth) and the verify callback (POST)."""
            oid = route.rest[0]
            if self.command == "PUT" and len(route.rest) == 1:
                if hashlib.sha256(self.body).hexdigest() != oid:
                    raise HubError(400, "Uploaded content does not match its sha256 oid")
                hub._lfs[oid] = self.body
                return self._send(200, b"", {"ETag": f'"{oid}"'})
            if self.command == "POST" and route.rest[1:] == ["verify"]:
                if oid not in hub._lfs or len(hub._lfs[oid]) != self._json().get("size"):
                    raise HubError(404, f"LFS object {oid} not found")
                return self._send(200, {"success": True})
            raise HubError(404, "Not found")

    return Handler


# ---- client-side helpers (run the real client in a fresh interpreter) ------------------------------

_CLEARED_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
                "HF_TOKEN_PATH", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ASSETS_CACHE", "HF_XET_CACHE",
                "HUGGINGFACE_CO_STAGING", "HF_HUB_ENABLE_HF_TRANSFER", "XDG_CACHE_HOME", "HF_DATASETS_CACHE",
                "HF_MODULES_CACHE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def hub_env(hub_url: str, home: str | os.PathLike, token: str | None = None, base: dict | None = None) -> dict[str, str]:
    """Complete environment for a client process talking only to the stand-in at `hub_url`."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _CLEARED_ENV}
    env.update({
        "HF_ENDPOINT": hub_url,
        "HF_HOME": str(home),
        "HF_DATASETS_CACHE": os.path.join(str(home), "datasets"),
        "HF_HUB_DISABLE_XET": "1",  # force the plain LFS upload/download path
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_ETAG_TIMEOUT": "5",
        "HF_HUB_DOWNLOAD_TIMEOUT": "10",
        "HF_UPDATE_DOWNLOAD_COUNTS": "0",  # datasets would HEAD s3.amazonaws.com otherwise
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    if token is not None:
        env["HF_TOKEN"] = token
    return env


@dataclass
class ClientResult:
    result: Any
    error: dict | None  # {"type", "mro", "status", "message"} when the snippet raised (`result` = value so far)
    stderr: str


_PRELUDE = """
import json, sys
def _emit(payload):
    sys.stdout.write("\\n@@CLIENT_RESULT@@" + json.dumps(payload, default=str) + "\\n")
result = None
try:
    exec(compile(sys.stdin.read(), "<client>", "exec"))
    _emit({"result": result, "error": None})
except BaseException as e:
    response = getattr(e, "response", None)
    _emit({"result": result, "error": {"type": type(e).__name__, "mro": [c.__name__ for c in type(e).__mro__],
           "status": getattr(response, "status_code", None), "message": str(e)}})
"""


def run_client(code: str, env: dict[str, str], timeout: float = 60) -> ClientResult:
    """Run `code` (which may set `result` to something JSON-able) in a fresh interpreter with `env`."""
    proc = subprocess.run([sys.executable, "-c", _PRELUDE], input=code, env=env, capture_output=True,
                          text=True, timeout=timeout)
    marker = proc.stdout.rpartition("@@CLIENT_RESULT@@")[2]
    if not marker.strip():
        raise RuntimeError(f"client process failed (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    payload = json.loads(marker)
    return ClientResult(payload["result"], payload["error"], proc.stderr)
