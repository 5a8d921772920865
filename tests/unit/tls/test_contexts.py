"""Server contexts from chosen entries, checked with real in-memory handshakes."""

from __future__ import annotations

import dataclasses
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from edge.tls import contexts
from edge.tls.certstore import CertStore, load_store
from edge.tls.contexts import ContextCache, TlsSettings, build_context

from .certfactory import Issued, key_bytes, make_ca, make_leaf, new_key, write
from .handshake import client_context, handshake

ROOT = make_ca("Root")
INTER = make_ca("Inter", issuer=ROOT)
ECDSA_TLS12 = "ECDHE-ECDSA-AES128-GCM-SHA256"
RSA_TLS12 = "ECDHE-RSA-AES128-GCM-SHA256"


@pytest.fixture
def dual(tmp_path: Path) -> tuple[CertStore, Issued, Issued]:
    """An ECDSA and an RSA certificate for the same names, each with the intermediate."""
    ec_leaf = make_leaf(INTER, ["a.example.test", "*.wild.test"], key=new_key("p256"))
    rsa_leaf = make_leaf(INTER, ["a.example.test", "*.wild.test"], key=new_key("rsa2048"))
    write(tmp_path / "ec.pem", ec_leaf.pem, INTER.pem, key_bytes(ec_leaf.key))
    write(tmp_path / "rsa" / "fullchain.pem", rsa_leaf.pem, INTER.pem)
    write(tmp_path / "rsa" / "privkey.pem", key_bytes(rsa_leaf.key, "pkcs1"))
    return load_store(tmp_path), ec_leaf, rsa_leaf


def _peer(client: ssl.SSLObject) -> x509.Certificate:
    der = client.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


@pytest.mark.parametrize(("ciphers", "expected"), [(ECDSA_TLS12, "ec"), (RSA_TLS12, "rsa")])
def test_client_ciphers_pick_ecdsa_or_rsa_from_one_context(
    dual: tuple[CertStore, Issued, Issued], ciphers: str, expected: str
) -> None:
    store, ec_leaf, rsa_leaf = dual
    server = build_context(store.choose("a.example.test"), TlsSettings())
    client, _ = handshake(server, client_context(ROOT.pem, tls12_ciphers=ciphers), "a.example.test")
    assert _peer(client) == {"ec": ec_leaf, "rsa": rsa_leaf}[expected].cert
    assert client.version() == "TLSv1.2"
    assert client.selected_alpn_protocol() is None  # the client offered none


def test_tls13_handshake_verifies_chain_and_negotiates_alpn(dual: tuple[CertStore, Issued, Issued]) -> None:
    store, ec_leaf, _ = dual
    server = build_context(store.choose("x.wild.test"), TlsSettings())
    client_ctx = client_context(ROOT.pem)
    client_ctx.set_alpn_protocols(["h2", "http/1.1"])
    client, _ = handshake(server, client_ctx, "x.wild.test")
    assert client.version() == "TLSv1.3"
    assert client.selected_alpn_protocol() == "http/1.1"
    assert _peer(client) == ec_leaf.cert  # OpenSSL's default signature algorithms put ECDSA first


def test_context_settings(dual: tuple[CertStore, Issued, Issued]) -> None:
    store, _, _ = dual
    context = build_context(store.entries, TlsSettings(min_version=ssl.TLSVersion.TLSv1_3))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3
    assert context.options & ssl.OP_NO_COMPRESSION
    assert context.options & ssl.OP_NO_RENEGOTIATION
    assert not context.options & ssl.OP_CIPHER_SERVER_PREFERENCE
    assert context.verify_mode == ssl.CERT_NONE
    tls12 = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert tls12 and all(name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name) for name in tls12)


def test_tls12_client_is_refused_when_minimum_is_tls13(dual: tuple[CertStore, Issued, Issued]) -> None:
    store, _, _ = dual
    server = build_context(store.choose("a.example.test"), TlsSettings(min_version=ssl.TLSVersion.TLSv1_3))
    with pytest.raises(ssl.SSLError):
        handshake(server, client_context(ROOT.pem, tls12_ciphers=ECDSA_TLS12), "a.example.test")


