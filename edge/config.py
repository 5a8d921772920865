"""`edge.toml` -> a frozen `Config`, or a `ConfigError` listing every problem with its line.

The schema is a table per section (key -> converter, default); converters raise ValueError with the
fix in the message, and unknown keys get a `did you mean`. Paths are resolved against the folder of
the config file, so a config can be moved with its certs and rules.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from edge.tomlpos import FilePos, line_of, locate
from edge.units import parse_duration, parse_size
from edge.urlnorm import normalize_path

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file, printed as `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ConfigError(Exception):
    """The config could not be loaded; `problems` lists all that was found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Listen:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Origin:
    """One upstream server; `url` is how the operator wrote it, used only in logs and never sent to clients.

    `weight` is its share of the site's requests relative to the other origins (nginx's `server ... weight=`).
    """

    scheme: str
    host: str
    port: int
    url: str
    weight: int = 1

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    https: Listen
    http: Listen | None = None
    admin: Listen | None = None
    admin_token_env: str | None = None
    workers: int = 1
    trusted_proxies: tuple[IPNetwork, ...] = ()
    proxy_protocol: bool = False  # trusted proxies prefix connections with a PROXY v1/v2 header (edge/proxyproto.py)
    grace: float = 10.0
    client_header_timeout: float = 10.0  # the TLS handshake and the whole request head (nginx's name and default 60s)
    client_body_timeout: float = 30.0  # the longest pause between two reads of a request body
    keepalive_timeout: float = 60.0  # idle keep-alive connections are closed after this
    max_connections: int = 4096  # open client connections per worker; more are closed at once, with a log line


@dataclass(frozen=True, slots=True)
class TlsConfig:
    certs: Path
    default: str | None = None
    min_version: str = "TLSv1.2"
    key_password_env: str | None = None


@dataclass(frozen=True, slots=True)
class WafConfig:
    rules: Path
    mode: str = "block"
    paranoia: int = 1
    anomaly_threshold: int = 5
    max_body: int = 1024 * 1024
    audit_log: Path | None = None  # JSON lines, one per request a rule matched (edge/waf_audit.py)


# What browsers, REST clients and WebDAV/CalDAV/CardDAV clients send (RFC 9110, 4918, 4791, 6352, 5323, 3253).
DEFAULT_METHODS = frozenset(
    {
        *("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
        *("PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK"),
        *("REPORT", "MKCALENDAR", "SEARCH"),
    }
)
# Request media types clients send; `*` matches any run of characters (`image/*`, `application/*+json`).
DEFAULT_CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/mixed",
    "multipart/related",
    "application/json",
    "application/*+json",
    "application/x-ndjson",
    "application/jsonl",
    "application/x-sentry-envelope",
    "application/xml",
    "application/*+xml",
    "text/xml",
    "application/graphql",
    "application/csp-report",
    "application/octet-stream",
    "application/offset+octet-stream",
    "application/grpc",
    "application/grpc+proto",
    "application/grpc-web",
    "application/grpc-web+proto",
    "application/grpc-web-text",
    "application/x-protobuf",
    "application/protobuf",
    "application/jwt",
    "application/x-plist",
    "application/x-apple-aspen-*",
    "application/pdf",
    "application/zip",
    "application/x-zip-compressed",
    "application/gzip",
    "application/msword",
    "application/vnd.*",
    "text/plain",
    "text/csv",
    "text/html",
    "text/calendar",
    "text/vcard",
    "text/x-vcard",
    "text/markdown",
    "image/*",
    "audio/*",
    "video/*",
    "font/*",
)


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    storage: str = "memory://"
    strategy: str = "moving-window"
    on_storage_error: str = "allow"


@dataclass(frozen=True, slots=True)
class CacheConfig:
    memory: int = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SiteCacheConfig:
    """`[site.cache]`: whether the site's responses are cached (RFC 9111, shared cache) and within what bounds.

    Off by default: storing responses an operator never asked to store would change what clients see.
    `stale_if_error` is how stale a stored response may be and still answer while the origin cannot be
    reached at all (refused, reset, timed out): RFC 9111 section 4.2.4 lets a disconnected cache do that;
    like Cloudflare's stale serving on an unreachable origin. An origin's 5xx is served stale only when the
    response or request says `stale-if-error` (RFC 5861).
    """

    enabled: bool = False
    max_entry: int = 8 * 1024 * 1024  # larger bodies stream through uncached
    store_set_cookie: bool = False  # a response with Set-Cookie is stored only when this is true
    stale_if_error: float = 300.0


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """Active checks of a site's origins, and the thresholds that passive checks share (edge/proxy/health.py)."""

    path: str = "/healthz"
    interval: float = 5.0
    timeout: float = 2.0
    healthy: int = 2  # consecutive good checks that bring an origin marked down by checks back
    unhealthy: int = 3  # consecutive failures (checks, or connections refused / timed out) that take it out


