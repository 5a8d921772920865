"""The command line: `edge check` problems with file and line, `edge certs` and `edge certs dev`."""

from __future__ import annotations

import datetime
import ssl
import subprocess
from pathlib import Path

import pytest

from .harness import EDGE_CMD, GatewayFactory, Pki, tls_client_context


def edge(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    """Run the `edge` console script; returns the exit code and stdout + stderr."""
    result = subprocess.run([*EDGE_CMD, *args], capture_output=True, timeout=60, cwd=cwd, stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout.decode() + result.stderr.decode()


VALID = """\
[server]
https = "127.0.0.1:8443"
grace = "2s"

[tls]
certs = "certs"
default = "localhost"

[[site]]
hosts = ["localhost"]
origins = ["http://127.0.0.1:9000"]

[[site]]
hosts = ["a.test"]
origins = ["http://127.0.0.1:9001"]
timeouts = { connect = "1s", read = "5s" }
"""


@pytest.fixture
def project(tmp_path: Path, pki: Pki) -> Path:
    """A folder with a certificate for localhost and a.test; tests write their own edge.toml."""
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "localhost.pem").write_bytes(pki.pem(("localhost",)))
    (tmp_path / "certs" / "a.test.pem").write_bytes(pki.pem(("a.test",)))
    return tmp_path.resolve()


def write(project: Path, text: str) -> Path:
    path = project / "edge.toml"
    path.write_text(text)
    return path


def test_check_valid_config(project: Path) -> None:
    path = write(project, VALID)
    code, out = edge("check", "-c", str(path))
    assert code == 0, out
    assert f"{path}: ok" in out
    assert "2 site(s)" in out and "2 certificate(s)" in out


def test_check_finds_the_config_relative_to_cwd_by_default(project: Path) -> None:
    write(project, VALID)
    code, out = edge("check", cwd=project)
    assert code == 0, out


def test_check_unknown_key_names_its_line_and_suggests(project: Path) -> None:
    path = write(project, VALID.replace('grace = "2s"', 'grace = "2s"\nworkerz = 2'))
    code, out = edge("check", "-c", str(path))
    assert code == 1
    assert f"{path}:4: unknown key 'workerz' in [server] (did you mean 'workers'?)" in out, out


def test_check_unknown_key_in_the_second_site(project: Path) -> None:
    text = VALID + 'max_bdy = "1MiB"\n'  # line 17, inside the second [[site]]
    assert text.splitlines()[16] == 'max_bdy = "1MiB"'
    path = write(project, text)
    code, out = edge("check", "-c", str(path))
    assert code == 1
    assert f"{path}:17: unknown key 'max_bdy' in [site]" in out, out
    assert "did you mean 'max_body'" in out


def test_check_unknown_section_and_inline_key(project: Path) -> None:
    text = VALID.replace('read = "5s"', 'raed = "5s"') + '\n[cahce]\nmemory = "1MiB"\n'
    path = write(project, text)
    code, out = edge("check", "-c", str(path))
    assert code == 1
    lines = out.splitlines()
    assert any(line.startswith(f"{path}:16: ") and "did you mean 'read'" in line for line in lines), out
    assert any(line.startswith(f"{path}:18: ") and "did you mean 'cache'" in line for line in lines), out


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ('grace = "2s"', "workers = 0", 3, "from 1 to 256"),
        ('grace = "2s"', 'grace = "10 seconds"', 3, "duration"),
        ('default = "localhost"', 'min_version = "TLSv1.1"', 7, "TLSv1.2"),
        ('origins = ["http://127.0.0.1:9000"]', 'origins = ["ftp://127.0.0.1:9000"]', 11, "origin URL"),
        ('hosts = ["a.test"]', 'hosts = ["a.test"]\nmax_body = "lots"', 15, "size"),
        ('read = "5s"', 'read = "5 minutes"', 16, "duration"),
    ],
)
def test_check_bad_value_names_its_line(project: Path, old: str, new: str, line: int, words: str) -> None:
    path = write(project, VALID.replace(old, new, 1))
    code, out = edge("check", "-c", str(path))
    assert code == 1, out
    problems = [entry for entry in out.splitlines() if entry.startswith(f"{path}:")]
    assert len(problems) == 1, out
    assert problems[0].startswith(f"{path}:{line}: "), out
    assert words in problems[0], out


