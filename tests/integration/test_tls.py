"""TLS on the https listener: certificate choice by SNI, the default certificate, protocol versions."""

from __future__ import annotations

import ssl
import subprocess
import warnings

import pytest

from .harness import Gateway, GatewayFactory, Pki, tls_client_context


def test_two_names_get_two_different_certificates(gateway: Gateway, pki: Pki) -> None:
    a = gateway.handshake("a.test")
    b = gateway.handshake("b.test")
    assert a.der != b.der
    assert a.der == pki.der(("a.test",))
    assert b.der == pki.der(("b.test",))


def test_certificates_verify_with_hostname_check(gateway: Gateway) -> None:
    """The chain each name gets verifies against the test CA with the client's usual hostname check."""
    context = gateway.ssl_context(check_hostname=True)
    context.set_alpn_protocols(["h2", "http/1.1"])
    for name in ("localhost", "a.test", "b.test", "deep.wild.test", "rr.test"):
        shake = gateway.handshake(name, context=context)
        assert shake.version in ("TLSv1.2", "TLSv1.3")
        assert shake.alpn == "http/1.1"  # the gateway speaks HTTP/1.1 only, and says so


def test_wildcard_name_gets_the_wildcard_certificate(gateway: Gateway, pki: Pki) -> None:
    assert gateway.handshake("x.wild.test").der == pki.der(("*.wild.test",))
    assert gateway.handshake("another.wild.test").der == pki.der(("*.wild.test",))


def test_wildcard_covers_exactly_one_label(gateway: Gateway, pki: Pki) -> None:
    """`*.wild.test` does not answer for `a.b.wild.test` nor for `wild.test`: those get the default."""
    assert gateway.handshake("a.b.wild.test").der == pki.der(("localhost",))
    assert gateway.handshake("wild.test").der == pki.der(("localhost",))


def test_no_sni_gets_the_default_certificate(gateway: Gateway, pki: Pki) -> None:
    assert gateway.handshake(None).der == pki.der(("localhost",))


def test_unknown_sni_gets_the_default_certificate(gateway: Gateway, pki: Pki) -> None:
    assert gateway.handshake("nobody.example").der == pki.der(("localhost",))


def test_sni_is_case_insensitive(gateway: Gateway, pki: Pki) -> None:
    assert gateway.handshake("B.Test").der == pki.der(("b.test",))


def _gateway_without_default(factory: GatewayFactory) -> Gateway:
    return factory.start(
        [{"hosts": ["a.test"], "origins": ["http://127.0.0.1:9"]}],
        tls={"default": None},
        cert_files={"a.test.pem": ("a.test",)},
        ready_sni="a.test",
    )


def test_without_default_unknown_sni_fails_the_handshake(gateway_factory: GatewayFactory, pki: Pki) -> None:
    gw = _gateway_without_default(gateway_factory)
    for sni in ("nobody.example", None):
        with pytest.raises(ssl.SSLError):
            gw.handshake(sni)
    # a known name still works on the same listener, before and after the refusals
    assert gw.handshake("a.test").der == pki.der(("a.test",))


@pytest.mark.xfail(
    strict=True,
    reason="edge closes the connection without sending the unrecognized_name alert (asyncio/uvloop SSL "
    "transport drops the alert the SNI callback asked for); the client sees EOF instead",
)
def test_without_default_unknown_sni_gets_the_unrecognized_name_alert(gateway_factory: GatewayFactory) -> None:
    gw = _gateway_without_default(gateway_factory)
    with pytest.raises(ssl.SSLError) as info:
        gw.handshake("nobody.example")
    assert info.value.reason == "TLSV1_UNRECOGNIZED_NAME", info.value


def _legacy_client(max_version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client willing to speak TLS 1.1 (OpenSSL's security level lowered on the client side)."""
    context = tls_client_context(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 is deprecated: that is the point
        context.minimum_version = ssl.TLSVersion.TLSv1_1
    context.maximum_version = max_version
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def test_tls_1_1_is_refused(gateway: Gateway) -> None:
    # The same relaxed client does get in with TLS 1.2, so the refusal below is the server's.
    assert gateway.handshake("localhost", context=_legacy_client(ssl.TLSVersion.TLSv1_2)).version == "TLSv1.2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = _legacy_client(ssl.TLSVersion.TLSv1_1)
    with pytest.raises(ssl.SSLError) as info:
        gateway.handshake("localhost", context=context)
    if "NO_PROTOCOLS_AVAILABLE" in str(info.value):
        pytest.skip("this OpenSSL cannot speak TLS 1.1 even as a client: the refusal would prove nothing")


def test_tls_1_1_is_refused_by_openssl_s_client(gateway: Gateway) -> None:
    """The same with another TLS stack: openssl s_client offering only TLS 1.1."""
    result = subprocess.run(
        [
            "openssl",
            "s_client",
            "-connect",
            f"127.0.0.1:{gateway.https_port}",
            "-servername",
            "localhost",
            "-tls1_1",
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
        ],
        input=b"",
        capture_output=True,
        timeout=20,
    )
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode != 0, output
    assert "no peer certificate available" in output, output
    assert "Cipher is (NONE)" in output, output


def test_min_version_tls13_refuses_tls12(gateway_factory: GatewayFactory, pki: Pki) -> None:
    gw = gateway_factory.start(
        [{"hosts": ["localhost"], "origins": ["http://127.0.0.1:9"]}],
        tls={"min_version": "TLSv1.3"},
        cert_files={"localhost.pem": ("localhost",)},
    )
    assert gw.handshake("localhost").version == "TLSv1.3"
    tls12 = gw.ssl_context(check_hostname=False)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        gw.handshake("localhost", context=tls12)
