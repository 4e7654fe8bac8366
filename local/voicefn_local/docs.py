"""One OpenAPI document for every function of `voicefn serve`, and the pages that show it.

Each function app has its own OpenAPI document; the local server shows them as one API, the way
clients see it behind the custom domain. Schema names that two apps define differently are
renamed (``Name_<function>``) and that app's ``$ref`` s rewritten, so nothing is silently lost.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import HTMLResponse, Response

from voicefn.web import openapi_docs

__all__ = ["asset", "dumps", "merge_openapi", "redoc_page", "swagger_ui_page"]

_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def merge_openapi(specs: Mapping[str, Mapping[str, Any]], *, title: str, version: str,
                  description: str = "",
                  keep: Callable[[str, str], bool] | None = None) -> dict[str, Any]:
    """Merge OpenAPI documents keyed by function.

    ``keep(function, path)`` drops paths a function defines but does not serve (the local
    runtime passes "the manifest routes this path to this function").
    """
    merged: dict[str, Any] = {"openapi": "3.1.0",
                              "info": {"title": title, "version": version, "description": description},
                              "paths": {}, "components": {}}
    tags: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    for function, original in specs.items():
        spec = copy.deepcopy(dict(original))
        merged["openapi"] = str(spec.get("openapi", merged["openapi"]))
        renames = _merge_components(merged["components"], spec.get("components") or {}, function)
        if renames:
            spec = _rewrite_refs(spec, renames)
        for path, item in (spec.get("paths") or {}).items():
            if keep is not None and not keep(function, path):
                continue
            target = merged["paths"].setdefault(path, {})
            for method, operation in item.items():
                if method in target:
                    continue  # the first function to claim a method keeps it
                if method in _HTTP_METHODS and isinstance(operation, dict):
                    _unique_operation_id(operation, function, operation_ids)
                target[method] = operation
        for tag in spec.get("tags") or []:
            tags.setdefault(tag.get("name", ""), tag)
    sockets = [s for spec in specs.values() for s in (spec.get("x-websockets") or [])
               if keep is None or any(keep(f, s["path"]) for f in specs if s in (specs[f].get("x-websockets") or []))]
    if sockets:  # OpenAPI has no WebSockets: their protocols go in the description
        merged["x-websockets"] = sockets
        merged["info"]["description"] += openapi_docs.websocket_markdown(sockets)
    if tags:
        merged["tags"] = list(tags.values())
    if not merged["components"]:
        del merged["components"]
    return merged


def _merge_components(target: dict[str, Any], components: Mapping[str, Any],
                      function: str) -> dict[str, str]:
    """Add ``components`` into ``target``; returns old ref -> new ref for renamed entries."""
    renames: dict[str, str] = {}
    for section, entries in components.items():
        into = target.setdefault(section, {})
        for name, value in (entries or {}).items():
            if name not in into or into[name] == value:
                into[name] = value
                continue
            new_name = f"{name}_{function}"
            renames[f"#/components/{section}/{name}"] = f"#/components/{section}/{new_name}"
    # a second pass, so renamed entries carry their own rewritten refs
    for old, new in renames.items():
        section, name = old.split("/")[2], old.split("/")[3]
        new_name = new.split("/")[3]
        target[section][new_name] = _rewrite_refs(components[section][name], renames)
    return renames


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: (renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite_refs(v, renames))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _unique_operation_id(operation: dict[str, Any], function: str, seen: set[str]) -> None:
    op_id = operation.get("operationId")
    if not op_id:
        return
    if op_id in seen:
        op_id = f"{op_id}_{function}"
        operation["operationId"] = op_id
    seen.add(op_id)


def swagger_ui_page(openapi_url: str, title: str, root: str = "") -> HTMLResponse:
    """Swagger UI loading ``openapi_url``, its assets served by this server (no CDN)."""
    return openapi_docs.swagger_page(openapi_url, title, root + openapi_docs.ASSETS_PATH)


def redoc_page(openapi_url: str, title: str, root: str = "") -> HTMLResponse:
    """ReDoc loading ``openapi_url``, its assets served by this server (no CDN)."""
    return openapi_docs.redoc_page(openapi_url, title, root + openapi_docs.ASSETS_PATH)


def asset(path: str) -> Response:
    """``/docs/assets/<name>``: one of the Swagger UI / ReDoc files."""
    return openapi_docs.asset_response(path.rsplit("/", 1)[-1])


def dumps(spec: Mapping[str, Any]) -> bytes:
    """The document as JSON bytes (what ``/openapi.json`` answers)."""
    return json.dumps(spec, ensure_ascii=False, separators=(",", ":")).encode()
