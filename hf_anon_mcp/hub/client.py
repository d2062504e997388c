"""The Hub client: token lookup, write-rights check, private repo creation, upload and visibility read-back.

Every huggingface_hub call goes through `HubClient`, which turns the library's errors into ours with one-line
messages scrubbed of anything token-like. Our errors are raised *outside* the `except` block so neither
`__cause__` nor `__context__` keeps the original exception (its request object holds the Authorization header).
"""

from __future__ import annotations

import logging
import os
import time
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from hf_anon_mcp.errors import AccessError, HfAnonError, HubServiceError, InputError, OfflineError

log = logging.getLogger("hf_anon_mcp.hub")

T = TypeVar("T")
NO_TOKEN = "no Hugging Face token: set HF_TOKEN or run `hf auth login`"
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?"
_REPO_ID = re.compile(rf"^{_NAME}/{_NAME}$")
_TOKENISH = re.compile(r"(hf_|api_|api_org_)[A-Za-z0-9]{6,}|(?i:bearer)\s+\S+|eyJ[\w-]{10,}\.[\w-]+\.?[\w-]*")


def validate_repo_id(repo_id: str) -> str:
    """`namespace/name` with the Hub's characters (letters, digits, `-`, `_`, `.`; no `--`/`..`; <= 96 chars)."""
    if (not isinstance(repo_id, str) or len(repo_id) > 96 or not _REPO_ID.match(repo_id)
            or "--" in repo_id or ".." in repo_id or repo_id.endswith(".git")):
        raise InputError("malformed repo id: expected 'namespace/name' (letters, digits, '-', '_', '.'; "
                         "no '--' or '..'; at most 96 characters)")
    return repo_id


def scrub(text: str, token: str | None = None) -> str:
    """`text` without the token and without anything shaped like a token or an Authorization header."""
    if token:
        text = text.replace(token, "***")
    return _TOKENISH.sub("***", text)


def read_token() -> str:
    """The token of HF_TOKEN or the huggingface_hub login; never an argument, never shown."""
    from huggingface_hub import get_token

    try:
        token = get_token()
    except Exception as err:  # noqa: BLE001 - e.g. a failed OIDC exchange; its text may hold a token
        failure = AccessError(f"cannot read the Hugging Face token ({type(err).__name__})")
    else:
        if token:
            return token
        failure = AccessError(NO_TOKEN)
    raise failure


@dataclass
class RepoState:
    exists: bool
    private: bool | None
    url: str


class HubClient:
    """Thin wrapper over `HfApi(token=...)` for dataset repos; every method raises only HfAnonError subclasses."""

    def __init__(self, token: str | None = None):
        from huggingface_hub import HfApi, constants

        self._token = token if token is not None else read_token()
        use_bounded_timeouts()
        self._api = HfApi(token=self._token)
        self.endpoint = constants.ENDPOINT

    def __repr__(self) -> str:  # never show the token
        return f"HubClient(endpoint={self.endpoint!r})"

    def repo_url(self, repo_id: str) -> str:
        return f"{self.endpoint.rstrip('/')}/datasets/{repo_id}"

    def user_name(self) -> str:
        """The user the token belongs to."""
        return self._call("check the token", lambda: self._api.whoami()).get("name") or ""

    def check_can_write(self, namespace: str) -> str:
        """The user name, if the token is valid and may write to `namespace`; AccessError otherwise."""
        info = self._call("check the token", lambda: self._api.whoami())
        user = info.get("name") or ""
        access = (info.get("auth") or {}).get("accessToken") or {}
        role = access.get("role")
        if role == "fineGrained":
            if not _fine_grained_can_write(access.get("fineGrained") or {}, namespace):
                raise AccessError(f"the token cannot write: its fine-grained permissions give no write access to "
                                  f"'{namespace}'", hint="create a token with repo write permission")
        elif role is not None and role != "write":
            raise AccessError(f"the token cannot write (role '{role}')", hint="use a token with write access")
        orgs = {o.get("name") for o in info.get("orgs") or []}
        if namespace != user and namespace not in orgs:
            raise AccessError(f"user '{user}' cannot write to namespace '{namespace}' (not the user or one of "
                              "their organizations)")
        return user

    def repo_state(self, repo_id: str) -> RepoState:
        """Does the dataset repo exist (as seen with this token), and is it private."""
        from huggingface_hub.errors import RepositoryNotFoundError

        try:
            info = _with_retries(lambda: self._api.repo_info(repo_id, repo_type="dataset"))
        except RepositoryNotFoundError:
            return RepoState(False, None, self.repo_url(repo_id))
        except Exception as err:  # noqa: BLE001
            failure = self._translate("read the repo", err)
        else:
            return RepoState(True, bool(info.private), self.repo_url(repo_id))
        raise failure

    def is_private(self, repo_id: str) -> bool:
        info = self._call("read the repo visibility", lambda: self._api.repo_info(repo_id, repo_type="dataset"))
        return bool(info.private)

    def create_private(self, repo_id: str) -> str:
        url = self._call("create the repo", lambda: self._api.create_repo(
            repo_id, repo_type="dataset", private=True, exist_ok=False))
        return str(url)

    def make_private(self, repo_id: str) -> None:
        self._call("make the repo private", lambda: self._api.update_repo_settings(
            repo_id, private=True, repo_type="dataset"))

    def upload(self, repo_id: str, files: dict[str, Path], message: str) -> tuple[str, str]:
        """Commit exactly `files` (path in repo -> local path); returns (commit sha, commit URL)."""
        from huggingface_hub import CommitOperationAdd

        ops = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(local)) for p, local in sorted(files.items())]
        info = self._call("upload", lambda: self._api.create_commit(
            repo_id, operations=ops, commit_message=message, repo_type="dataset"), retry=False)
        return info.oid, str(info.commit_url)

    def delete_repo(self, repo_id: str) -> None:
        self._call("delete the repo", lambda: self._api.delete_repo(repo_id, repo_type="dataset", missing_ok=True))

    # ---- error handling ---------------------------------------------------------------------------------------
    def _call(self, action: str, fn: Callable[[], T], *, retry: bool = True) -> T:
        """Run a Hub call; transient failures (429, 5xx, timeouts) are retried with backoff when `retry`."""
        try:
            return _with_retries(fn) if retry else fn()
        except Exception as err:  # noqa: BLE001 - every failure is translated, then raised outside this block
            failure = self._translate(action, err)
        raise failure

    def _translate(self, action: str, err: BaseException) -> HfAnonError:
        """One of our errors, with a one-line message free of tokens, for a huggingface_hub/httpx failure."""
        from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError, RepositoryNotFoundError

        if isinstance(err, HfAnonError):
            return err
        if isinstance(err, LocalTokenNotFoundError):
            return AccessError(NO_TOKEN)
        names = {type(e).__name__ for e in _chain(err)}
        if names & {"ConnectError", "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout", "TimeoutException",
                    "Timeout", "TimeoutError", "ConnectionError", "RemoteProtocolError", "OfflineModeIsEnabled",
                    "gaierror"}:
            kind = "timed out" if any("Timeout" in n for n in names) else "unreachable"
            return OfflineError(f"cannot {action}: the Hub is {kind} ({self.endpoint})")
        if isinstance(err, HfHubHTTPError):
            status = getattr(err.response, "status_code", None)
            detail = _first_line(scrub(getattr(err, "server_message", None) or "", self._token))
            suffix = f": {detail}" if detail else ""
            if isinstance(err, RepositoryNotFoundError) or status == 404:
                return AccessError(f"cannot {action}: repo not found or not visible to this token ({status})")
            if status == 401:
                return AccessError(f"cannot {action}: the Hub rejected the token (401, invalid or expired)",
                                   hint="set HF_TOKEN or run `hf auth login`")
            if status == 403:
                return AccessError(f"cannot {action}: the token cannot write here (403){suffix}")
            return HubServiceError(f"cannot {action}: the Hub answered {status}{suffix}")
        return HubServiceError(f"cannot {action} ({type(err).__name__}: {_first_line(scrub(str(err), self._token))})")


