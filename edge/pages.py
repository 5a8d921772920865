"""The small pages the gateway itself answers with (403, 413, 421, 429, 502, 503, 504, ...).

They say what happened in general words and carry the request id, so that a user can quote it and an
operator can find the access-log line; they never carry an origin address or an internal error text.
"""

from __future__ import annotations

from http import HTTPStatus

_TEXT = {
    400: "The request could not be understood.",
    403: "This request was blocked by the gateway's security rules.",
    404: "Nothing is served at this address.",
    405: "This method is not allowed here.",
    413: "The request body is larger than this site accepts.",
    421: "This gateway does not serve that host name on this connection.",
    429: "Too many requests: slow down and retry later.",
    500: "The gateway failed while handling this request.",
    502: "The gateway could not get a valid answer from the site's servers.",
    503: "The service is unavailable right now: retry later.",
    504: "The site's servers did not answer in time.",
}


def error_page(status: int, request_id: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of a gateway-generated error response."""
    reason = HTTPStatus(status).phrase
    body = f"{status} {reason}\n{_TEXT.get(status, reason)}\nEdge-Request-Id: {request_id}\n".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"cache-control", b"no-store"),
        (b"edge-request-id", request_id.encode("ascii")),
    ]
    return headers, body
