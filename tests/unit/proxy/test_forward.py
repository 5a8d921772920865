"""Header hygiene between client and origin, as pure functions (CONTRACT section 6)."""

from __future__ import annotations

import pytest

from edge.proxy.forward import origin_authorities, request_head, response_headers, rewrite_origin_url

BASE = [(b"host", b"shop.test"), (b"accept", b"*/*")]


def head_lines(headers: list[tuple[bytes, bytes]], **kwargs: object) -> list[bytes]:
    options: dict[str, object] = {
        "client_ip": "198.51.100.7",
        "trusted_peer": False,
        "host": b"shop.test",
        "chunked": False,
        "length": None,
    }
    options.update(kwargs)
    return request_head("GET", b"/a?b=%20", headers, **options).split(b"\r\n")  # type: ignore[arg-type]


def test_request_line_and_forwarding_headers() -> None:
    lines = head_lines(BASE)
    assert lines[0] == b"GET /a?b=%20 HTTP/1.1"
    assert b"host: shop.test" in lines
    assert b"x-forwarded-for: 198.51.100.7" in lines
    assert b"x-forwarded-proto: https" in lines
    assert b"x-forwarded-host: shop.test" in lines
    assert b"forwarded: for=198.51.100.7;host=shop.test;proto=https" in lines
    assert lines[-2:] == [b"", b""]


@pytest.mark.parametrize(
    "name", [b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade"]
)
def test_hop_by_hop_headers_are_not_forwarded(name: bytes) -> None:
    lines = head_lines([*BASE, (name, b"x")])
    assert not any(line.startswith(name + b":") for line in lines)


def test_headers_named_in_connection_are_hop_by_hop() -> None:
    lines = head_lines([*BASE, (b"x-secret", b"1"), (b"connection", b"Keep-Alive, X-Secret")])
    assert not any(line.startswith(b"x-secret") for line in lines)


@pytest.mark.parametrize("name", [b"x-client-cert-subject", b"edge-origin-auth", b"x-real-ip"])
def test_gateway_headers_from_clients_are_stripped_even_from_trusted_peers(name: bytes) -> None:
    for trusted in (False, True):
        lines = head_lines([*BASE, (name, b"forged")], trusted_peer=trusted)
        assert not any(line.startswith(name) for line in lines)


def test_untrusted_peer_cannot_set_forwarding_headers() -> None:
    spoofed = [
        *BASE,
        (b"x-forwarded-for", b"10.0.0.1"),
        (b"forwarded", b"for=10.0.0.1"),
        (b"x-forwarded-host", b"evil"),
    ]
    lines = head_lines(spoofed)
    assert b"x-forwarded-for: 198.51.100.7" in lines
    assert b"forwarded: for=198.51.100.7;host=shop.test;proto=https" in lines
    assert b"x-forwarded-host: shop.test" in lines
    assert not any(b"10.0.0.1" in line or b"evil" in line for line in lines)


def test_trusted_peer_appends_to_forwarding_headers() -> None:
    relayed = [*BASE, (b"x-forwarded-for", b"203.0.113.9"), (b"forwarded", b"for=203.0.113.9")]
    lines = head_lines(relayed, trusted_peer=True, client_ip="10.1.1.1")
    assert b"x-forwarded-for: 203.0.113.9, 10.1.1.1" in lines
    assert b"forwarded: for=203.0.113.9, for=10.1.1.1;host=shop.test;proto=https" in lines


def test_ipv6_client_is_quoted_in_forwarded() -> None:
    lines = head_lines(BASE, client_ip="2001:db8::1", host=b"shop.test:8443")
    assert b'forwarded: for="[2001:db8::1]";host="shop.test:8443";proto=https' in lines


def test_chunked_body_framing_and_extra_headers() -> None:
    lines = head_lines(BASE, chunked=True, extra=((b"x-client-cert-subject", b"CN=a"),))
    assert b"transfer-encoding: chunked" in lines
    assert b"x-client-cert-subject: CN=a" in lines


ORIGIN = origin_authorities("http", "10.0.0.5", 8080)


def filtered(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return response_headers(
        headers, origin_authorities=ORIGIN, public_host=b"shop.test", extra=[(b"edge-request-id", b"r1")]
    )


def test_response_drops_server_powered_by_hop_by_hop_and_origin_hsts() -> None:
    out = filtered(
        [
            (b"Server", b"nginx/1.2"),
            (b"X-Powered-By", b"PHP/8"),
            (b"Connection", b"keep-alive, X-Internal"),
            (b"X-Internal", b"1"),
            (b"Keep-Alive", b"timeout=5"),
            (b"Strict-Transport-Security", b"max-age=1"),
            (b"Content-Type", b"text/html"),
        ]
    )
    assert out == [(b"content-type", b"text/html"), (b"edge-request-id", b"r1")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"http://10.0.0.5:8080/login?x=1", b"https://shop.test/login?x=1"),
        (b"HTTP://10.0.0.5:8080", b"https://shop.test"),
        (b"https://user@10.0.0.5:8080/a", b"https://shop.test/a"),
        (b"0; url=http://10.0.0.5:8080/next", b"0; url=https://shop.test/next"),
        (b"http://other.test/a", b"http://other.test/a"),
        (b"/relative/path", b"/relative/path"),
        (b"http://10.0.0.5:80/a", b"http://10.0.0.5:80/a"),
        (b"//10.0.0.5:8080/a?b", b"//shop.test/a?b"),
        (b"//other.test/a", b"//other.test/a"),
    ],
)
def test_origin_urls_are_rewritten_to_the_public_host(value: bytes, expected: bytes) -> None:
    assert rewrite_origin_url(value, ORIGIN, b"shop.test") == expected


