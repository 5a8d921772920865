"""One request's ASGI cycle on a client connection: uvicorn's, with a `send` that checks a response head in one pass.

uvicorn's `send` runs two regular expressions over every header (a name check and a value check), lowers
every name and copies the list: about a fifth of its Python work per request. Here, a name is checked once
per worker and remembered (the names a gateway sends are a few dozen), and the values are checked together
on the finished head, in one `translate`: its control bytes must be exactly one CRLF per line, so a value
carrying a line break (response splitting) or another control byte fails just as it does in uvicorn, with a
RuntimeError before a byte is written. Everything else (framing from Content-Length or chunked, `Connection: close`,
HEAD, 100-continue, the body checks) is uvicorn's behaviour, line for line.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HEADER_RE, STATUS_LINE, RequestResponseCycle

# A head with everything but its control bytes deleted (HTAB is allowed in values) must be its line ends alone.
_NOT_CONTROL = bytes(b for b in range(256) if not ((b < 0x20 and b != 0x09) or b == 0x7F))
_NAMES: dict[bytes, bytes] = {}  # header names seen valid -> lower case
_NAMES_MAX = 1024
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection"})


def _name(name: bytes) -> bytes:
    """The lower-case form of a valid header name (a token); RuntimeError for anything else."""
    if not name or HEADER_RE.search(name):
        raise RuntimeError("Invalid HTTP header name.")
    lower = name.lower()
    if len(_NAMES) >= _NAMES_MAX:
        _NAMES.clear()
    _NAMES[name] = lower
    return lower


class EdgeCycle(RequestResponseCycle):
    """uvicorn's cycle with the one-pass head check; created by `EdgeHttpProtocol` for each request."""

    async def send(self, message: Any) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        if self.response_started:
            self._send_body(message)
            return
        if message["type"] != "http.response.start":
            raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{message['type']}'.")
        self.response_started = True
        self.waiting_for_100_continue = False
        status = message["status"]
        lines = [STATUS_LINE[status]]
        append = lines.append
        close = False
        headers = message.get("headers", ())
        if self.default_headers:  # uvicorn's Server and Date, which edge turns off
            headers = [*self.default_headers, *headers]
        for name, value in headers:
            lower = _NAMES.get(name) or _name(name)
            if lower not in _FRAMING:
                pass
            elif lower == b"content-length":
                if self.chunked_encoding is None:
                    self.expected_content_length = int(value.decode())
                    self.chunked_encoding = False
            elif lower == b"transfer-encoding":
                if value.lower() == b"chunked":
                    self.expected_content_length = 0
                    self.chunked_encoding = True
            elif lower == b"connection" and b"close" in [token.lower().strip() for token in value.split(b",")]:
                self.keep_alive = False
                close = True
            append(b"%s: %s\r\n" % (lower, value))
        if not self.keep_alive and not close:
            append(b"connection: close\r\n")
        if self.chunked_encoding is None and self.scope["method"] != "HEAD" and status not in (204, 304):
            self.chunked_encoding = True
            append(b"transfer-encoding: chunked\r\n")
        append(b"\r\n")
        head = b"".join(lines)
        # One CRLF ends every line, the empty last one included: any other control byte, or a CR or LF more,
        # is in a value (names were checked above).
        if head.translate(None, _NOT_CONTROL) != b"\r\n" * len(lines):
            raise RuntimeError("Invalid HTTP header value.")
        self.transport.write(head)

    def _send_body(self, message: Any) -> None:
        if self.response_complete:
            raise RuntimeError(f"Unexpected ASGI message '{message['type']}' sent, after response already completed.")
        if message["type"] != "http.response.body":
            raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{message['type']}'.")
        body = message.get("body", b"")
        more_body = message.get("more_body", False)
        if self.scope["method"] == "HEAD":
            self.expected_content_length = 0
        elif self.chunked_encoding:
            if body:
                chunk = b"%x\r\n%b\r\n" % (len(body), body)
                self.transport.write(chunk + b"0\r\n\r\n" if not more_body else chunk)
            elif not more_body:
                self.transport.write(b"0\r\n\r\n")
        else:
            if len(body) > self.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            self.expected_content_length -= len(body)
            self.transport.write(body)
        if not more_body:
            if self.expected_content_length != 0:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.message_event.set()
            if not self.keep_alive:
                self.transport.close()
            self.on_response()