def _fine_grained_can_write(fine: dict, namespace: str) -> bool:
    """A fine-grained token writes to `namespace` if a scope on that user/org (or global) grants `repo.write`."""
    if "repo.write" in (fine.get("global") or []):
        return True
    for scope in fine.get("scoped") or []:
        entity = scope.get("entity") or {}
        name = entity.get("name") or ""
        if (name == namespace or name.startswith(namespace + "/")) and "repo.write" in (scope.get("permissions") or []):
            return True
    return False


RETRIES_ENV = "HF_ANON_MCP_HUB_RETRIES"
TIMEOUT_ENV = "HF_ANON_MCP_HUB_TIMEOUT"
_TRANSIENT_STATUS = {429, 500, 502, 503, 504}
_TRANSIENT_NAMES = {"ConnectError", "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout",
                    "RemoteProtocolError", "TimeoutException"}


def use_bounded_timeouts() -> None:
    """Give huggingface_hub's shared HTTP client a timeout (its default is none: a hanging Hub hangs forever).

    Uses the library's own hook, `set_client_factory`, keeping its default client and changing only the timeout.
    """
    import httpx2
    from huggingface_hub.utils import _http

    seconds = float(os.environ.get(TIMEOUT_ENV, "60"))
    if getattr(_http._GLOBAL_CLIENT_FACTORY, "_hfanon_timeout", None) == seconds:
        return

    def factory() -> "httpx2.Client":
        client = _http.default_client_factory()
        client.timeout = httpx2.Timeout(seconds, connect=min(seconds, 10.0))
        return client

    factory._hfanon_timeout = seconds
    _http.set_client_factory(factory)


def _with_retries(fn: Callable[[], T]) -> T:
    """Retry transient failures with exponential backoff (0.5 s, 1 s, 2 s ... capped at 8 s, honouring a short
    Retry-After); the last failure is raised as is."""
    attempts = max(1, int(os.environ.get(RETRIES_ENV, "3")))
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as err:  # noqa: BLE001
            if attempt + 1 >= attempts or not _transient(err):
                raise
            time.sleep(_delay(err, attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _transient(err: BaseException) -> bool:
    for e in _chain(err):
        if type(e).__name__ in _TRANSIENT_NAMES:
            return True
        status = getattr(getattr(e, "response", None), "status_code", None)
        if status in _TRANSIENT_STATUS:
            return True
    return False


def _delay(err: BaseException, attempt: int) -> float:
    response = getattr(err, "response", None)
    retry_after = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    if retry_after and str(retry_after).isdigit():
        return min(float(retry_after), 8.0)
    return min(0.5 * 2**attempt, 8.0)


def _chain(err: BaseException | None):
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def _first_line(text: str, limit: int = 160) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