def test_client_certificate_verified_against_the_client_cas(
    tmp_path: Path, dual: tuple[CertStore, Issued, Issued]
) -> None:
    store, _, _ = dual
    client_ca = make_ca("Client CA")
    write(tmp_path / "clients-ca.pem", client_ca.pem)
    user = make_leaf(client_ca, ["user.example.test"], key=new_key("p256"), client=True)
    user_file = write(tmp_path / "user.pem", user.pem, key_bytes(user.key))
    server = build_context(store.choose("a.example.test"), TlsSettings(client_cas=(tmp_path / "clients-ca.pem",)))
    assert server.verify_mode == ssl.CERT_OPTIONAL  # sites without client_ca share the listener
    _, server_obj = handshake(server, client_context(ROOT.pem, cert_chain=str(user_file)), "a.example.test")
    assert server_obj.getpeercert(binary_form=True) == user.der
    _, anonymous = handshake(server, client_context(ROOT.pem, tls12_ciphers=ECDSA_TLS12), "a.example.test")
    assert anonymous.getpeercert(binary_form=True) is None
    stranger_ca = make_ca("Stranger CA")
    stranger = make_leaf(stranger_ca, ["s.example.test"], key=new_key("p256"), client=True)
    stranger_file = write(tmp_path / "stranger.pem", stranger.pem, key_bytes(stranger.key))
    with pytest.raises(ssl.SSLError):
        # TLS 1.2, so that the server's refusal happens inside the handshake
        handshake(
            server, client_context(ROOT.pem, cert_chain=str(stranger_file), tls12_ciphers=ECDSA_TLS12), "a.example.test"
        )


def test_build_context_needs_entries() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_context([], TlsSettings())


def test_private_key_files_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dual: tuple[CertStore, Issued, Issued]
) -> None:
    scratch = tmp_path / "shm"
    scratch.mkdir()
    monkeypatch.setattr(contexts, "_SHM", scratch)
    store, _, _ = dual
    build_context(store.entries, TlsSettings())
    assert list(scratch.iterdir()) == []


def test_private_key_files_are_removed_when_loading_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dual: tuple[CertStore, Issued, Issued]
) -> None:
    scratch = tmp_path / "shm"
    scratch.mkdir()
    monkeypatch.setattr(contexts, "_SHM", scratch)
    store, _, _ = dual
    other_key = key_bytes(new_key("p256"))
    broken = dataclasses.replace(store.entries[0], key_pem=other_key)
    with pytest.raises(ssl.SSLError):
        build_context([broken], TlsSettings())
    assert list(scratch.iterdir()) == []


def test_context_cache_shares_contexts_per_choice(dual: tuple[CertStore, Issued, Issued]) -> None:
    store, _, _ = dual
    cache = ContextCache(store, TlsSettings())
    first = cache.for_name("one.wild.test", None)
    assert first is not None
    assert cache.for_name("two.wild.test", None) is first
    assert cache.for_name("THREE.wild.test.", None) is first
    assert cache.for_name("a.example.test", None) is first  # same two entries, same context
    assert len(cache) == 1


def test_context_cache_default_and_unknown(tmp_path: Path) -> None:
    a = make_leaf(ROOT, ["a.example.test"], key=new_key("p256"))
    b = make_leaf(ROOT, ["localhost"], key=new_key("p256"))
    write(tmp_path / "a.pem", a.pem, key_bytes(a.key))
    write(tmp_path / "b.pem", b.pem, key_bytes(b.key))
    cache = ContextCache(load_store(tmp_path), TlsSettings())
    by_name = cache.for_name("a.example.test", "localhost")
    default = cache.for_name(None, "localhost")
    assert by_name is not None and default is not None and by_name is not default
    assert cache.for_name("unknown.test", "localhost") is default
    assert cache.for_name("unknown.test", None) is None
    assert cache.for_name(None, None) is None
    assert cache.for_name(None, "also-unknown.test") is None
    client, _ = handshake(default, client_context(ROOT.pem), "localhost")
    assert _peer(client) == b.cert


