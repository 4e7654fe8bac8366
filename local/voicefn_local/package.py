"""`voicefn package`: the zips s.yaml deploys (the shared layer and one per function).

- ``layer.zip``: top folder ``python/`` (FC mounts it at /opt/python) holding the ``voicefn``
  package and, unless ``deps=False``, the runtime dependencies of pyproject.toml
  (``[project].dependencies`` and the ``audio`` extra) as wheels for FC's interpreter: CPython 3.12
  on x86_64 glibc (Debian 11 has glibc 2.31, so manylinux2014 and manylinux_2_28 wheels run).
  Nothing FC preinstalls is skipped: its copies (oss2 2.18.6, …) are older than the pins tested here.
- ``<function>.zip``: the function's ``voicefn_<dir>`` package and its ``index.py`` (web functions
  start ``python3 -m voicefn.web.server`` from the layer, so they need nothing else).

Zips are reproducible (sorted entries, fixed timestamps), so fc3 skips uploading unchanged code
(it compares checksums). Dev-only code, tests and bytecode are never included.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from voicefn_local.manifest import FunctionSpec, Manifest

__all__ = ["Artifact", "PackageError", "TARGET_PLATFORMS", "TARGET_PYTHON", "build_function_zip",
           "build_layer", "build_packages", "format_table", "install_dependencies", "layer_requirements",
           "requirements_for_target"]

TARGET_PYTHON = "3.12"   # FC python3.12 and custom.debian11 (see s.yaml)
TARGET_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
LAYER_EXTRAS = ("audio",)
# our own code ships without tests or dev-only code; third-party packages keep theirs (a few
# import their "tests" module at run time), minus bytecode
OWN_EXCLUDED_DIRS = frozenset({"__pycache__", "tests", ".pytest_cache", "voicefn_local"})
DEPS_EXCLUDED_DIRS = frozenset({"__pycache__"})
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class PackageError(RuntimeError):
    """Packaging cannot produce a correct artifact."""


@dataclass(frozen=True)
class Artifact:
    name: str
    path: Path
    size: int
    files: int


def build_packages(manifest: Manifest, out_dir: str | os.PathLike[str], *, deps: bool = True,
                   run: Runner = subprocess.run) -> list[Artifact]:
    """Build ``layer.zip`` and one zip per function of ``manifest`` into ``out_dir``."""
    root = manifest.path.resolve().parent
    out = Path(out_dir)
    if not out.is_absolute():
        out = root / out
    out.mkdir(parents=True, exist_ok=True)
    artifacts = [build_layer(root, out, deps=deps, run=run)]
    artifacts += [build_function_zip(spec, out) for spec in manifest.functions.values()]
    return artifacts


def build_layer(root: Path, out_dir: Path, *, deps: bool = True, run: Runner = subprocess.run) -> Artifact:
    source = root / "layers" / "common" / "python" / "voicefn"
    if not (source / "__init__.py").is_file():
        raise PackageError(f"the layer package is missing: {source}")
    entries = [(f"python/voicefn/{rel}", path) for rel, path in _files(source)]
    with tempfile.TemporaryDirectory(prefix="voicefn-layer-") as tmp:
        if deps:
            target = Path(tmp) / "python"
            requirements = requirements_for_target(layer_requirements(root / "pyproject.toml"))
            install_dependencies(requirements, target, run=run)
            for rel, path in _files(target, DEPS_EXCLUDED_DIRS):
                # console scripts carry this machine's interpreter path: useless on FC
                if not rel.startswith("bin/") and not rel.startswith("voicefn/"):
                    entries.append((f"python/{rel}", path))
        return _write_zip("layer", out_dir / "layer.zip", entries)


def build_function_zip(spec: FunctionSpec, out_dir: Path) -> Artifact:
    package_dir = spec.code_dir / spec.package
    index = spec.code_dir / "index.py"
    if not (package_dir / "__init__.py").is_file():
        raise PackageError(f"function {spec.key!r}: package {package_dir} is missing")
    if not index.is_file():
        raise PackageError(f"function {spec.key!r}: {index} is missing")
    entries = [("index.py", index)]
    entries += [(f"{spec.package}/{rel}", path) for rel, path in _files(package_dir)]
    name = Path(spec.code).name if spec.code.endswith(".zip") else f"{spec.code_dir.name}.zip"
    return _write_zip(spec.key, out_dir / name, entries)


def layer_requirements(pyproject: Path, extras: Sequence[str] = LAYER_EXTRAS) -> list[str]:
    """``[project].dependencies`` plus ``extras``, with ``voicefn[x]`` self-references expanded."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, as a package
        import tomli as tomllib

    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    name = project["name"]
    optional = project.get("optional-dependencies", {})
    found: list[str] = []
    seen_extras: set[str] = set()

    def add(requirements: Iterable[str]) -> None:
        for requirement in requirements:
            req = requirement.strip()
            if req.startswith(f"{name}[") and req.endswith("]"):
                expand(req[len(name) + 1:-1].split(","))
            elif req not in found:
                found.append(req)

    def expand(names: Iterable[str]) -> None:
        for extra in (n.strip() for n in names):
            if extra in seen_extras:
                continue
            if extra not in optional:
                raise PackageError(f"pyproject.toml has no extra {extra!r}")
            seen_extras.add(extra)
            add(optional[extra])

    add(project.get("dependencies", []))
    expand(extras)
    return found


