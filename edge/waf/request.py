"""`RequestView`: what the WAF sees of one request. The gateway builds one per request.

Plain data, no parsing: the fields module derives everything else (args, cookies, forms) lazily, once
per request, and only when some rule reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from edge.urlnorm import BadPath, normalize_target


@dataclass(slots=True)
class RequestView:
    """One request as the WAF sees it.

    `target` is the normalised path + "?" + query (see `edge/urlnorm.py`), `raw_target` the target exactly as
    received (empty: the same as `target`); `host` is lower-case without port;
    `headers` has lower-case names, in order, duplicates kept; `client_ip` is the resolved client address
    (parsed lazily; unparsable means `ip.src` is missing). `body` is None until the body phase, then the first
    `waf.max_body` bytes, with `body_size` the declared or read size and `body_truncated` set when cut.
    `methods` and `content_types` are the site's allowed methods and request media types (None: the defaults
    of `edge.config`, DEFAULT_METHODS and DEFAULT_CONTENT_TYPES).
    """

    method: str
    target: str
    version: str
    host: str
    headers: list[tuple[str, str]]
    client_ip: str
    scheme: str = "https"
    sni: str | None = None
    tls_version: str | None = None
    client_subject: str = ""
    raw_target: str = ""
    body: bytes | None = None
    body_size: int = 0
    body_truncated: bool = False
    methods: frozenset[str] | None = None
    content_types: tuple[str, ...] | None = None

    def header(self, name: str) -> str | None:
        """The first value of header `name` (lower-case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def declares_body(self) -> bool:
        """True when the head announces a body: Content-Length above 0 or any Transfer-Encoding."""
        if self.header("transfer-encoding") is not None:
            return True
        length = self.header("content-length")
        return length is not None and length.strip() not in ("", "0")

    @classmethod
    def from_request_line(
        cls,
        line: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[str] = (),
        body: bytes | str | None = None,
        *,
        client_ip: str = "127.0.0.1",
        scheme: str = "https",
    ) -> RequestView:
        """A view from `"METHOD TARGET [VERSION]"`, headers as a mapping, pairs or `"Name: value"` strings.

        For tests and `edge rules explain`. Host comes from the Host header (default "localhost"); a body
        given as str is UTF-8 encoded, and Content-Length is added when the headers have none.
        """
        parts = line.split()
        method = parts[0] if parts else "GET"
        target = parts[1] if len(parts) > 1 else "/"
        version = parts[2] if len(parts) > 2 else "HTTP/1.1"
        pairs = [(k.strip().lower(), v.strip()) for k, v in _pairs(headers)]
        data = body.encode() if isinstance(body, str) else body
        if data is not None and not any(k == "content-length" for k, _ in pairs):
            pairs.append(("content-length", str(len(data))))
        host = next((v for k, v in pairs if k == "host"), "localhost")
        try:
            normal = normalize_target(target.encode("latin-1")).decode("latin-1")
        except (BadPath, UnicodeEncodeError):
            normal = target  # the gateway answers such a target with 400 before any rule runs
        host = host.lower().rsplit(":", 1)[0] if not host.endswith("]") else host.lower()
        return cls(
            method=method,
            target=normal,
            raw_target=target,
            version=version,
            host=host,
            headers=pairs,
            client_ip=client_ip,
            scheme=scheme,
            body=data,
            body_size=len(data) if data is not None else 0,
        )


def _pairs(headers: Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[str]) -> list[tuple[str, str]]:
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    out: list[tuple[str, str]] = []
    for item in headers:
        if isinstance(item, str):
            name, _, value = item.partition(":")
            out.append((name, value))
        else:
            out.append((str(item[0]), str(item[1])))
    return out