def test_default_port_origin_is_recognised_without_port() -> None:
    authorities = origin_authorities("https", "app.internal", 443)
    assert rewrite_origin_url(b"https://app.internal/x", authorities, b"shop.test") == b"https://shop.test/x"
    assert rewrite_origin_url(b"https://app.internal:443/x", authorities, b"shop.test") == b"https://shop.test/x"


@pytest.mark.parametrize(
    "named",
    [
        b"content-length",
        b"host",
        b"transfer-encoding",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"forwarded",
        b"x-forwarded-proto",
        b"edge-origin-auth",
        b"x-client-cert-subject",
        b"Content-Length",
        b" host ",
    ],
)
def test_connection_cannot_name_away_framing_or_edge_headers(named: bytes) -> None:
    extra = [(b"edge-origin-auth", b"t=1,sig=00")]
    head = request_head(
        "POST",
        b"/",
        [*BASE, (b"content-length", b"5"), (b"connection", b"close, " + named)],
        client_ip="198.51.100.7",
        trusted_peer=False,
        host=b"shop.test",
        length=5,
        chunked=False,
        extra=extra,
    )
    lines = head.split(b"\r\n")
    for expected in (
        b"host: shop.test",
        b"content-length: 5",
        b"x-forwarded-for: 198.51.100.7",
        b"x-forwarded-host: shop.test",
        b"edge-origin-auth: t=1,sig=00",
        b"x-forwarded-proto: https",
    ):
        assert lines.count(expected) == 1, (named, expected)


def test_framing_is_edges_own_never_the_clients_spelling() -> None:
    headers = [(b"host", b"shop.test"), (b"content-length", b"45 "), (b"transfer-encoding", b"chunked")]
    lines = head_lines(headers, length=45)
    assert b"content-length: 45" in lines
    assert b"content-length: 45 " not in lines
    assert not any(line.startswith(b"transfer-encoding") for line in lines)
    chunked = head_lines([(b"host", b"shop.test"), (b"content-length", b"9")], chunked=True)
    assert b"transfer-encoding: chunked" in chunked
    assert not any(line.startswith(b"content-length") for line in chunked)
    assert [line for line in chunked if line.startswith(b"host")] == [b"host: shop.test"]


def test_host_is_stated_once_from_the_validated_host() -> None:
    lines = head_lines([(b"host", b"other.test"), (b"accept", b"*/*")], host=b"shop.test")
    assert [line for line in lines if line.startswith(b"host")] == [b"host: shop.test"]


@pytest.mark.parametrize(
    "name",
    [
        b"x_forwarded_for",
        b"x-forwarded_for",
        b"x_forwarded_host",
        b"x_forwarded_proto",
        b"edge_origin_auth",
        b"x_client_cert_subject",
        b"x_real_ip",
        b"content_length",
        b"transfer_encoding",
    ],
)
def test_underscore_twins_of_protected_headers_are_dropped(name: bytes) -> None:
    lines = head_lines([*BASE, (name, b"forged")], trusted_peer=True)
    assert not any(line.startswith(name) for line in lines)
    assert not any(b"forged" in line for line in lines)


def test_ordinary_underscore_headers_pass() -> None:
    assert b"x_custom: 1" in head_lines([*BASE, (b"x_custom", b"1")])


def test_expect_is_not_forwarded() -> None:
    assert not any(line.startswith(b"expect") for line in head_lines([*BASE, (b"expect", b"100-continue")]))


def test_link_urls_naming_the_origin_are_rewritten() -> None:
    value = (
        b"<http://10.0.0.5:8080/app.css>; rel=preload; as=style, <https://cdn.test/x.js>; rel=preload, </r>; rel=next"
    )
    out = dict(filtered([(b"Link", value)]))[b"link"]
    assert (
        out
        == b"<https://shop.test/app.css>; rel=preload; as=style, <https://cdn.test/x.js>; rel=preload, </r>; rel=next"
    )


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        (b"sid=1; Domain=10.0.0.5; Path=/; HttpOnly", b"sid=1; Path=/; HttpOnly"),
        (b"sid=1; domain=.10.0.0.5", b"sid=1"),
        (b"sid=1; Path=/; DOMAIN = APP.internal ; Secure", b"sid=1; Path=/; Secure"),
        (b"sid=1; Domain=shop.test", b"sid=1; Domain=shop.test"),
        (b"domain=10.0.0.5; Path=/", b"domain=10.0.0.5; Path=/"),  # a cookie *named* domain is kept
    ],
)
def test_set_cookie_domain_naming_an_origin_is_dropped(cookie: bytes, expected: bytes) -> None:
    out = response_headers(
        [(b"Set-Cookie", cookie)],
        origin_authorities=ORIGIN,
        public_host=b"shop.test",
        extra=[],
        origin_hosts=frozenset({b"10.0.0.5", b"app.internal"}),
    )
    assert out == [(b"set-cookie", expected)]
