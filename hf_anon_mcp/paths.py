"""Allowed roots: every path a tool is given is resolved (symlinks, `..`, the parent of a new file) and refused
outside the roots the server was started with."""

from __future__ import annotations

from pathlib import Path

from hf_anon_mcp.errors import AccessError


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
