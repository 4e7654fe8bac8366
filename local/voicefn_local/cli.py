"""The ``voicefn`` command: ``serve`` (every function locally), ``token`` (a dev JWT), ``package``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "build_parser"]

DEFAULT_DATA_DIR = ".voicefn"  # next to the repository's s.yaml (runtime.default_data_dir)
ENGINES = ("espeak", "deterministic")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicefn", description="voicefn: AI voice backend on Function Compute.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run every function of s.yaml in one local server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    _data_dir_option(serve)
    serve.add_argument("--engine", choices=ENGINES, default=None,
                       help="embedded DashScope engine (default: its own choice)")
    serve.add_argument("--s-yaml", type=Path, default=None, help="default: the repository's s.yaml")
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="print a JWT the local server accepts")
    token.add_argument("--user", required=True, help="user id (the token's sub)")
    token.add_argument("--ttl", type=int, default=86400, help="seconds until it expires (default 86400)")
    _data_dir_option(token)
    token.set_defaults(run=_token)

    package = commands.add_parser("package", help="build dist/layer.zip and one zip per function")
    package.add_argument("--out", type=Path, default=None,
                         help="default: dist/ next to s.yaml (where its `code:` paths point)")
    package.add_argument("--no-deps", action="store_true", help="layer without third-party packages")
    package.add_argument("--s-yaml", type=Path, default=None, help="default: the repository's s.yaml")
    package.set_defaults(run=_package)
    return parser


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="local state (objects, SQLite, secrets); default $VOICEFN_DATA_DIR, else "
                             f"{DEFAULT_DATA_DIR}/ next to the repository's s.yaml (wherever you run it from)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from voicefn.services import Services, set_services
    from voicefn.settings import SettingsError
    from voicefn_local.manifest import ManifestError, load_manifest
    from voicefn_local.runtime import build_local_app, local_settings

    try:
        manifest = load_manifest(args.s_yaml)
        settings = local_settings(args.host, args.port, args.data_dir, args.engine)
    except (ManifestError, SettingsError) as exc:
        print(f"voicefn serve: {exc}", file=sys.stderr)
        return 1
    services = Services(settings)
    set_services(services)  # this process is one instance: code outside requests finds them too
    app = build_local_app(manifest, services=services)
    base = settings.public_base_url
    print(f"voicefn serving on {base}  (data: {settings.data_dir})")
    print(f"  API docs:  {base}/docs")
    print(f"  DashScope: {settings.dashscope_http_url}")
    print("  try:       TOKEN=$(voicefn token --user demo)")
    print(f"             curl -H \"Authorization: Bearer $TOKEN\" {base}/api/audio/history", flush=True)
    print(f"  admin:     /dashscope/_admin/* needs X-Voicefn-Admin-Token from "
          f"{Path(settings.data_dir) / 'dashscope' / 'admin.token'}", flush=True)
    warning = exposure_warning(args.host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    # websockets' sans-I/O protocol, as in the cloud (voicefn.web.server); a stuck WebSocket must
    # not hold Ctrl-C forever
    uvicorn.run(app, host=args.host, port=args.port, ws="websockets-sansio", lifespan="on",
                log_level="info", timeout_graceful_shutdown=5)
    return 0


def exposure_warning(host: str) -> str | None:
    """A loud warning when ``voicefn serve`` listens beyond this machine: it is a dev server (its
    embedded DashScope, object store and dev tokens are for one laptop)."""
    if host in ("127.0.0.1", "localhost", "::1") or host.startswith("127."):
        return None
    bar = "!" * 78
    return (f"{bar}\nWARNING: voicefn serve is listening on {host}: anyone who can reach this port can use "
            "it.\nIt is a development server: its embedded DashScope, object store and dev JWTs are "
            "meant for\nthis machine only (the emulator's admin routes need the token in the data dir, "
            "but nothing\nelse here is hardened for a network). Use --host 127.0.0.1 unless you mean it."
            f"\n{bar}")


def _token(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from voicefn.auth.jwt import issue_token, local_jwt_secret
    from voicefn.errors import ApiError
    from voicefn.settings import SettingsError, load_settings
    from voicefn_local.runtime import resolve_data_dir

    if args.ttl <= 0:
        print("voicefn token: --ttl must be positive", file=sys.stderr)
        return 2
    try:
        settings = load_settings(defaults={"VOICEFN_RUNTIME": "local"})
    except SettingsError as exc:
        print(f"voicefn token: {exc}", file=sys.stderr)
        return 1
    # the data dir `voicefn serve` would use with the same flag and environment, said on stderr
    # so that TOKEN=$(voicefn token ...) stays clean
    data_dir = resolve_data_dir(args.data_dir, settings)
    settings = replace(settings, data_dir=data_dir)
    note = "" if data_dir.is_dir() else " (new: no server has used it yet)"
    print(f"voicefn token: data dir {data_dir}{note}", file=sys.stderr)
    try:
        secret = local_jwt_secret(settings)
    except ApiError as exc:  # e.g. VOICEFN_RUNTIME=cloud without VOICEFN_JWT_SECRET
        print(f"voicefn token: {exc}", file=sys.stderr)
        return 1
    print(issue_token(args.user, secret, ttl_s=args.ttl))
    return 0


def _package(args: argparse.Namespace) -> int:
    from voicefn_local.manifest import ManifestError, load_manifest
    from voicefn_local.package import PackageError, build_packages, format_table

    try:
        manifest = load_manifest(args.s_yaml)
        out = args.out.resolve() if args.out is not None else Path("dist")  # relative: next to s.yaml
        artifacts = build_packages(manifest, out, deps=not args.no_deps)
    except (ManifestError, PackageError) as exc:
        print(f"voicefn package: {exc}", file=sys.stderr)
        return 1
    print(format_table(artifacts, relative_to=manifest.path.resolve().parent))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
