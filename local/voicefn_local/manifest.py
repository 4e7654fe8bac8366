"""s.yaml, read as the local runtime's route and trigger table (DESIGN.md §2).

Only plain YAML plus the few Serverless Devs expressions s.yaml uses are understood:
``${vars.name}`` and ``${env('NAME')}`` / ``${env('NAME', 'default')}``. Anything else (for
example ``${config('AccountID')}``) is left as written: the local runtime never needs it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = [
    "FunctionSpec", "Manifest", "ManifestError", "OssTrigger", "Route",
    "default_s_yaml_path", "load_manifest", "parse_manifest", "resolve_expressions",
]

REPO_ROOT = Path(__file__).resolve().parents[2]

_EXPR = re.compile(r"\$\{\s*([^{}]*?)\s*\}")
_VARS_REF = re.compile(r"^vars\.([A-Za-z0-9_.-]+)$")
_ENV_CALL = re.compile(r"""^env\(\s*(['"])([^'"]*)\1\s*(?:,\s*(['"])([^'"]*)\3\s*)?\)$""")


class ManifestError(ValueError):
    """s.yaml is missing something the local runtime needs."""


@dataclass(frozen=True)
class OssTrigger:
    name: str
    bucket: str | None
    events: tuple[str, ...]   # as written in s.yaml: "oss:ObjectCreated:PutObject", "oss:ObjectCreated:*"
    prefix: str
    suffix: str

    def matches(self, key: str, event_name: str) -> bool:
        """Whether an upload of ``key`` with ``event_name`` (with or without ``oss:``) fires this."""
        if not (key.startswith(self.prefix) and key.endswith(self.suffix)):
            return False
        wanted = _strip_oss(event_name)
        for event in self.events:
            pattern = _strip_oss(event)
            if pattern.endswith(":*") and wanted.startswith(pattern[:-1]):
                return True
            if pattern == wanted:
                return True
        return False


@dataclass(frozen=True)
class FunctionSpec:
    key: str                       # resource key in s.yaml ("tts")
    name: str                      # FC functionName ("voicefn-tts")
    code: str                      # `code:` as written ("./dist/tts.zip")
    code_dir: Path                 # the source folder ("<repo>/functions/tts")
    kind: Literal["web", "event"]  # web: custom runtime server; event: handler(event, context)
    runtime: str
    environment: Mapping[str, str] = field(default_factory=dict)
    oss_triggers: tuple[OssTrigger, ...] = ()
    http_methods: tuple[str, ...] = ()  # of its HTTP trigger; empty if it has none

    @property
    def package(self) -> str:
        return f"voicefn_{self.code_dir.name}"

    @property
    def app_factory(self) -> str:
        return f"{self.package}.app:create_app"


@dataclass(frozen=True)
class Route:
    pattern: str                   # "/api/tts" (exact) or "/api/audio/tts/*" (prefix)
    function: FunctionSpec
    methods: tuple[str, ...] = ()  # empty: every method

    def matches(self, path: str) -> bool:
        if self.pattern.endswith("/*"):
            return path.startswith(self.pattern[:-1])
        return path == self.pattern

    def allows(self, method: str) -> bool:
        return not self.methods or method.upper() in self.methods


@dataclass(frozen=True)
class Manifest:
    path: Path
    functions: Mapping[str, FunctionSpec]   # by resource key
    routes: tuple[Route, ...]

    def function(self, key_or_name: str) -> FunctionSpec:
        """A function by resource key ("tts") or FC function name ("voicefn-tts")."""
        if key_or_name in self.functions:
            return self.functions[key_or_name]
        for spec in self.functions.values():
            if spec.name == key_or_name:
                return spec
        raise KeyError(key_or_name)

    def match(self, path: str) -> Route | None:
        """The route serving ``path``: exact patterns beat prefixes, the longest prefix wins."""
        best: Route | None = None
        best_rank = (-1, -1)
        for route in self.routes:
            if route.matches(path):
                exact = not route.pattern.endswith("/*")
                rank = (1 if exact else 0, len(route.pattern))
                if rank > best_rank:
                    best, best_rank = route, rank
        return best

    def match_route(self, path: str) -> FunctionSpec | None:
        route = self.match(path)
        return route.function if route else None

    def oss_triggers_for(self, key: str, event_name: str) -> list[FunctionSpec]:
        """Functions whose OSS trigger filters match an upload of ``key`` (issue 3's local events)."""
        return [spec for spec in self.functions.values()
                if any(t.matches(key, event_name) for t in spec.oss_triggers)]


def default_s_yaml_path() -> Path:
    """The repository's s.yaml (editable install), else ``./s.yaml``."""
    candidate = REPO_ROOT / "s.yaml"
    return candidate if candidate.is_file() else Path.cwd() / "s.yaml"


def load_manifest(path: str | os.PathLike[str] | None = None, *,
                  env: Mapping[str, str] | None = None) -> Manifest:
    """Read and resolve s.yaml (``env`` defaults to ``os.environ``)."""
    s_yaml = Path(path) if path is not None else default_s_yaml_path()
    try:
        text = s_yaml.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{s_yaml} not found (pass --s-yaml)") from None
    return parse_manifest(text, s_yaml.resolve().parent, env=env, path=s_yaml)


def parse_manifest(text: str, root: Path, *, env: Mapping[str, str] | None = None,
                   path: Path | None = None) -> Manifest:
    """Build a manifest from s.yaml text; relative code paths are resolved against ``root``."""
    doc = yaml.safe_load(text) or {}
    if not isinstance(doc, dict):
        raise ManifestError("s.yaml is not a mapping")
    environ = os.environ if env is None else env
    variables = resolve_expressions(doc.get("vars") or {}, {}, environ)
    resources = resolve_expressions(doc.get("resources") or {}, variables, environ)

    functions: dict[str, FunctionSpec] = {}
    domains: list[dict[str, Any]] = []
    for key, resource in resources.items():
        component = str((resource or {}).get("component", ""))
        props = (resource or {}).get("props") or {}
        if component.startswith("fc3-domain"):
            domains.append(props)
        elif component == "fc3" or component.startswith("fc3@"):
            functions[key] = _function(key, props, root)

    by_name = {spec.name: spec for spec in functions.values()}
    routes: list[Route] = []
    for props in domains:
        for raw in ((props.get("routeConfig") or {}).get("routes") or []):
            target = str(raw.get("functionName", ""))
            spec = by_name.get(target) or functions.get(target)
            if spec is None:
                raise ManifestError(f"route {raw.get('path')!r} points at undeclared function {target!r}")
            routes.append(Route(str(raw["path"]), spec, tuple(m.upper() for m in raw.get("methods") or ())))
    return Manifest(path or root / "s.yaml", functions, tuple(routes))


def _function(key: str, props: Mapping[str, Any], root: Path) -> FunctionSpec:
    code = props.get("code")
    if not isinstance(code, str):
        raise ManifestError(f"function {key!r}: `code` must be a path (got {code!r})")
    runtime = str(props.get("runtime", ""))
    triggers = props.get("triggers") or []
    http_methods: tuple[str, ...] = ()
    oss: list[OssTrigger] = []
    for trigger in triggers:
        kind = trigger.get("triggerType")
        config = trigger.get("triggerConfig") or {}
        if kind == "http":
            http_methods = tuple(str(m).upper() for m in config.get("methods") or ())
        elif kind == "oss":
            key_filter = (config.get("filter") or {}).get("key") or {}
            oss.append(OssTrigger(
                name=str(trigger.get("triggerName", "")),
                bucket=_bucket_from_arn(trigger.get("sourceArn")),
                events=tuple(str(e) for e in config.get("events") or ()),
                prefix=str(key_filter.get("prefix") or ""),
                suffix=str(key_filter.get("suffix") or ""),
            ))
    environment = {str(k): str(v) for k, v in (props.get("environmentVariables") or {}).items()}
    return FunctionSpec(
        key=key, name=str(props.get("functionName") or key), code=code, code_dir=_code_dir(code, root),
        kind="web" if runtime.startswith("custom") else "event", runtime=runtime,
        environment=environment, oss_triggers=tuple(oss), http_methods=http_methods,
    )


def _code_dir(code: str, root: Path) -> Path:
    # `./dist/<dir>.zip` is built by `voicefn package` from `functions/<dir>/`
    location = Path(code)
    if location.suffix == ".zip":
        return (root / "functions" / location.stem).resolve()
    return (root / location).resolve()


def _bucket_from_arn(arn: Any) -> str | None:
    # acs:oss:<region>:<account>:<bucket>
    if not isinstance(arn, str) or not arn.startswith("acs:oss:"):
        return None
    return arn.rsplit(":", 1)[-1] or None


def _strip_oss(event: str) -> str:
    return event[4:] if event.startswith("oss:") else event


def resolve_expressions(value: Any, variables: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    """Substitute ``${vars.x}`` and ``${env('X', 'default')}`` in every string of ``value``."""
    if isinstance(value, dict):
        return {k: resolve_expressions(v, variables, env) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_expressions(v, variables, env) for v in value]
    if not isinstance(value, str):
        return value
    whole = _EXPR.fullmatch(value.strip())
    if whole:  # a lone expression may stand for a non-string (a vars mapping or list)
        found, result = _evaluate(whole.group(1), variables, env)
        return result if found else value
    return _EXPR.sub(lambda m: _substitute(m, variables, env), value)


def _substitute(match: re.Match[str], variables: Mapping[str, Any], env: Mapping[str, str]) -> str:
    found, result = _evaluate(match.group(1), variables, env)
    return str(result) if found else match.group(0)


def _evaluate(expr: str, variables: Mapping[str, Any], env: Mapping[str, str]) -> tuple[bool, Any]:
    ref = _VARS_REF.match(expr)
    if ref:
        current: Any = variables
        for part in ref.group(1).split("."):
            if not isinstance(current, Mapping) or part not in current:
                return False, None
            current = current[part]
        return True, current
    call = _ENV_CALL.match(expr)
    if call:
        name, default = call.group(2), call.group(4)
        value = env.get(name)
        return True, value if value not in (None, "") else (default or "")
    return False, None
