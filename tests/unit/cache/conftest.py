"""Building stored responses the way http-tests/cache-tests describes them: header dates as offsets from
the origin's clock (`Date: 0` is "now at the origin"), times in seconds from an arbitrary origin T."""

from __future__ import annotations

from collections.abc import Sequence

from edge.cache.entry import StoredResponse, stored_response
from edge.cache.httpdate import format_http_date

T = 1_800_000_000.0  # the origin's "now" when it answers (2027-01-15)
DATE_FIELDS = frozenset({b"date", b"expires", b"last-modified", b"if-modified-since", b"if-unmodified-since"})

Spec = Sequence[tuple[str, str | int]]


def http_date(offset: float) -> bytes:
    return format_http_date(T + offset)


def headers(spec: Spec) -> list[tuple[bytes, bytes]]:
    """Header pairs from `(name, value)`; an int value of a date field is an offset from T, like the suite's."""
    out = []
    for name, value in spec:
        raw = name.encode()
        if isinstance(value, int):
            out.append((raw, http_date(value) if raw.lower() in DATE_FIELDS else str(value).encode()))
        else:
            out.append((raw, value.encode("latin-1")))
    return out


def stored(
    spec: Spec,
    *,
    status: int = 200,
    body: bytes = b"0123456789",
    request: Spec = (),
    request_time: float = T,
    response_time: float = T,
    targeted: Sequence[bytes] = (b"cdn-cache-control",),
) -> StoredResponse:
    return stored_response(
        status,
        headers(spec),
        body,
        request_headers=[(n.lower(), v) for n, v in headers(request)],
        request_time=request_time,
        response_time=response_time,
        targeted=targeted,
    )
