"""The web playground (issue 11): ``GET /playground/`` and its files, static only.

A browser opening ``/`` is sent here by that route's owner (seed 004's service information in the
chat function answers a page load with a redirect).

The page is plain HTML, CSS and ES modules shipped in this package (``playground/``), so it
deploys with the account function behind the same custom domain as the API and calls that API
exactly as any client does. Only files that exist in that folder are served (no path walking);
they are small, so each is read on request and the event function answers it buffered.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Response
from fastapi.responses import RedirectResponse

from voicefn.errors import ApiError
from voicefn.web.routing import plain_router

router = plain_router(include_in_schema=False)

ASSETS_DIR = Path(__file__).resolve().parent / "playground"
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
# the page calls only this origin and plays audio from it or from signed object URLs (blob: when
# streamed); nothing is loaded from anywhere else, which also proves it works offline
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob: data: https: http:; connect-src 'self' https: http: ws: wss:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def asset_names() -> list[str]:
    """The files the playground consists of (relative to its folder, ``/``-separated)."""
    return sorted(p.relative_to(ASSETS_DIR).as_posix() for p in ASSETS_DIR.rglob("*")
                  if p.is_file() and p.suffix in _TYPES)


def _file(name: str) -> Response:
    if name not in asset_names():
        raise ApiError("NOT_FOUND", f"no playground file {name}")
    path = ASSETS_DIR / name
    return Response(path.read_bytes(), media_type=_TYPES[path.suffix],
                    headers={"Cache-Control": "no-cache", "Content-Security-Policy": _CSP,
                             "X-Content-Type-Options": "nosniff"})


@router.get("/playground")
async def playground_redirect() -> Response:
    return RedirectResponse("/playground/", status_code=307)


@router.get("/playground/{name:path}")
async def playground_file(name: str) -> Response:
    return _file(name or "index.html")
