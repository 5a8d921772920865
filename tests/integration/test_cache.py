"""The edge cache through the running gateway, with a real origin that counts what reaches it.

The origin is scripted by the query string, so each test states the response it wants in its own URL:
`cc` (Cache-Control), `cdn` (CDN-Cache-Control), `etag`, `lm` (Last-Modified, seconds ago), `vary`,
`status`, `cookie`, `sleep` (seconds before answering), `die` (promise 1 MiB, send 64 KiB, close),
`size` (body bytes), `v` (a value echoed in the body and a header). It answers conditional requests with
304 when the validator matches, and `/fail/...` paths with 503 while failing is switched on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .harness import Gateway, GatewayFactory, Response, ThreadedOrigin, read_text_request


class Script:
    """What the origin saw and how it behaves."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()
        self.failing = False
        self.lock = threading.Lock()

    def count(self, path: str) -> int:
        with self.lock:
            return self.counts[path]


def http_date(seconds_ago: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - seconds_ago))


def scripted(script: Script) -> Any:
    async def handle(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_text_request(reader)
            if request is None:
                return
            method, target, headers = request
            url = urlsplit(target)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            with script.lock:
                script.counts[url.path] += 1
                n = script.counts[url.path]
                if "if-none-match" in headers or "if-modified-since" in headers:
                    script.conditional[url.path] += 1
            if "sleep" in q:
                await asyncio.sleep(float(q["sleep"]))
            status = int(q.get("status", "200"))
            if url.path.startswith("/fail/") and script.failing:
                status = 503
            extra = []
            if "cc" in q:
                extra.append(("Cache-Control", q["cc"]))
            if "cdn" in q:
                extra.append(("CDN-Cache-Control", q["cdn"]))
            if "etag" in q:
                extra.append(("ETag", f'"{q["etag"]}"'))
            if "lm" in q:
                extra.append(("Last-Modified", http_date(float(q["lm"]))))
            if "vary" in q:
                extra.append(("Vary", q["vary"]))
            if "cookie" in q:
                extra.append(("Set-Cookie", f"sid={q['cookie']}; Path=/"))
            if "loc" in q:  # the origin naming itself, and a header the site drops
                extra.append(("Location", f"http://127.0.0.1:{origin.port}/next"))
                extra.append(("X-Backend", "node-7"))
            extra.append(("X-Origin-Count", str(n)))
            extra.append(("Date", http_date(0)))
            for name in q.get("echo", "").split(","):
                if name:
                    extra.append((f"X-Echo-{name}", headers.get(name.lower(), "-")))
            not_modified = status == 200 and (
                ("etag" in q and headers.get("if-none-match") == f'"{q["etag"]}"')
                or ("lm" in q and "if-modified-since" in headers and "etag" not in q)
            )
            if not_modified:
                status = 304
            if "bad304" in q and ("if-none-match" in headers or "if-modified-since" in headers):
                status = 304  # a 304 naming another representation than the one stored
                extra = [(n, '"someone-else"' if n == "ETag" else v) for n, v in extra]
            body = b"" if status in (204, 304) or method == "HEAD" else _body(q, n)
            head_out = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in extra)
            if "die" in q:
                writer.write((head_out + "Content-Length: 1048576\r\n\r\n").encode() + b"d" * 65536)
                await writer.drain()
                writer.transport.abort()
                return
            length = len(_body(q, n)) if method == "HEAD" and status == 200 else len(body)
            writer.write((head_out + f"Content-Length: {length}\r\n\r\n").encode() + body)
            await writer.drain()

    return handle


def _body(q: dict[str, str], n: int) -> bytes:
    if "size" in q:
        return b"x" * int(q["size"])
    return json.dumps({"n": n, "v": q.get("v", "")}).encode()


@pytest.fixture(scope="module")
def script() -> Script:
    return Script()


@pytest.fixture(scope="module")
def origin(script: Script) -> Any:
    server = ThreadedOrigin(scripted(script))
    yield server
    server.stop()


def site(origin: ThreadedOrigin, **cache: Any) -> dict[str, Any]:
    return {"hosts": ["localhost", "a.test"], "origins": [origin.url], "cache": {"enabled": True, **cache}}


@pytest.fixture(scope="module")
def gw(module_factory: GatewayFactory, origin: ThreadedOrigin) -> Gateway:
    return module_factory.start([site(origin)])


_paths = iter(range(1_000_000))