@dataclass(frozen=True, slots=True)
class SiteConfig:
    hosts: tuple[str, ...]
    origins: tuple[Origin, ...]
    balance: str = "round-robin"
    max_body: int = 10 * 1024 * 1024
    hsts: str = ""  # opt-in: a wrong max-age locks browsers out of plain HTTP for that long
    connect_timeout: float = 3.0
    read_timeout: float = 30.0
    total_timeout: float = 300.0  # the whole exchange with the origin, head to last byte
    drop_response_headers: tuple[str, ...] = ()  # added to Server, X-Powered-By, X-AspNet-Version, ...
    health: HealthConfig | None = None
    origin_auth_secret_env: str | None = None
    client_ca: Path | None = None
    origin_ca: Path | None = None
    origin_client: tuple[Path, Path] | None = None
    static: tuple[tuple[str, Path], ...] = ()  # [site.static]: (prefix ending in "/", folder), longest prefix first
    static_cache_control: str = "public, max-age=3600"  # Cache-Control of [site.static] files; "" sends none
    cache: SiteCacheConfig = field(default_factory=SiteCacheConfig)
    compress: bool = False  # gzip/brotli text bodies the origin left uncompressed (edge/proxy/compress.py)
    methods: frozenset[str] = DEFAULT_METHODS  # the WAF scores others (proto-method-unknown)
    content_types: tuple[str, ...] = DEFAULT_CONTENT_TYPES  # the WAF scores others (proto-content-type)


# Query parameters whose values the access log replaces with "REDACTED" (compared without case).
DEFAULT_REDACT = (
    "access_token",
    "api_key",
    "apikey",
    "client_secret",
    "code",
    "id_token",
    "password",
    "refresh_token",
    "secret",
    "sig",
    "signature",
    "token",
)


@dataclass(frozen=True, slots=True)
class LogConfig:
    """`[log]`: where the access log and the lifecycle log go, and in which format (edge/logs.py).

    `access` and `error` are "stdout" / "stderr" / "off" or an absolute path (resolved against the config's
    folder); files are opened for appending and reopened on SIGUSR1, as after logrotate.
    """

    format: str = "json"  # "json" | "text"
    access: str = "stdout"  # "stdout" | "off" | a file
    error: str = "stderr"  # "stderr" | a file
    redact: tuple[str, ...] = DEFAULT_REDACT


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    server: ServerConfig
    tls: TlsConfig
    waf: WafConfig
    ratelimit: RateLimitConfig = field(default_factory=RateLimitConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    sites: tuple[SiteConfig, ...] = ()
    log: LogConfig = field(default_factory=LogConfig)

    @property
    def folder(self) -> Path:
        return self.path.parent


# --- converters: raw TOML value -> typed value, ValueError with the fix ---------------------------------------

Converter = Callable[[Any, Path], Any]


def _listen(value: Any, _: Path) -> Listen:
    if not isinstance(value, str):
        raise ValueError('expected "host:port", e.g. "127.0.0.1:8443" or "[::]:443"')
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f'expected "host:port", e.g. "127.0.0.1:8443" or "[::]:443", got {value!r}')
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    number = int(port)
    if not 0 <= number <= 65535:
        raise ValueError(f"port {number} is out of range 0..65535")
    return Listen(host, number)


_ORIGIN_KEYS = ("url", "weight")


def _origin(value: Any, base: Path) -> Origin:
    """An origin written as a URL string, or as a table `{ url = "http://10.0.0.5:80", weight = 3 }`."""
    if not isinstance(value, dict):
        return _origin_url(value)
    for key in value:
        if key not in _ORIGIN_KEYS:
            raise ValueError(f"unknown key {key!r} in an origin table{_suggestion(key, _ORIGIN_KEYS)}")
    if "url" not in value:
        raise ValueError('an origin table needs a url, e.g. { url = "http://10.0.0.5:80", weight = 3 }')
    origin = _origin_url(value["url"])
    try:
        weight = _int_range(1, 1000)(value.get("weight", 1), base)
    except ValueError as exc:
        raise ValueError(f"weight of {origin.url}: {exc}") from None
    return replace(origin, weight=weight)


