"""Request body limits: a site's max_body, by Content-Length up front and by counting a chunked body."""

from __future__ import annotations

import hashlib
import http.client

from .harness import DemoOrigin, Gateway, Response, read_response, send

LIMIT = 64 * 1024  # limit.test's max_body in the shared gateway


def _post_head_only(gateway: Gateway, length: int) -> Response:
    """POST with a Content-Length but no body sent yet: the gateway must answer from the head alone."""
    with gateway.connection("limit.test") as conn:
        conn.putrequest("POST", "/echo", skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "limit.test")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        return read_response(conn)


def test_content_length_over_max_body_gets_413_without_reaching_the_origin(
    gateway: Gateway, origin_a: DemoOrigin
) -> None:
    before = origin_a.count()
    r = _post_head_only(gateway, LIMIT + 1)
    assert r.status == 413
    assert r.request_id and f"Edge-Request-Id: {r.request_id}".encode() in r.body
    assert r.header("Strict-Transport-Security") == "max-age=31536000"
    assert origin_a.count() == before, "the oversized request reached the origin"
    line = gateway.log_for(r.request_id)
    assert line["status"] == 413
    assert line["origin"] is None


def test_huge_content_length_gets_413(gateway: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    assert _post_head_only(gateway, 10**15).status == 413
    assert origin_a.count() == before


def test_body_of_exactly_max_body_passes(gateway: Gateway) -> None:
    body = bytes(range(256)) * (LIMIT // 256)
    r = gateway.request("POST", "/echo", host="limit.test", body=body)
    assert r.status == 200
    assert r.json()["body_size"] == LIMIT
    assert r.json()["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_chunked_body_under_max_body_passes(gateway: Gateway) -> None:
    pieces = [b"a" * 16384] * 3
    r = gateway.request("POST", "/echo", host="limit.test", body=iter(pieces))
    assert r.status == 200
    assert r.json()["body_size"] == 3 * 16384


def test_chunked_body_growing_over_max_body_gets_413(gateway: Gateway) -> None:
    with gateway.connection("limit.test") as conn:
        conn.putrequest("POST", "/echo", skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "limit.test")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        piece = b"z" * 16384
        # five chunks: 80 KiB in all, over the 64 KiB limit; then no terminating chunk, just wait for the answer
        try:
            for _ in range(5):
                conn.send(b"%x\r\n%b\r\n" % (len(piece), piece))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway may stop reading once the limit is passed; its answer is what counts
        r = read_response(conn)
    assert r.status == 413
    assert r.request_id and f"Edge-Request-Id: {r.request_id}".encode() in r.body
    assert gateway.log_for(r.request_id)["status"] == 413


def test_unread_oversized_body_is_not_parsed_as_a_request(gateway: Gateway, origin_a: DemoOrigin) -> None:
    """After a 413 for Content-Length, the body bytes that follow never become a request of their own."""
    smuggled = b"GET /echo/smuggled HTTP/1.1\r\nHost: limit.test\r\n\r\n"
    body = smuggled + b"p" * (LIMIT + 1 - len(smuggled))
    before = origin_a.count()
    with gateway.connection("limit.test") as conn:
        first = send(conn, "POST", "/echo", host="limit.test", body=body)
        assert first.status == 413
        try:
            second = send(conn, "GET", "/echo/second", host="limit.test")
        except (http.client.HTTPException, ConnectionError):
            second = None  # closing the connection after a 413 is a fine answer too
    if second is not None:
        assert second.status == 200
        assert second.json()["target"] == "/echo/second"
    assert origin_a.count() == before + (1 if second is not None else 0)
