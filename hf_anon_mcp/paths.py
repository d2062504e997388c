"""Allowed roots: every path a tool is given is resolved (symlinks, `..`, the parent of a new file) and refused
outside the roots the server was started with."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hf_anon_mcp.errors import AccessError, InputError


def guard(path: str | Path, roots: list[Path], *, new: bool = False) -> Path:
    """The resolved path, if inside one of `roots`; relative paths are taken from the first root.

    `new=True` for an output that may not exist yet: its parent is resolved instead, so a symlinked parent
    cannot point outside the roots.
    """
    raw = Path(path).expanduser()
    if not raw.is_absolute():
        raw = roots[0] / raw
    resolved = (raw.parent.resolve() / raw.name) if new else raw.resolve()
    if new and resolved.is_symlink():
        resolved = resolved.resolve()
    if not any(resolved == root or root in resolved.parents for root in roots):
        shown = ", ".join(str(r) for r in roots)
        raise AccessError(f"path is outside the allowed roots: {path}",
                          hint=f"allowed roots: {shown}; use a path inside them or restart the server with --root")
    return resolved


ROOTS_ENV = "HF_ANON_MCP_ROOTS"


def roots_from_env(value: str | None = None) -> list[Path]:
    """Roots from `HF_ANON_MCP_ROOTS`: a JSON list, or folders separated by the OS path separator (`:`/`;`)."""
    value = os.environ.get(ROOTS_ENV, "") if value is None else value
    value = value.strip()
    if not value:
        return []
    if value.startswith("["):
        try:
            items = json.loads(value)
        except json.JSONDecodeError:
            raise InputError(f"{ROOTS_ENV} is not a valid JSON list",
                             hint="use folders separated by the OS path separator, or a JSON list") from None
        return [Path(str(item)).expanduser() for item in items]
    return [Path(part).expanduser() for part in value.split(os.pathsep) if part.strip()]


def normalize_roots_env() -> None:
    """Settings read `HF_ANON_MCP_ROOTS` as JSON only; rewrite the friendlier `a:b` form as JSON in place so both
    the CLI and `build_server()` accept it (this process only)."""
    value = os.environ.get(ROOTS_ENV)
    if value and not value.strip().startswith("["):
        os.environ[ROOTS_ENV] = json.dumps([str(p) for p in roots_from_env(value)])