def requirements_for_target(requirements: Iterable[str], python_version: str = TARGET_PYTHON) -> list[str]:
    """Keep the requirements whose markers hold on FC's interpreter, without their markers.

    pip evaluates markers against the interpreter running it even with ``--python-version``, so a
    ``python_version < '3.11'`` pin would be chosen (or dropped) by this machine, not by FC.
    """
    from packaging.requirements import Requirement  # pip's own parser; installed with pytest (dev)

    target = {"python_version": python_version, "python_full_version": f"{python_version}.0",
              "implementation_name": "cpython", "platform_python_implementation": "CPython",
              "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
              "os_name": "posix", "extra": ""}
    kept = []
    for line in requirements:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(target):
            requirement.marker = None
            kept.append(str(requirement))
    return kept


def install_dependencies(requirements: Sequence[str], target: Path, *, run: Runner = subprocess.run,
                         python_version: str = TARGET_PYTHON,
                         platforms: Sequence[str] = TARGET_PLATFORMS) -> None:
    """pip-install ``requirements`` for FC's interpreter and platform into ``target``.

    A few dependencies publish only an sdist (oss2, alibabacloud-tea, crcmod). They are built into
    wheels here first, with no C compiler, so only pure-Python wheels come out (crcmod falls back
    to its pure-Python CRC); an sdist that needs C fails loudly instead of shipping a binary built
    for this machine.
    """
    with tempfile.TemporaryDirectory(prefix="voicefn-wheels-") as tmp:
        wheelhouse = Path(tmp) / "wheels"
        wheelhouse.mkdir()
        for pin in _sdist_only(requirements, Path(tmp), run):
            _pip(run, ["wheel", "--no-deps", "--no-cache-dir", "--wheel-dir", str(wheelhouse), pin],
                 env={**os.environ, "CC": "false"})
        native = [w.name for w in wheelhouse.glob("*.whl") if not w.name.endswith("-none-any.whl")]
        if native:
            raise PackageError(f"these sdists build native code, not usable on FC: {', '.join(native)}")
        args = ["install", "--target", str(target), "--no-compile", "--only-binary=:all:",
                "--implementation", "cp", "--python-version", python_version,
                "--find-links", str(wheelhouse)]
        for platform in platforms:
            args += ["--platform", platform]
        _pip(run, args + list(requirements))


def _sdist_only(requirements: Sequence[str], tmp: Path, run: Runner) -> list[str]:
    """``name==version`` of every resolved distribution that pip would build from an sdist."""
    report = tmp / "resolve.json"
    # resolved by this machine's pip, which only has to spot the sdists: the final install checks
    # Requires-Python against FC's interpreter
    _pip(run, ["install", "--dry-run", "--ignore-installed", "--ignore-requires-python", "--quiet",
               "--report", str(report), *requirements])
    if not report.is_file():
        return []
    pins = []
    for item in json.loads(report.read_text(encoding="utf-8")).get("install", []):
        url = str((item.get("download_info") or {}).get("url", ""))
        if not url.endswith(".whl"):
            meta = item.get("metadata") or {}
            pins.append(f"{meta['name']}=={meta['version']}")
    return pins


def _pip(run: Runner, args: list[str], env: dict[str, str] | None = None) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    result = run(command, env=env, text=True, capture_output=True)
    if result.returncode != 0:
        raise PackageError(f"pip {args[0]} failed:\n{(result.stderr or '').strip()[-4000:]}")


def _files(folder: Path, excluded_dirs: frozenset[str] = OWN_EXCLUDED_DIRS) -> list[tuple[str, Path]]:
    """(relative posix path, path) of the files below ``folder`` that may ship, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in excluded_dirs)
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            if path.suffix in EXCLUDED_SUFFIXES:
                continue
            found.append((path.relative_to(folder).as_posix(), path))
    return found


def _write_zip(name: str, destination: Path, entries: list[tuple[str, Path]]) -> Artifact:
    partial = destination.with_name(destination.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, path in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16   # regular file + permissions
            with path.open("rb") as src, archive.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    partial.replace(destination)
    return Artifact(name, destination, destination.stat().st_size, len(entries))


def format_table(artifacts: Sequence[Artifact], relative_to: Path | None = None) -> str:
    """A table of names, sizes, file counts and paths, for the terminal."""
    rows = [("name", "size", "files", "path")]
    for a in artifacts:
        shown = a.path
        if relative_to is not None:
            try:
                shown = a.path.relative_to(relative_to)
            except ValueError:
                pass
        rows.append((a.name, _human(a.size), str(a.files), str(shown)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}" for r in rows)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
