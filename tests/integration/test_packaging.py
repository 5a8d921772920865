"""Installing and deploying edge as a new user would: `edge init`, `pip install .`, the Dockerfile, the systemd unit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .harness import EDGE_CMD, LOOPBACK, DemoOrigin, Gateway, free_ports

REPO = Path(__file__).resolve().parents[2]


def _edge(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EDGE_CMD, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def _point_at(config: Path, origin: DemoOrigin) -> tuple[int, int, int]:
    """Free ports and the test origin in a config `edge init` wrote (its defaults are 8443, 8080, 9901, 9000)."""
    https, http, admin = free_ports(3)
    text = config.read_text()
    for old, new in (
        ("127.0.0.1:8443", f"{LOOPBACK}:{https}"),
        ("127.0.0.1:8080", f"{LOOPBACK}:{http}"),
        ("127.0.0.1:9901", f"{LOOPBACK}:{admin}"),
        ("http://127.0.0.1:9000", origin.url),
    ):
        assert old in text, old
        text = text.replace(old, new)
    config.write_text(text)
    return https, http, admin


def test_init_check_and_run_serve_a_request(tmp_path: Path, origin_a: DemoOrigin) -> None:
    folder = tmp_path / "site"
    out = _edge("init", str(folder))
    assert out.returncode == 0, out.stderr
    assert f"next: edge check -c {folder / 'edge.toml'}" in out.stdout
    managed = sorted(p.name for p in (REPO / "rules").glob("*.toml"))
    assert sorted(p.name for p in (folder / "rules").glob("*.toml")) == sorted([*managed, "00-local.toml"])
    assert (folder / "certs/localhost.pem").exists() and (folder / "certs/dev-ca/ca.pem").exists()
    https, http, admin = _point_at(folder / "edge.toml", origin_a)
    check = _edge("check", "-c", str(folder / "edge.toml"))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok (1 site(s), 1 certificate(s)" in check.stdout
    gw = Gateway(
        folder=folder,
        config_path=folder / "edge.toml",
        ca_path=folder / "certs/dev-ca/ca.pem",
        https_port=https,
        http_port=http,
        admin_port=admin,
        grace=10.0,
    )
    gw.start()
    try:
        r = gw.request("GET", "/echo")
        assert r.status == 200 and r.json()["origin"] == "alpha"
        assert gw.request("GET", "/?q=<script>alert(1)</script>").status == 403, "the managed rules are live"
        assert "strict-transport-security" not in r.names(), "HSTS is opt-in"
    finally:
        assert gw.stop() == 0


def test_init_never_overwrites_and_upgrades_only_managed_rules(tmp_path: Path) -> None:
    assert _edge("init", str(tmp_path), "--no-dev-cert").returncode == 0
    assert not list((tmp_path / "certs").glob("*.pem"))
    (tmp_path / "edge.toml").write_text("# mine\n")
    (tmp_path / "rules/00-local.toml").write_text("# my rules\n")
    (tmp_path / "rules/60-xss.toml").write_text("# stale\n")
    again = _edge("init", str(tmp_path), "--no-dev-cert")
    assert "kept" in again.stdout and (tmp_path / "rules/60-xss.toml").read_text() == "# stale\n"
    upgrade = _edge("init", str(tmp_path), "--no-dev-cert", "--upgrade-rules")
    assert f"replaced {tmp_path / 'rules/60-xss.toml'}" in upgrade.stdout
    assert (tmp_path / "rules/60-xss.toml").read_text() == (REPO / "rules/60-xss.toml").read_text()
    assert (tmp_path / "edge.toml").read_text() == "# mine\n"
    assert (tmp_path / "rules/00-local.toml").read_text() == "# my rules\n"


def test_license_and_pyproject_metadata() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    assert project["project"]["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    assert any(r.startswith("setuptools>=77") for r in project["build-system"]["requires"])


@pytest.mark.slow
def test_pip_install_into_a_fresh_venv_then_init(tmp_path: Path) -> None:
    """A wheel built from a copy of the tree, installed into a new venv: the managed rules come with it.

    Dependencies are taken from the test venv (a .pth file) so that the test needs no download beyond the
    build backend; the `edge` the new venv runs is the installed wheel, not this checkout."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "edge", source / "edge", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "rules", source / "rules")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    ours = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    (site / "zz-test-deps.pth").write_text(f"{ours}\n")
    install = subprocess.run(
        [str(venv / "bin/pip"), "install", "--no-deps", "-q", str(source)], capture_output=True, text=True, timeout=600
    )
    if install.returncode != 0 and re.search(r"(?i)could not (find|fetch)|connection|network", install.stderr):
        pytest.skip(f"no package index for the build backend: {install.stderr[-300:]}")
    assert install.returncode == 0, install.stderr
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import edge, edge.scaffold as s; print(edge.__file__); print(s.MANAGED)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,  # not this checkout's folder, whose edge/ would shadow the installed one
    ).stdout.split()
    assert where[0].startswith(str(site)), where
    assert len(list(Path(where[1]).glob("*.toml"))) == len(list((REPO / "rules").glob("*.toml")))
    folder = tmp_path / "etc-edge"
    init = subprocess.run([str(venv / "bin/edge"), "init", str(folder)], capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    check = subprocess.run(
        [str(venv / "bin/edge"), "check", "-c", str(folder / "edge.toml")], capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stdout + check.stderr
    license_files = list(site.glob("edge-*.dist-info/licenses/LICENSE"))
    assert license_files, "the wheel carries LICENSE"


def _docker_ready() -> str | None:
    if shutil.which("docker") is None:
        return "docker is not installed"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    return None if info.returncode == 0 else "no docker engine answers (docker info failed)"


def test_dockerfile_is_slim_non_root_with_a_healthcheck() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim$", text, re.M)
    assert re.search(r"^USER edge$", text, re.M), "runs as a non-root user"
    assert "HEALTHCHECK" in text and "127.0.0.1:9901/healthz" in text
    assert 'ENTRYPOINT ["edge"]' in text and "COPY rules ./rules" in text


@pytest.mark.slow
def test_docker_image_builds_and_turns_healthy(tmp_path: Path) -> None:
    reason = _docker_ready()
    if reason:
        pytest.skip(reason)
    tag = f"edge-test:{os.getpid()}"
    build = subprocess.run(["docker", "build", "-t", tag, str(REPO)], capture_output=True, text=True, timeout=1200)
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        user = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"], capture_output=True, text=True
        )
        assert user.stdout.strip() != "0"
        check = subprocess.run(
            ["docker", "run", "--rm", tag, "check", "-c", "/etc/edge/edge.toml"], capture_output=True
        )
        assert check.returncode == 0, check.stdout
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)


def test_systemd_unit_is_valid() -> None:
    unit = (REPO / "deploy/edge.service").read_text()
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in unit
    assert "KillMode=mixed" in unit and "--pidfile /run/edge/edge.pid" in unit
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    edge = shutil.which("edge", path=str(Path(sys.executable).parent)) or "/usr/local/bin/edge"
    unit = (REPO / "deploy/edge.service").read_text().replace("/usr/local/bin/edge", edge)
    path = tmp_path / "edge.service"
    path.write_text(unit)
    verify = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (verify.stdout + verify.stderr).splitlines() if str(path) in line or "edge" in line]
    assert verify.returncode == 0 and not problems, verify.stdout + verify.stderr