def _origin_url(value: Any) -> Origin:
    if not isinstance(value, str):
        raise ValueError(
            'expected an origin URL such as "http://127.0.0.1:9000" or a table { url = "...", weight = 3 }'
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f'expected an origin URL such as "http://127.0.0.1:9000" or "https://app.internal", got {value!r}'
        )
    if parts.path not in ("", "/") or parts.query:
        raise ValueError(f"an origin is scheme://host[:port] without a path, got {value!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ValueError(f"bad port in {value!r}") from exc
    return Origin(parts.scheme, parts.hostname, port, value)


def _str(value: Any, _: Path) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _bool(value: Any, _: Path) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _opt_str(value: Any, base: Path) -> str | None:
    return _str(value, base) or None


def _int_range(low: int, high: int) -> Converter:
    def convert(value: Any, _: Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected an integer from {low} to {high}, got {value!r}")
        return value

    return convert


def _choice(*choices: str) -> Converter:
    def convert(value: Any, _: Path) -> str:
        if value not in choices:
            hint = difflib.get_close_matches(str(value), choices, n=1)
            extra = f' (did you mean "{hint[0]}"?)' if hint else ""
            raise ValueError(f"expected one of {', '.join(repr(c) for c in choices)}, got {value!r}{extra}")
        return str(value)

    return convert


def _size(value: Any, _: Path) -> int:
    return parse_size(value)


def _duration(value: Any, _: Path) -> float:
    return parse_duration(value)


def _positive_duration(value: Any, _: Path) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"expected a duration above zero such as 250ms or 2s, got {value!r}")
    return seconds


def _field_value(value: Any, base: Path) -> str:
    text = _str(value, base)
    if any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F or ord(c) > 0xFF for c in text):
        raise ValueError(f"expected a header field value without control characters, got {value!r}")
    return text.strip(" \t")


def _url_path(value: Any, base: Path) -> str:
    path = _str(value, base)
    if not path.startswith("/"):
        raise ValueError(f'expected a path starting with "/", such as "/healthz", got {value!r}')
    return path


def _env_name(value: Any, base: Path) -> str:
    name = _str(value, base)
    if not name or "=" in name or "\0" in name:
        raise ValueError(f'expected the name of an environment variable such as "EDGE_ORIGIN_SECRET", got {value!r}')
    return name


def _path(value: Any, base: Path) -> Path:
    return base / _str(value, base)


def _networks(value: Any, _: Path) -> tuple[IPNetwork, ...]:
    if not isinstance(value, list):
        raise ValueError('expected a list of CIDRs, e.g. ["10.0.0.0/8"]')
    try:
        return tuple(ipaddress.ip_network(str(v), strict=False) for v in value)
    except ValueError as exc:
        raise ValueError(f"bad CIDR: {exc}") from exc


