"""A thousand certificates: loading stays quick and every name is chosen correctly."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from edge.tls.certstore import load_store
from edge.tls.contexts import ContextCache, TlsSettings

from .certfactory import DAY, NOW, key_bytes, make_ca, make_leaf, new_key, shared_key, write

COUNT = 1000


@pytest.mark.slow
def test_thousand_certificates(tmp_path: Path) -> None:
    ca = make_ca()
    key = shared_key("p256", 1)  # one key for every leaf: generation is the slow part, not the store
    key_pem = key_bytes(key)
    for number in range(COUNT):
        name = f"host{number}.example.test"
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)]))
            .issuer_name(ca.cert.subject)
            .public_key(key.public_key())
            .serial_number(number + 1)
            .not_valid_before(NOW - DAY)
            .not_valid_after(NOW + (number + 1) * DAY)
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name), x509.DNSName(f"*.s{number}.example.test")]),
                critical=False,
            )
            .sign(ca.key, hashes.SHA256())
        )
        folder = tmp_path / f"site{number % 50}"
        write(folder / f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM))
    for number in range(50):
        write(tmp_path / f"site{number}" / "key.pem", key_pem)
    started = time.perf_counter()
    store = load_store(tmp_path)
    elapsed = time.perf_counter() - started
    assert len(store.entries) == COUNT
    assert all(row.state == "served" for row in store.rows)
    assert elapsed < 20, f"loading {COUNT} certificates took {elapsed:.1f}s"
    started = time.perf_counter()
    for number in range(COUNT):
        (exact,) = store.choose(f"host{number}.example.test")
        (wild,) = store.choose(f"x.s{number}.example.test")
        assert exact is wild and exact.serial == number + 1
    assert time.perf_counter() - started < 1.0
    cache = ContextCache(store, TlsSettings())
    assert cache.for_name("host7.example.test", None) is cache.for_name("y.s7.example.test", None)


def test_a_reload_reads_only_files_whose_stat_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unchanged files are not read again (their stat says so); a rewrite that keeps size and mtime is still
    seen (its ctime moved), and so is a renewal in place."""
    ca = make_ca()
    for number in range(5):
        leaf = make_leaf(ca, [f"r{number}.example.test"], key=new_key("p256"))
        write(tmp_path / f"r{number}.pem", leaf.pem, key_bytes(leaf.key))
    load_store(tmp_path)
    reads: list[str] = []
    original = Path.read_bytes

    def counting(path: Path) -> bytes:
        reads.append(path.name)
        return original(path)

    monkeypatch.setattr(Path, "read_bytes", counting)
    assert len(load_store(tmp_path).entries) == 5
    assert reads == [], "unchanged files were read again"

    target = tmp_path / "r3.pem"
    renewed = make_leaf(ca, ["r3.example.test"], key=new_key("p256"))
    data = renewed.pem + key_bytes(renewed.key)
    before = target.stat()
    if len(data) == before.st_size:  # same size: keep the mtime too, only the ctime tells
        target.write_bytes(data)
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    else:
        target.write_bytes(data)
    store = load_store(tmp_path)
    assert reads == ["r3.pem"]
    (entry,) = store.choose("r3.example.test")
    assert entry.serial == renewed.cert.serial_number
