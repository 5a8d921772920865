"""Connection options, read once for every place that drops hop-by-hop fields."""

from __future__ import annotations

from edge.cache.fields import connection_tokens


def test_connection_tokens_of_every_line_any_case_padded_and_lowered() -> None:
    headers = [
        (b"Connection", b" Keep-Alive ,\tX-Secret"),
        (b"x-other", b"connection"),
        (b"connection", b"close,,Upgrade"),
        (b"CONNECTION", b"te"),
    ]
    assert connection_tokens(headers) == {b"keep-alive", b"x-secret", b"close", b"", b"upgrade", b"te"}
    assert connection_tokens([(b"content-type", b"text/plain")]) == frozenset()