def _hosts(value: Any, _: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError('expected a non-empty list of host names, e.g. ["example.com", "*.example.com"]')
    for host in value:
        if "*" in host and not (host.startswith("*.") and "*" not in host[2:]):
            raise ValueError(f"a wildcard host is written *.example.com, got {host!r}")
    return tuple(v.lower().rstrip(".") for v in value)


def _header_names(value: Any, _: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v and v.isascii() and " " not in v for v in value):
        raise ValueError('expected a list of header names, e.g. ["X-Backend", "X-Runtime"]')
    return tuple(v.lower() for v in value)


def _origins(value: Any, base: Path) -> tuple[Origin, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(
            'expected a non-empty list of origin URLs, e.g. ["http://127.0.0.1:9000"] or '
            '[{ url = "http://10.0.0.5:80", weight = 3 }, "http://10.0.0.6:80"]'
        )
    return tuple(_origin(v, base) for v in value)


def _log_target(*names: str) -> Converter:
    """A log destination: one of `names` as written, else a file path resolved against the config's folder."""

    def convert(value: Any, base: Path) -> str:
        text = _str(value, base)
        if not text:
            raise ValueError(f"expected {' or '.join(repr(n) for n in names)} or a file path")
        return text if text in names else str(base / text)

    return convert


def _names(value: Any, _: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError('expected a list of query parameter names, e.g. ["token", "password"]')
    return tuple(v.lower() for v in value)


_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _methods(value: Any, _: Path) -> frozenset[str]:
    """`["GET", "POST", "PROPFIND"]`: request methods (RFC 9110 tokens, case-sensitive: written as sent)."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError('expected a non-empty list of methods, e.g. ["GET", "HEAD", "POST", "PROPFIND"]')
    for method in value:
        if not set(method) <= _TOKEN:
            raise ValueError(f"{method!r} is not a method name (letters, digits and !#$%&'*+-.^_`|~)")
    return frozenset(value)


def _media_types(value: Any, _: Path) -> tuple[str, ...]:
    """`["application/json", "image/*", "application/*+json"]`: media types without parameters, `*` a wildcard."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError('expected a non-empty list of media types, e.g. ["application/json", "image/*"]')
    for kind in value:
        top, slash, sub = kind.partition("/")
        if not slash or not top or not sub or ";" in kind or " " in kind:
            raise ValueError(f'{kind!r} is not a media type such as "application/json" or "image/*" (no parameters)')
    return tuple(kind.lower() for kind in value)


def _min_version(value: Any, base: Path) -> str:
    return _choice("TLSv1.2", "TLSv1.3")(value, base)  # type: ignore[no-any-return]


_SECTIONS: dict[str, dict[str, tuple[Converter, bool]]] = {
    # key -> (converter, required)
    "server": {
        "https": (_listen, True),
        "http": (_listen, False),
        "admin": (_listen, False),
        "admin_token_env": (_opt_str, False),
        "workers": (_int_range(1, 256), False),
        "trusted_proxies": (_networks, False),
        "proxy_protocol": (_bool, False),
        "grace": (_duration, False),
        "client_header_timeout": (_duration, False),
        "client_body_timeout": (_duration, False),
        "keepalive_timeout": (_duration, False),
        "max_connections": (_int_range(16, 1_000_000), False),
    },
    "tls": {
        "certs": (_path, False),
        "default": (_opt_str, False),
        "min_version": (_min_version, False),
        "key_password_env": (_opt_str, False),
    },
    "waf": {
        "rules": (_path, False),
        "mode": (_choice("block", "detect"), False),
        "paranoia": (_int_range(1, 4), False),
        "anomaly_threshold": (_int_range(1, 10_000), False),
        "max_body": (_size, False),
        "audit_log": (_path, False),
    },
    "ratelimit": {
        "storage": (_str, False),
        "strategy": (_choice("fixed-window", "moving-window", "sliding-window-counter"), False),
        "on_storage_error": (_choice("allow", "deny"), False),
    },
    "cache": {"memory": (_size, False)},
    "log": {
        "format": (_choice("json", "text"), False),
        "access": (_log_target("stdout", "off"), False),
        "error": (_log_target("stderr"), False),
        "redact": (_names, False),
    },
}

_SITE: dict[str, tuple[Converter, bool]] = {
    "hosts": (_hosts, True),
    "origins": (_origins, True),
    "balance": (_choice("round-robin", "least-conn", "ip-hash"), False),
    "max_body": (_size, False),
    "hsts": (_str, False),
    "timeouts": (lambda v, b: v, False),
    "health": (lambda v, b: v, False),
    "origin_auth": (lambda v, b: v, False),
    "client_ca": (_path, False),
    "origin_ca": (_path, False),
    "origin_client": (lambda v, b: v, False),
    "static": (lambda v, b: v, False),
    "static_cache_control": (_field_value, False),
    "cache": (lambda v, b: v, False),
    "drop_response_headers": (_header_names, False),
    "compress": (_bool, False),
    "methods": (_methods, False),
    "content_types": (_media_types, False),
}
_NESTED: dict[str, dict[str, Converter]] = {
    "timeouts": {"connect": _duration, "read": _duration, "total": _duration},
    "health": {
        "path": _url_path,
        "interval": _positive_duration,
        "timeout": _positive_duration,
        "healthy": _int_range(1, 100),
        "unhealthy": _int_range(1, 100),
    },
    "origin_auth": {"secret_env": _env_name},
    "origin_client": {"cert": _path, "key": _path},
    "cache": {"enabled": _bool, "max_entry": _size, "store_set_cookie": _bool, "stale_if_error": _duration},
}


class _Reader:
    """Collects problems while converting, so one `edge check` run reports all of them."""

    def __init__(self, path: Path, positions: FilePos) -> None:
        self.path = path
        self.positions = positions
        self.problems: list[Problem] = []

    def problem(self, where: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(str(self.path), line_of(self.positions, where), message))

    def table(
        self, raw: Any, where: tuple[str | int, ...], schema: Mapping[str, tuple[Converter, bool]]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not isinstance(raw, dict):
            self.problem(where, f"[{'.'.join(str(w) for w in where)}] must be a table")
            return out
        for key, value in raw.items():
            if key not in schema:
                self.unknown(where, key, list(schema))
                continue
            try:
                out[key] = schema[key][0](value, self.path.parent)
            except ValueError as exc:
                self.problem((*where, key), f"{'.'.join(str(w) for w in where if isinstance(w, str))}.{key}: {exc}")
        for key, (_, required) in schema.items():
            if required and key not in raw:
                self.problem(where, f"[{where[0]}] is missing the required key {key!r}")
        return out

    def unknown(self, where: tuple[str | int, ...], key: str, known: list[str]) -> None:
        section = ".".join(str(w) for w in where if isinstance(w, str)) or "top level"
        self.problem((*where, key), f"unknown key {key!r} in [{section}]{_suggestion(key, known)}")


def _suggestion(key: str, known: Sequence[str]) -> str:
    """` (did you mean 'x'?); valid keys: a, b, c`: the closest name when there is one, and always the list."""
    hint = difflib.get_close_matches(key, known, n=1)
    listed = f"valid keys: {', '.join(known)}"
    return f" (did you mean {hint[0]!r}?); {listed}" if hint else f"; {listed}"


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file; raises ConfigError listing every problem found."""
    file = Path(path).resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(str(file), 0, f"cannot read config: {exc.strerror or exc}")]) from exc
    return parse_config(text, file)


def parse_config(text: str, file: Path) -> Config:
    """Validate TOML text as a config located at `file` (paths resolve against its folder)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise ConfigError([Problem(str(file), line, f"TOML syntax: {exc}")]) from exc
    reader = _Reader(file, locate(text))
    known = [*_SECTIONS, "site"]
    for key in raw:
        if key not in known:
            reader.unknown((), key, known)
    sections = {name: reader.table(raw.get(name, {}), (name,), schema) for name, schema in _SECTIONS.items()}
    if "server" not in raw:
        reader.problem((), 'missing [server] table with at least https = "host:port"')
    sites = _sites(reader, raw.get("site", []))
    config = _assemble(reader, file, sections, sites)
    if reader.problems:
        raise ConfigError(reader.problems)
    assert config is not None
    return config


def _line_from_message(message: str) -> int:
    marker = "line "
    if marker in message:
        digits = message.split(marker, 1)[1].split()[0].strip(",)")
        if digits.isdigit():
            return int(digits)
    return 1


def _sites(reader: _Reader, raw: Any) -> list[SiteConfig]:
    if not isinstance(raw, list):
        reader.problem(("site",), "sites are written as [[site]] tables")
        return []
    if not raw:
        reader.problem((), "no [[site]]: add one with hosts = [...] and origins = [...]")
    sites: list[SiteConfig] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        where: tuple[str | int, ...] = ("site", index)
        values = reader.table(entry, where, _SITE)
        for key, schema in _NESTED.items():
            if key in values:
                values[key] = reader.table(values[key], (*where, key), {k: (c, False) for k, c in schema.items()})
        static_pairs = _static(reader, where, values.pop("static", {}))
        for host in values.get("hosts", ()):
            if host in seen:
                reader.problem((*where, "hosts"), f"host {host!r} is already served by site #{seen[host] + 1}")
            seen[host] = index
        if "hosts" not in values or "origins" not in values:
            continue
        timeouts = values.pop("timeouts", {})
        health = values.pop("health", None)
        auth = values.pop("origin_auth", None)
        client = values.pop("origin_client", None)
        cache = values.pop("cache", None)
        sites.append(
            SiteConfig(
                **values,
                connect_timeout=timeouts.get("connect", 3.0),
                read_timeout=timeouts.get("read", 30.0),
                total_timeout=timeouts.get("total", 300.0),
                health=_health(reader, where, health) if health is not None else None,
                origin_auth_secret_env=_origin_auth(reader, where, auth) if auth is not None else None,
                origin_client=(client["cert"], client["key"]) if client and len(client) == 2 else None,
                static=tuple(sorted(static_pairs, key=lambda p: -len(p[0]))),
                cache=SiteCacheConfig(**cache) if cache else SiteCacheConfig(),
            )
        )
    return sites


def _static(reader: _Reader, where: tuple[str | int, ...], raw: Any) -> list[tuple[str, Path]]:
    """`[site.static]`: URL prefix -> folder. A prefix is a path in normal form (what requests are compared
    with, after urlnorm.py) and always ends in "/"; the folder must exist when the config loads."""
    if not isinstance(raw, dict):
        reader.problem((*where, "static"), '[site.static] is a table of "/url-prefix/" = "folder"')
        return []
    pairs: dict[str, Path] = {}
    for prefix, folder in raw.items():
        at = (*where, "static", prefix)
        if not isinstance(folder, str) or not prefix.startswith("/"):
            reader.problem(at, 'static entries are "/url-prefix/" = "folder"')
            continue
        normal = prefix if prefix.endswith("/") else prefix + "/"
        if not _is_normal_path(normal):
            reader.problem(
                at,
                f"site.static: write the prefix {prefix!r} as requests carry it once normalised: percent-encoded, "
                'without "..", "//" or "\\", e.g. "/assets/"',
            )
            continue
        if normal in pairs:
            reader.problem(at, f"site.static: the prefix {normal!r} is given twice")
            continue
        path = reader.path.parent / folder
        if not path.is_dir():
            reader.problem(
                at, f"site.static: folder {str(path)!r} for {prefix!r} is not a directory: create it or fix the path"
            )
            continue
        pairs[normal] = path
    return list(pairs.items())


def _is_normal_path(path: str) -> bool:
    """The path is what urlnorm.py makes of it (no `..`, `//`, `\\`, lower-case or needless escapes), no `?#`."""
    try:
        raw = path.encode("ascii")
        return normalize_path(raw) == raw and b"?" not in raw and b"#" not in raw
    except (UnicodeEncodeError, ValueError):
        return False


def _health(reader: _Reader, where: tuple[str | int, ...], values: dict[str, Any]) -> HealthConfig:
    health = HealthConfig(**values)
    if health.timeout > health.interval:
        reader.problem(
            (*where, "health"),
            f"site.health: timeout ({health.timeout:g}s) is longer than interval ({health.interval:g}s): "
            "a check would still be waiting when the next one starts; lower timeout or raise interval",
        )
    return health


def _origin_auth(reader: _Reader, where: tuple[str | int, ...], values: dict[str, Any]) -> str | None:
    """The name of the variable holding the origin secret; it must be set now, while the config loads.

    Read here (not at import, not per request) so that `edge check` and a reload report a missing secret
    with its line, instead of edge forwarding unsigned requests that every guarded origin would refuse.
    """
    name: str | None = values.get("secret_env")
    if name is None:
        reader.problem(
            (*where, "origin_auth"), 'site.origin_auth needs secret_env, e.g. { secret_env = "EDGE_ORIGIN_SECRET" }'
        )
        return None
    if not os.environ.get(name, "").split(",")[0].strip():
        reader.problem(
            (*where, "origin_auth"),
            f"site.origin_auth.secret_env: the environment variable {name} is not set or empty "
            f'(or starts with a comma): export {name}="<secret>" (or "<new>,<old>" during a rotation)',
        )
    return name


def _assemble(
    reader: _Reader, file: Path, sections: dict[str, dict[str, Any]], sites: list[SiteConfig]
) -> Config | None:
    server = sections["server"]
    if "https" not in server:
        return None
    base = file.parent
    server_cfg = ServerConfig(**server)
    admin = server_cfg.admin
    if server_cfg.proxy_protocol and not server_cfg.trusted_proxies:
        reader.problem(
            ("server", "proxy_protocol"), "proxy_protocol needs server.trusted_proxies: whose headers to read"
        )
    if admin and not _is_loopback(admin.host) and not server_cfg.admin_token_env:
        reader.problem(
            ("server", "admin"),
            f"admin listener {admin} is not on loopback: set server.admin_token_env to require a bearer token",
        )
    if server_cfg.admin_token_env and not os.environ.get(server_cfg.admin_token_env):
        reader.problem(
            ("server", "admin_token_env"),
            f"server.admin_token_env: the environment variable {server_cfg.admin_token_env} is not set or empty, "
            f'so the admin API would refuse every request: export {server_cfg.admin_token_env}="<token>" '
            "(e.g. from `openssl rand -hex 32`) or remove admin_token_env",
        )
    tls = TlsConfig(**{"certs": base / "certs", **sections["tls"]})
    waf = WafConfig(**{"rules": base / "rules", **sections["waf"]})
    return Config(
        path=file,
        server=server_cfg,
        tls=tls,
        waf=waf,
        ratelimit=RateLimitConfig(**sections["ratelimit"]),
        cache=CacheConfig(**sections["cache"]),
        sites=tuple(sites),
        log=LogConfig(**sections["log"]),
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
