"""`edge certs dev`: a CA made once, a leaf that verifies against it, files the store serves."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from edge.tls.certstore import load_store
from edge.tls.contexts import ContextCache, TlsSettings
from edge.tls.devcerts import write_dev_certs

from .handshake import client_context, handshake


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_leaf_verifies_against_the_dev_ca_in_a_real_handshake(tmp_path: Path) -> None:
    ca_path, leaf_path = write_dev_certs(tmp_path, ["localhost", "app.localhost", "127.0.0.1"])
    assert (ca_path, leaf_path) == (tmp_path / "dev-ca" / "ca.pem", tmp_path / "localhost.pem")
    cache = ContextCache(load_store(tmp_path), TlsSettings())
    for name in ("localhost", "app.localhost"):
        server = cache.for_name(name, None)
        assert server is not None
        client, _ = handshake(server, client_context(ca_path.read_bytes()), name)
        assert client.version() == "TLSv1.3"


def test_files_modes_and_leaf_contents(tmp_path: Path) -> None:
    ca_path, leaf_path = write_dev_certs(tmp_path, ["Example.Test", "::1"])
    assert _mode(tmp_path / "dev-ca" / "ca.key") == 0o600
    assert _mode(leaf_path) == 0o600
    assert leaf_path.name == "example.test.pem"
    leaf = x509.load_pem_x509_certificates(leaf_path.read_bytes())
    assert len(leaf) == 1 and b"-----BEGIN PRIVATE KEY-----" in leaf_path.read_bytes()
    cert = leaf[0]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["example.test"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("::1")]
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH]
    )
    assert 89 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 91
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_path.read_bytes()))
    store = load_store(tmp_path)
    (entry,) = store.entries
    assert entry.key_type == "ECDSA-P256"
    assert [row.files for row in store.rows] == [("example.test.pem",)]  # dev-ca/ is not scanned


def test_ca_is_kept_and_leaf_replaced_on_rerun(tmp_path: Path) -> None:
    ca_path, leaf_path = write_dev_certs(tmp_path, ["localhost"])
    ca_before, leaf_before = ca_path.read_bytes(), leaf_path.read_bytes()
    ca_again, leaf_again = write_dev_certs(tmp_path, ["localhost"])
    assert ca_again.read_bytes() == ca_before
    assert leaf_again == leaf_path and leaf_again.read_bytes() != leaf_before
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["localhost.pem"]  # no temp files left
    assert len(load_store(tmp_path).entries) == 1


def test_wildcard_name_makes_a_safe_file_name(tmp_path: Path) -> None:
    _, leaf_path = write_dev_certs(tmp_path, ["*.example.test"])
    assert leaf_path.name == "wildcard.example.test.pem"
    assert load_store(tmp_path).choose("a.example.test")


def test_unicode_name_is_written_as_a_label(tmp_path: Path) -> None:
    write_dev_certs(tmp_path, ["bücher.test"])
    assert load_store(tmp_path).names() == frozenset({"xn--bcher-kva.test"})


@pytest.mark.parametrize("names", [[], ["bad name"], ["../escape"], ["a/b"]])
def test_bad_names_are_refused(tmp_path: Path, names: list[str]) -> None:
    with pytest.raises(ValueError):
        write_dev_certs(tmp_path, names)


def test_broken_dev_ca_is_reported(tmp_path: Path) -> None:
    write_dev_certs(tmp_path, ["localhost"])
    (tmp_path / "dev-ca" / "ca.key").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="remove the folder"):
        write_dev_certs(tmp_path, ["localhost"])