def fresh_path() -> str:
    """A path no other test used: the cache and the origin's counters start clean for it."""
    return f"/t{next(_paths)}-{time.monotonic_ns()}"


def get(gateway: Gateway, target: str, **headers: str) -> Response:
    return gateway.request("GET", target, headers={k.replace("_", "-"): v for k, v in headers.items()})


def status_of(r: Response) -> str:
    return r.header("cache-status") or ""


# --- hits and misses -----------------------------------------------------------------------------------------


def test_hit_after_miss_reaches_the_origin_once(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    first = get(gw, f"{path}?cc=max-age%3D60")
    second = get(gw, f"{path}?cc=max-age%3D60")
    assert first.status == second.status == 200
    assert first.body == second.body
    assert script.count(path) == 1
    assert status_of(first) == "edge; fwd=uri-miss; stored"
    assert status_of(second) == "edge; hit"
    assert second.header("age") is not None and int(second.header("age") or "x") >= 0
    assert second.header("edge-request-id") != first.header("edge-request-id")
    assert gw.log_for(first.request_id or "")["cache"] == "miss"
    assert gw.log_for(second.request_id or "")["cache"] == "hit"


@pytest.mark.parametrize(
    ("cc", "stored"),
    [
        ("max-age%3D60", True),
        ("s-maxage%3D60", True),
        ("public%2C+max-age%3D60", True),
        ("no-store", False),
        ("private%2C+max-age%3D60", False),
        ("max-age%3D0", False),  # stored, but stale at once: the second request goes forward
        ("no-cache%2C+max-age%3D60", False),  # revalidated every time (no validator: a full 200 again)
        ("s-maxage%3D0%2C+max-age%3D60", False),
    ],
)
def test_response_directives(gw: Gateway, script: Script, cc: str, stored: bool) -> None:
    path = fresh_path()
    get(gw, f"{path}?cc={cc}")
    get(gw, f"{path}?cc={cc}")
    assert script.count(path) == (1 if stored else 2)


def test_no_freshness_and_no_validator_is_not_cached(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    get(gw, path)
    get(gw, path)
    assert script.count(path) == 2


def test_cdn_cache_control_takes_precedence(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    for _ in range(2):
        get(gw, f"{path}?cc=no-store&cdn=max-age%3D60")
    assert script.count(path) == 1
    other = fresh_path()
    for _ in range(2):
        get(gw, f"{other}?cc=max-age%3D60&cdn=no-store")
    assert script.count(other) == 2


def test_set_cookie_responses_are_not_stored_by_default(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    get(gw, f"{path}?cc=max-age%3D60&cookie=abc")
    get(gw, f"{path}?cc=max-age%3D60&cookie=abc")
    assert script.count(path) == 2


def test_authorization_only_when_the_response_allows(gw: Gateway, script: Script) -> None:
    private = fresh_path()
    for _ in range(2):
        get(gw, f"{private}?cc=max-age%3D60", Authorization="Bearer x")
    assert script.count(private) == 2
    shared = fresh_path()
    for _ in range(2):
        get(gw, f"{shared}?cc=s-maxage%3D60", Authorization="Bearer x")
    assert script.count(shared) == 1


def test_request_no_cache_and_max_age_zero_go_forward(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    get(gw, f"{path}?cc=max-age%3D60")
    get(gw, f"{path}?cc=max-age%3D60", Cache_Control="no-cache")
    get(gw, f"{path}?cc=max-age%3D60", Cache_Control="max-age=0")
    assert script.count(path) == 3
    assert get(gw, f"{path}?cc=max-age%3D60", Cache_Control="nothing-to-see-here").header("cache-status") == "edge; hit"


def test_only_if_cached_gets_504_on_a_miss(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    r = get(gw, path, Cache_Control="only-if-cached")
    assert r.status == 504
    assert script.count(path) == 0


def test_head_is_answered_from_a_stored_get(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    body = get(gw, f"{path}?cc=max-age%3D60").body
    head = gw.request("HEAD", f"{path}?cc=max-age%3D60")
    assert head.status == 200 and head.body == b""
    assert head.header("content-length") == str(len(body))
    assert status_of(head) == "edge; hit"
    assert script.count(path) == 1


# --- Vary ----------------------------------------------------------------------------------------------------


def test_vary_keeps_one_entry_per_variant(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    target = f"{path}?cc=max-age%3D60&vary=Accept-Language&echo=Accept-Language"
    en = get(gw, target, Accept_Language="en")
    fr = get(gw, target, Accept_Language="fr")
    assert en.header("x-echo-accept-language") == "en" and fr.header("x-echo-accept-language") == "fr"
    assert get(gw, target, Accept_Language="en").header("x-echo-accept-language") == "en"
    assert get(gw, target, Accept_Language="fr").header("x-echo-accept-language") == "fr"
    assert script.count(path) == 2
    assert status_of(get(gw, target, Accept_Language="de")) == "edge; fwd=vary-miss; stored"


def test_vary_star_is_never_served_from_cache(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    get(gw, f"{path}?cc=max-age%3D60&vary=*")
    get(gw, f"{path}?cc=max-age%3D60&vary=*")
    assert script.count(path) == 2


# --- validation ----------------------------------------------------------------------------------------------


def test_stale_entry_is_revalidated_and_the_304_updates_its_headers(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    target = f"{path}?cc=max-age%3D1&etag=v1&v=one"
    first = get(gw, target)
    time.sleep(2.1)
    second = get(gw, target)
    assert second.status == 200 and second.body == first.body  # the stored body, validated
    assert script.conditional[path] == 1
    assert second.header("x-origin-count") == "2"  # updated from the 304
    assert status_of(second) == "edge; fwd=stale; fwd-status=304; stored"
    assert status_of(get(gw, target)) == "edge; hit"  # fresh again
    assert script.count(path) == 2


def test_client_conditionals_are_answered_from_cache(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    target = f"{path}?cc=max-age%3D60&etag=abc&lm=3600"
    get(gw, target)
    inm = get(gw, target, If_None_Match='"abc"')
    assert inm.status == 304 and inm.body == b"" and inm.header("etag") == '"abc"'
    ims = get(gw, target, If_Modified_Since=http_date(0))
    assert ims.status == 304
    assert get(gw, target, If_None_Match='"other"').status == 200
    assert script.count(path) == 1


def test_ranges_from_a_stored_response(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    target = f"{path}?cc=max-age%3D60&size=1000"
    get(gw, target)
    part = get(gw, target, Range="bytes=10-19")
    assert part.status == 206 and part.body == b"x" * 10
    assert part.header("content-range") == "bytes 10-19/1000"
    assert get(gw, target, Range="bytes=5000-").status == 416
    assert script.count(path) == 1


def test_stale_while_revalidate_serves_stale_and_refreshes_once(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    target = f"{path}?cc=max-age%3D3%2C+stale-while-revalidate%3D30"
    get(gw, target)
    time.sleep(3.6)
    answers = [get(gw, target) for _ in range(3)]
    assert all(r.status == 200 for r in answers)
    assert "detail=stale" in status_of(answers[0])
    deadline = time.monotonic() + 3
    while script.count(path) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert script.count(path) == 2  # one background refresh, whatever the number of stale hits
    assert status_of(get(gw, target)) == "edge; hit"


def test_stale_if_error_serves_stale_while_the_origin_fails(gw: Gateway, script: Script) -> None:
    path = "/fail" + fresh_path()
    target = f"{path}?cc=max-age%3D1%2C+stale-if-error%3D60"
    first = get(gw, target)
    time.sleep(1.6)
    script.failing = True
    try:
        stale = get(gw, target)
    finally:
        script.failing = False
    assert stale.status == 200 and stale.body == first.body
    assert "stale-if-error" in status_of(stale)
    assert script.count(path) == 2


def test_stale_entry_answers_while_the_origin_is_down(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    script = Script()
    origin = threaded_origin(scripted(script))
    gateway = gateway_factory.start([site(origin, stale_if_error="60s")])
    first = get(gateway, "/down?cc=max-age%3D1")
    time.sleep(1.6)
    origin.stop()
    stale = get(gateway, "/down?cc=max-age%3D1")
    assert stale.status == 200 and stale.body == first.body
    assert "fwd=stale" in status_of(stale)
    assert get(gateway, "/never-stored").status == 502


# --- collapsing, bounds, cut responses ------------------------------------------------------------------------


def test_concurrent_misses_make_one_origin_request(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    target = f"{path}?cc=max-age%3D60&sleep=0.5"
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda _: get(gw, target, Accept="*/*"), range(50)))
    assert all(r.status == 200 for r in answers)
    assert len({r.body for r in answers}) == 1
    assert script.count(path) == 1


def test_a_not_storable_answer_releases_the_waiters(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    target = f"{path}?cc=no-store&sleep=0.5"
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        started = time.monotonic()
        answers = list(pool.map(lambda _: get(gw, target), range(5)))
    assert all(r.status == 200 for r in answers)
    assert script.count(path) == 5
    assert time.monotonic() - started < 4.5  # nobody waited for the collapse timeout


def test_origin_that_dies_mid_body_leaves_no_entry(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    with pytest.raises(Exception):  # noqa: B017 - the client sees a cut stream, whatever it raises
        get(gw, f"{path}?cc=max-age%3D60&die=1")
    with pytest.raises(Exception):  # noqa: B017
        get(gw, f"{path}?cc=max-age%3D60&die=1")
    assert script.count(path) == 2


def test_large_entries_stream_through_uncached(
    module_factory: GatewayFactory, origin: ThreadedOrigin, script: Script
) -> None:
    gateway = module_factory.start([site(origin, max_entry="10KiB")])
    path = fresh_path()
    for _ in range(2):
        r = get(gateway, f"{path}?cc=max-age%3D60&size=20000")
        assert r.status == 200 and len(r.body) == 20000
    assert script.count(path) == 2


def test_byte_bound_holds_under_a_flood_of_distinct_urls(
    module_factory: GatewayFactory, origin: ThreadedOrigin
) -> None:
    gateway = module_factory.start([site(origin)], tables={"cache": {"memory": "1MiB"}})
    base = fresh_path()
    with gateway.connection() as conn:
        from .harness import send

        for i in range(120):
            assert send(conn, "GET", f"{base}-{i}?cc=max-age%3D600&size=20000").status == 200
    metrics = gateway.admin("/metrics").body.decode()
    used = next(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("edge_cache_bytes "))
    entries = next(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("edge_cache_entries "))
    assert used <= 1024 * 1024
    assert 30 <= entries < 60


# --- invalidation and purge -----------------------------------------------------------------------------------


def test_unsafe_method_invalidates_the_url(gw: Gateway, script: Script) -> None:
    path = fresh_path()
    get(gw, f"{path}?cc=max-age%3D60")
    assert gw.request("POST", f"{path}?cc=max-age%3D60", body=b"x=1").status == 200
    get(gw, f"{path}?cc=max-age%3D60")
    assert script.count(path) == 3


def admin_post(gateway: Gateway, path: str, payload: dict[str, Any]) -> Response:
    import http.client

    from .harness import LOOPBACK, read_response

    conn = http.client.HTTPConnection(LOOPBACK, gateway.admin_port, timeout=10)
    try:
        conn.request("POST", path, body=json.dumps(payload), headers={"Content-Type": "application/json"})
        return read_response(conn)
    finally:
        conn.close()


def test_purge_by_url_and_by_prefix(gw: Gateway, script: Script) -> None:
    base = fresh_path()
    targets = [f"{base}/a?cc=max-age%3D600", f"{base}/b?cc=max-age%3D600", f"{base}/c/d?cc=max-age%3D600"]
    for target in targets:
        get(gw, target)
    r = admin_post(gw, "/cache/purge", {"url": f"https://localhost:{gw.https_port}{targets[0]}"})
    assert r.status == 200 and r.json() == {"purged": 1}
    r = admin_post(gw, "/cache/purge", {"prefix": f"{base}/c/", "host": "localhost"})
    assert r.json() == {"purged": 1}
    assert admin_post(gw, "/cache/purge", {"prefix": f"{base}/", "host": "a.test"}).json() == {"purged": 0}
    for target in targets:
        get(gw, target)
    assert [script.count(f"{base}/a"), script.count(f"{base}/b"), script.count(f"{base}/c/d")] == [2, 1, 2]
    assert admin_post(gw, "/cache/purge", {"nonsense": 1}).status == 400


def test_purge_reaches_every_worker(module_factory: GatewayFactory, origin: ThreadedOrigin, script: Script) -> None:
    """Each worker keeps its own cache: every worker that served the path fetched it once; after a purge,
    every worker that serves it fetches it again. Which worker takes a new connection is the kernel's choice,
    so the workers of each round are read from the access log's `pid`."""
    gateway = module_factory.start([site(origin)], server={"workers": 2})
    path = fresh_path()
    target = f"{path}?cc=max-age%3D600"

    def workers(count: int) -> set[int]:
        responses = [get(gateway, target) for _ in range(count)]  # new connections: both workers, usually
        return {gateway.log_for(r.request_id or "")["pid"] for r in responses}

    first = workers(12)
    before = script.count(path)
    assert before == len(first)
    r = admin_post(gateway, "/cache/purge", {"prefix": path})
    assert r.status == 200 and r.json()["purged"] == before
    second = workers(12)
    assert script.count(path) == before + len(second), "a worker answered from an entry the purge missed"


# --- what the public cache test suite found, as tests of our own --------------------------------------------


async def close_delimited(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A response with no Content-Length and no chunked coding: its body ends when the origin closes."""
    try:
        await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return
    origin.requests += 1
    writer.write(
        b"HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Type: text/plain\r\n\r\nall of it, then close"
    )
    await writer.drain()
    writer.close()


def test_a_body_that_ends_at_close_is_complete_and_stored(
    gateway_factory: GatewayFactory, threaded_origin: Any
) -> None:
    origin = threaded_origin(close_delimited)
    gateway = gateway_factory.start([site(origin)])
    first = get(gateway, "/eof")
    second = get(gateway, "/eof")
    assert first.status == second.status == 200
    assert first.body == second.body == b"all of it, then close"
    assert status_of(second) == "edge; hit"
    assert origin.requests == 1


async def odd_status(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        writer.write(b"HTTP/1.1 999 Weird\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()


def test_an_origin_status_outside_http_is_a_502(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    gateway = gateway_factory.start([site(threaded_origin(odd_status))])
    r = get(gateway, "/x")
    assert r.status == 502
    assert "outside 100-599" in gateway.log_for(r.request_id or "")["error"]


def test_length_shorter_than_the_body_stores_what_the_length_says(gw: Gateway, script: Script) -> None:
    """An origin that sends more bytes than its Content-Length: the response ends at the length, is stored,
    and the stray bytes never reach the next client (the connection is not reused)."""
    path = fresh_path()
    first = get(gw, f"{path}?cc=max-age%3D60&size=10")
    assert first.body == b"x" * 10
    assert status_of(get(gw, f"{path}?cc=max-age%3D60&size=10")) == "edge; hit"
    assert script.count(path) == 1


def test_a_304_for_another_representation_leaves_the_connection_to_one_exchange(gw: Gateway, script: Script) -> None:
    """A revalidation answered by a 304 that selects nothing stored is passed on as it is; its origin connection
    goes back to the pool once (twice in the pool, two requests would share it and one would never end)."""
    path = fresh_path()
    target = f"{path}?cc=max-age%3D1&etag=v1&bad304=1"
    get(gw, target)
    time.sleep(1.6)
    for _ in range(3):
        assert get(gw, target).status == 304
    others = [f"{fresh_path()}?cc=no-store&sleep=0.2" for _ in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda t: gw.request("GET", t, timeout=10), others))
    assert [r.status for r in answers] == [200] * 8
    assert [json.loads(r.body)["n"] for r in answers] == [1] * 8


def test_revalidated_and_refreshed_entries_keep_the_sites_header_rules(
    module_factory: GatewayFactory, origin: ThreadedOrigin, script: Script
) -> None:
    """What a 304 or a background refresh brings into the store goes through the same header hygiene as a
    forwarded response: the origin's address rewritten, the site's dropped headers dropped."""
    gateway = module_factory.start([{**site(origin), "drop_response_headers": ["X-Backend"]}])

    def clean(r: Response) -> None:
        assert r.status == 200
        assert r.header("location") == "https://localhost/next"
        assert r.header("x-backend") is None

    revalidated = f"{fresh_path()}?cc=max-age%3D1&etag=v1&loc=1"
    clean(get(gateway, revalidated))
    time.sleep(1.6)
    second = get(gateway, revalidated)
    assert "fwd-status=304" in status_of(second)
    clean(second)
    clean(get(gateway, revalidated))
    path = fresh_path()
    refreshed = f"{path}?cc=max-age%3D3%2C+stale-while-revalidate%3D30&loc=1"
    clean(get(gateway, refreshed))
    time.sleep(3.6)
    clean(get(gateway, refreshed))  # stale, and a refresh behind it
    deadline = time.monotonic() + 3
    while script.count(path) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    hit = get(gateway, refreshed)
    assert status_of(hit) == "edge; hit"
    clean(hit)