def test_check_reports_every_problem_at_once(project: Path) -> None:
    text = VALID.replace('grace = "2s"', "workers = 0\nworkerz = 1").replace('read = "5s"', 'read = "soon"')
    path = write(project, text)
    code, out = edge("check", "-c", str(path))
    assert code == 1
    problems = [entry for entry in out.splitlines() if entry.startswith(f"{path}:")]
    assert [p.split(":")[1] for p in problems] == ["3", "4", "17"], out


def test_check_toml_syntax_error(project: Path) -> None:
    path = write(project, VALID.replace('default = "localhost"', 'default = = "localhost"'))
    code, out = edge("check", "-c", str(path))
    assert code == 1
    assert f"{path}:7: TOML syntax" in out, out


def test_check_reports_an_unreadable_certificate_and_an_uncovered_default(project: Path) -> None:
    (project / "certs" / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    path = write(project, VALID.replace('default = "localhost"', 'default = "nobody.example"'))
    code, out = edge("check", "-c", str(path))
    assert code == 1
    assert f"{project / 'certs' / 'broken.pem'}:" in out, out
    assert "nobody.example" in out, out


def test_check_missing_config_file(tmp_path: Path) -> None:
    code, out = edge("check", "-c", str(tmp_path / "absent.toml"))
    assert code == 1
    assert "absent.toml" in out


def test_run_refuses_a_bad_config(project: Path) -> None:
    path = write(project, VALID.replace('grace = "2s"', "workers = 0"))
    code, out = edge("run", "-c", str(path))
    assert code == 1
    assert f"{path}:3:" in out


def test_certs_table(project: Path, pki: Pki) -> None:
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=10)
    expired = pki.leaf(
        ("old.test",),
        not_before=past - datetime.timedelta(days=30),
        not_after=past,
    )
    (project / "certs" / "old.pem").write_bytes(
        b"".join(b.bytes() for b in expired.cert_chain_pems) + expired.private_key_pem.bytes()
    )
    path = write(project, VALID)
    code, out = edge("certs", "-c", str(path))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["FILE(S)", "NAMES"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"a.test.pem", "localhost.pem", "old.pem"}, out
    assert "localhost" in rows["localhost.pem"].split() and "served" in rows["localhost.pem"].split()
    assert "a.test" in rows["a.test.pem"].split() and "served" in rows["a.test.pem"].split()
    assert "old.test" in rows["old.pem"].split() and "expired" in rows["old.pem"].split()
    assert past.strftime("%Y-%m-%d") in rows["old.pem"]


def test_certs_dev_writes_a_ca_and_a_leaf_that_a_gateway_serves(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    gw = gateway_factory.prepare(
        [{"hosts": ["a.test", "b.test"], "origins": ["http://127.0.0.1:9"]}],
        tls={"default": "a.test"},
        cert_files={},
    )
    code, out = edge("certs", "dev", "a.test", "b.test", "-c", str(gw.config_path))
    assert code == 0, out
    ca = gw.certs_dir / "dev-ca" / "ca.pem"
    leaf = gw.certs_dir / "a.test.pem"
    assert ca.is_file() and leaf.is_file()
    assert str(ca) in out
    assert "PRIVATE KEY" not in ca.read_text()
    assert leaf.stat().st_mode & 0o077 == 0, "the leaf file holds a private key: not readable by others"
    ca_bytes = ca.read_bytes()

    # a second run reuses the CA and replaces the leaf
    leaf_before = leaf.read_bytes()
    code, out = edge("certs", "dev", "a.test", "b.test", "-c", str(gw.config_path))
    assert code == 0, out
    assert ca.read_bytes() == ca_bytes
    assert leaf.read_bytes() != leaf_before

    gw.ca_path = ca
    gw.start(ready_sni="a.test")
    strict = tls_client_context(ca, check_hostname=True)
    seen = {gw.handshake(name, context=strict).der for name in ("a.test", "b.test")}
    assert len(seen) == 1, "one leaf covers both names"
    assert seen == {ssl.PEM_cert_to_DER_cert(leaf.read_text().split("-----BEGIN PRIVATE KEY-----")[0])}
    # the CA itself is never served, and a name outside the leaf does not verify
    with pytest.raises(ssl.SSLCertVerificationError):
        gw.handshake("c.test", context=strict)
    code, out = edge("certs", "-c", str(gw.config_path))
    assert code == 0
    assert "dev-ca" not in out
    assert "a.test,b.test" in out and "served" in out