def test_unchanged_contexts_survive_a_reload(tmp_path: Path) -> None:
    a = make_leaf(ROOT, ["a.example.test"], key=new_key("p256"))
    b = make_leaf(ROOT, ["b.example.test"], key=new_key("p256"))
    write(tmp_path / "a.pem", a.pem, key_bytes(a.key))
    write(tmp_path / "b.pem", b.pem, key_bytes(b.key))
    before = ContextCache(load_store(tmp_path), TlsSettings())
    context_a = before.for_name("a.example.test", None)
    context_b = before.for_name("b.example.test", None)
    renewed = make_leaf(ROOT, ["b.example.test"], key=new_key("p256"))
    write(tmp_path / "b.pem", renewed.pem, key_bytes(renewed.key))
    after = ContextCache(load_store(tmp_path), TlsSettings(), previous=before)
    assert len(after) == 1  # a's context carried over, b's dropped with its old certificate
    assert after.for_name("a.example.test", None) is context_a
    new_b = after.for_name("b.example.test", None)
    assert new_b is not None and new_b is not context_b
    client, _ = handshake(new_b, client_context(ROOT.pem), "b.example.test")
    assert _peer(client) == renewed.cert
    other_settings = ContextCache(load_store(tmp_path), TlsSettings(min_version=ssl.TLSVersion.TLSv1_3), previous=after)
    assert len(other_settings) == 0


def test_context_is_built_lazily(dual: tuple[CertStore, Issued, Issued]) -> None:
    store, _, _ = dual
    cache = ContextCache(store, TlsSettings())
    assert len(cache) == 0
    cache.for_name("nothing.test", None)
    assert len(cache) == 0


def test_ed25519_certificate_serves_tls13(tmp_path: Path) -> None:
    leaf = make_leaf(ROOT, ["ed.example.test"], key=new_key("ed25519"))
    write(tmp_path / "ed.pem", leaf.pem, key_bytes(leaf.key))
    server = build_context(load_store(tmp_path).choose("ed.example.test"), TlsSettings())
    client, _ = handshake(server, client_context(ROOT.pem), "ed.example.test")
    assert _peer(client) == leaf.cert
    assert client.getpeercert(binary_form=True) == leaf.cert.public_bytes(serialization.Encoding.DER)


def test_warm_builds_every_choice_once_and_a_reload_only_the_changed(tmp_path: Path) -> None:
    leaves = [make_leaf(ROOT, [f"h{n}.example.test"], key=new_key("p256")) for n in range(3)]
    wild = make_leaf(ROOT, ["*.wild.test"], key=new_key("p256"))
    for n, leaf in enumerate([*leaves, wild]):
        write(tmp_path / f"{n}.pem", leaf.pem, key_bytes(leaf.key))
    cache = ContextCache(load_store(tmp_path), TlsSettings())
    assert cache.warm() == 4
    assert len(cache) == 4
    first = cache.for_name("h1.example.test", None)
    assert cache.for_name("x.wild.test", None) is not None
    assert len(cache) == 4, "a handshake after warm() builds nothing"
    assert cache.warm() == 0
    renewed = make_leaf(ROOT, ["h2.example.test"], key=new_key("p256"))
    write(tmp_path / "2.pem", renewed.pem, key_bytes(renewed.key))
    after = ContextCache(load_store(tmp_path), TlsSettings(), previous=cache)
    assert after.warm() == 1, "only the renewed name's context is new"
    assert after.for_name("h1.example.test", None) is first
    client, _ = handshake(after.for_name("h2.example.test", None), client_context(ROOT.pem), "h2.example.test")
    assert _peer(client) == renewed.cert


def test_a_retired_cache_stops_warming(dual: tuple[CertStore, Issued, Issued]) -> None:
    store, _, _ = dual
    cache = ContextCache(store, TlsSettings())
    cache.retire()
    assert cache.warm() == 0
    assert cache.for_name("a.example.test", None) is not None, "a retired cache still serves (built on use)"
