"""The WAF in the request path: blocks, scores, log/allow/skip, paranoia, detect mode, body rules, phases.

Every test goes through a real `edge run` over TLS to the demo origin, whose `/count` proves whether a
request reached it and whose `/echo` reports the body it received (size and SHA-256). The rule files are the
tests' own (written into the gateway's `rules/` folder), never the repository's managed set.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from .harness import LOOPBACK, DemoOrigin, Gateway, GatewayFactory, Response

MAX_BODY = 64 * 1024
BIG = 1024 * 1024

FIRST = """\
[[rule]]
id = "allow-trusted"
description = "loopback clients that say they are trusted pass without further checks"
expr = 'ip.src in {127.0.0.0/8 ::1} and any(http.request.headers["x-trusted"][*] eq "yes")'
action = "allow"

[[rule]]
id = "skip-by-id"
expr = 'http.request.uri.path eq "/skip-id"'
action = "skip"
skip = ["ua-sqlmap"]

[[rule]]
id = "skip-by-tag"
expr = 'http.request.uri.path eq "/skip-tag"'
action = "skip"
skip = ["scanner"]
"""

HEAD = """\
[[rule]]
id = "ua-sqlmap"
expr = 'lower(http.user_agent) contains "sqlmap"'
action = "block"
tags = ["scanner"]
  [[rule.test]]
  request = "GET /"
  headers = { "User-Agent" = "sqlmap/1.7" }
  match = true

[[rule]]
id = "legal-hold"
expr = 'starts_with(http.request.uri.path, "/legal-hold")'
action = "block"
status = 451

[[rule]]
id = "secret-file"
expr = 'any(http.request.uri.args["file"][*] eq "secret")'
action = "block"
tags = ["files"]

[[rule]]
id = "probe-a"
expr = 'any(http.request.uri.args.names[*] eq "probe_a")'
action = "score"
score = 3

[[rule]]
id = "probe-b"
expr = 'any(http.request.uri.args.names[*] eq "probe_b")'
action = "score"
score = 3

[[rule]]
id = "audited"
expr = 'http.request.uri.path eq "/audited"'
action = "log"

[[rule]]
id = "paranoid-path"
expr = 'http.request.uri.path eq "/paranoid"'
action = "block"
paranoia = 2
"""

BODY = """\
[[rule]]
id = "body-raw-marker"
expr = 'http.request.body.raw contains "EVIL-RAW"'
action = "block"
tags = ["body"]

[[rule]]
id = "body-form-sqli"
expr = 'any(lower(http.request.body.form.values[*]) contains "drop table")'
action = "block"
  [[rule.test]]
  request = "POST /form"
  headers = { "Content-Type" = "application/x-www-form-urlencoded" }
  body = "q=1%3B+DROP+TABLE+users"
  match = true

[[rule]]
id = "body-truncated-strict"
description = "uploads under /strict/ must fit in what the WAF inspects"
expr = 'http.request.body.truncated and starts_with(http.request.uri.path, "/strict/")'
action = "block"
"""

RULES = {"10-first.toml": FIRST, "20-head.toml": HEAD, "30-body.toml": BODY}


def waf_table(**overrides: Any) -> dict[str, Any]:
    return {"mode": "block", "paranoia": 1, "anomaly_threshold": 5, "max_body": "64KiB", **overrides}


def start(factory: GatewayFactory, origin: DemoOrigin, **waf: Any) -> Gateway:
    return factory.start(
        [{"hosts": ["localhost"], "origins": [origin.url]}], tables={"waf": waf_table(**waf)}, rules=RULES
    )


@pytest.fixture(scope="module")
def gw(module_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    """Block mode, paranoia 1, threshold 5, max_body 64 KiB."""
    return start(module_factory, origin_a)


@pytest.fixture(scope="module")
def paranoid(module_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    return start(module_factory, origin_a, paranoia=2)


@pytest.fixture(scope="module")
def detect(module_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    return start(module_factory, origin_a, mode="detect")


def metric(gateway: Gateway, name: str, **labels: str) -> float:
    """The value of one sample of the admin /metrics text (0 when the series does not exist yet)."""
    text = gateway.admin("/metrics").body.decode()
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def rule_entry(gateway: Gateway, rule_id: str) -> dict[str, Any]:
    rules = gateway.admin("/rules").json()["rules"]
    (entry,) = [r for r in rules if r["id"] == rule_id]
    return entry  # type: ignore[no-any-return]


def waf_log(gateway: Gateway, response: Response) -> Any:
    assert response.request_id, response.headers
    return gateway.log_for(response.request_id)["waf"]


def assert_gateway_page(response: Response, status: int) -> None:
    """A small page of the gateway itself, carrying the request id in a header and in its body."""
    assert response.status == status, response.text()
    rid = response.request_id
    assert rid and re.fullmatch(r"[0-9A-Za-z_-]+", rid), rid
    assert f"Edge-Request-Id: {rid}" in response.body.decode()
    assert "Hello from" not in response.body.decode()  # not the origin's page


def echo(response: Response) -> dict[str, Any]:
    assert response.status == 200, response.text()
    report: dict[str, Any] = response.json()
    return report


SQLMAP = {"User-Agent": "sqlmap/1.7.2#stable (https://sqlmap.org)"}


# --- blocks ----------------------------------------------------------------------------------------------------


def test_blocked_request_never_reaches_the_origin(gw: Gateway, origin_a: DemoOrigin) -> None:
    before_metric = metric(gw, "edge_waf_matches_total", action="block", rule="ua-sqlmap")
    before = origin_a.count()
    r = gw.request("GET", "/echo?q=1", headers=SQLMAP)
    assert_gateway_page(r, 403)
    assert "security rules" in r.body.decode()
    assert origin_a.count() == before
    line = gw.log_for(r.request_id or "")
    assert line["status"] == 403
    assert line["waf"] == {"action": "block", "rules": ["ua-sqlmap"], "score": 0}
    assert metric(gw, "edge_waf_matches_total", action="block", rule="ua-sqlmap") == before_metric + 1


def test_custom_block_status(gw: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    r = gw.request("GET", "/legal-hold/doc")
    assert_gateway_page(r, 451)
    assert origin_a.count() == before
    assert waf_log(gw, r) == {"action": "block", "rules": ["legal-hold"], "score": 0}


def test_clean_request_passes_without_a_waf_record(gw: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    r = gw.request("GET", "/echo?file=public&probe=1", headers={"User-Agent": "curl/8.5"})
    assert echo(r)["target"] == "/echo?file=public&probe=1"
    assert origin_a.count() == before + 1
    assert waf_log(gw, r) is None


def test_admin_rules_lists_rules_with_match_counts(gw: Gateway) -> None:
    listing = gw.admin("/rules").json()
    assert re.fullmatch(r"[0-9a-f]{64}", listing["fingerprint"])
    assert [f.rsplit("/", 1)[1] for f in listing["files"]] == sorted(RULES)
    ids = [r["id"] for r in listing["rules"]]
    assert ids == [
        "allow-trusted",
        "skip-by-id",
        "skip-by-tag",
        "ua-sqlmap",
        "legal-hold",
        "secret-file",
        "probe-a",
        "probe-b",
        "audited",
        "paranoid-path",
        "body-raw-marker",
        "body-form-sqli",
        "body-truncated-strict",
    ]
    before = rule_entry(gw, "ua-sqlmap")
    assert before["file"].endswith("20-head.toml") and before["line"] == 1
    assert (before["action"], before["tags"], before["paranoia"]) == ("block", ["scanner"], 1)
    assert rule_entry(gw, "paranoid-path")["paranoia"] == 2
    assert rule_entry(gw, "probe-a")["score"] == 3
    for _ in range(2):
        assert gw.request("GET", "/", headers=SQLMAP).status == 403
    assert rule_entry(gw, "ua-sqlmap")["matches"] == before["matches"] + 2
    assert rule_entry(gw, "paranoid-path")["matches"] == 0  # off at paranoia 1: never evaluated here


# --- anomaly scoring, log, allow, skip, paranoia, detect ---------------------------------------------------------


def test_two_scores_reach_the_threshold(gw: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    r = gw.request("GET", "/echo?probe_a=1&probe_b=2")
    assert_gateway_page(r, 403)
    assert origin_a.count() == before
    assert waf_log(gw, r) == {"action": "block", "rules": ["probe-a", "probe-b"], "score": 6}


def test_one_score_alone_passes_and_is_logged(gw: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    r = gw.request("GET", "/echo?probe_a=1")
    echo(r)
    assert origin_a.count() == before + 1
    assert waf_log(gw, r) == {"action": "pass", "rules": ["probe-a"], "score": 3}


def test_log_action_records_without_blocking(gw: Gateway, origin_a: DemoOrigin) -> None:
    before_metric = metric(gw, "edge_waf_matches_total", action="log", rule="audited")
    before = origin_a.count()
    r = gw.request("GET", "/audited")
    assert r.status == 200 and b"Hello from the alpha origin" in r.body
    assert origin_a.count() == before + 1
    assert waf_log(gw, r) == {"action": "pass", "rules": ["audited"], "score": 0}
    assert metric(gw, "edge_waf_matches_total", action="log", rule="audited") == before_metric + 1


def test_allow_rule_lets_an_otherwise_blocked_request_pass(gw: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    r = gw.request("GET", "/echo?file=secret&probe_a=1&probe_b=1", headers={**SQLMAP, "X-Trusted": "yes"})
    echo(r)
    assert origin_a.count() == before + 1
    assert waf_log(gw, r) == {"action": "allow", "rules": ["allow-trusted"], "score": 0}
    # Allow ends WAF evaluation: the body rules do not run either, the body reaches the origin.
    body = b"payload with EVIL-RAW inside"
    r = gw.request("POST", "/echo", headers={"X-Trusted": "yes"}, body=body)
    assert echo(r)["body_sha256"] == hashlib.sha256(body).hexdigest()
    # The header alone is what allows: a wrong value is blocked as usual.
    assert gw.request("GET", "/", headers={**SQLMAP, "X-Trusted": "no"}).status == 403


def test_skip_by_rule_id(gw: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    r = gw.request("GET", "/skip-id", headers=SQLMAP)
    assert r.status == 200, r.text()
    assert origin_a.count() == before + 1
    assert waf_log(gw, r) == {"action": "pass", "rules": ["skip-by-id"], "score": 0}
    # Only the named rule is off: another rule still blocks on the same path.
    r = gw.request("GET", "/skip-id?file=secret", headers=SQLMAP)
    assert r.status == 403
    assert waf_log(gw, r)["rules"] == ["skip-by-id", "secret-file"]


def test_skip_by_tag(gw: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    r = gw.request("GET", "/skip-tag", headers=SQLMAP)
    assert r.status == 200, r.text()
    assert origin_a.count() == before + 1
    assert waf_log(gw, r) == {"action": "pass", "rules": ["skip-by-tag"], "score": 0}
    r = gw.request("GET", "/skip-tag?file=secret", headers=SQLMAP)
    assert r.status == 403
    assert waf_log(gw, r)["rules"] == ["skip-by-tag", "secret-file"]
    # Without the skip, the tagged rule blocks.
    assert gw.request("GET", "/no-skip", headers=SQLMAP).status == 403


def test_paranoia_level_switches_rules_on(gw: Gateway, paranoid: Gateway) -> None:
    r = gw.request("GET", "/paranoid")
    assert r.status == 200, r.text()
    assert waf_log(gw, r) is None
    r = paranoid.request("GET", "/paranoid")
    assert_gateway_page(r, 403)
    assert waf_log(paranoid, r) == {"action": "block", "rules": ["paranoid-path"], "score": 0}
    # Level 1 rules stay on at level 2.
    assert paranoid.request("GET", "/", headers=SQLMAP).status == 403


def test_detect_mode_blocks_nothing_and_logs_what_it_would_block(detect: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    r = detect.request("GET", "/echo", headers=SQLMAP)
    echo(r)
    assert waf_log(detect, r) == {"action": "pass", "rules": ["ua-sqlmap"], "score": 0, "would_block": True}
    r = detect.request("GET", "/echo?probe_a=1&probe_b=1")
    echo(r)
    assert waf_log(detect, r) == {"action": "pass", "rules": ["probe-a", "probe-b"], "score": 6, "would_block": True}
    r = detect.request("GET", "/legal-hold")
    assert r.status == 200, r.text()
    body = b"x=1&EVIL-RAW"
    r = detect.request("POST", "/echo", body=body)
    assert echo(r)["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert waf_log(detect, r) == {"action": "pass", "rules": ["body-raw-marker"], "score": 0, "would_block": True}
    assert origin_a.count() == before + 4
    # A match that would not block is logged without would_block.
    r = detect.request("GET", "/echo?probe_a=1")
    assert waf_log(detect, r) == {"action": "pass", "rules": ["probe-a"], "score": 3}


# --- body rules --------------------------------------------------------------------------------------------------


def multipart(fields: dict[str, str], boundary: str = "----edge-test-boundary") -> tuple[str, bytes]:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    upload = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    upload += "Content-Type: text/plain\r\n\r\nplain file content\r\n"
    return f"multipart/form-data; boundary={boundary}", ("".join(parts) + upload + f"--{boundary}--\r\n").encode()


def form_body(kind: str, value: str) -> tuple[str, bytes]:
    if kind == "urlencoded":
        return "application/x-www-form-urlencoded", urlencode({"name": "ann", "comment": value}).encode()
    if kind == "multipart":
        return multipart({"name": "ann", "comment": value})
    return "application/json", json.dumps({"name": "ann", "order": {"notes": ["first", value]}}).encode()


@pytest.mark.parametrize("kind", ["urlencoded", "multipart", "json"])
def test_form_body_rule_blocks_a_post(gw: Gateway, origin_a: DemoOrigin, kind: str) -> None:
    content_type, body = form_body(kind, "1; DROP TABLE users")
    before = origin_a.count()
    r = gw.request("POST", "/echo", headers={"Content-Type": content_type}, body=body)
    assert_gateway_page(r, 403)
    assert origin_a.count() == before
    assert waf_log(gw, r) == {"action": "block", "rules": ["body-form-sqli"], "score": 0}


@pytest.mark.parametrize("kind", ["urlencoded", "multipart", "json"])
def test_clean_form_body_passes_intact(gw: Gateway, origin_a: DemoOrigin, kind: str) -> None:
    content_type, body = form_body(kind, "please drop the table at the door")  # "drop table" is not in it
    before = origin_a.count()
    report = echo(gw.request("POST", "/echo", headers={"Content-Type": content_type}, body=body))
    assert (report["body_size"], report["body_sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    assert ["content-type", content_type] in report["headers"]
    assert origin_a.count() == before + 1


def test_raw_body_rule_blocks_a_post(gw: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    r = gw.request("POST", "/echo", headers={"Content-Type": "text/plain"}, body=b"hello EVIL-RAW world")
    assert_gateway_page(r, 403)
    assert origin_a.count() == before
    assert waf_log(gw, r) == {"action": "block", "rules": ["body-raw-marker"], "score": 0}
    # chunked, with the marker split across two chunks: the rule sees the body, not the pieces
    r = gw.request("POST", "/echo", body=[b"hello EVI", b"L-RAW world"])
    assert r.status == 403
    assert origin_a.count() == before


TAIL = 16


def post(gateway: Gateway, path: str, body: bytes, *, framing: str = "content-length", **kwargs: Any) -> Response:
    """POST `body` in 64 KiB writes."""

    def pieces() -> Any:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    headers = dict(kwargs.pop("headers", {}))
    if framing == "content-length":
        headers["Content-Length"] = str(len(body))
    return gateway.request("POST", path, headers=headers, body=pieces(), timeout=30, **kwargs)


def pattern(size: int) -> bytes:
    """`size` bytes that are not all alike (so a reordered or shifted forward would change the hash)."""
    block = os.urandom(4096).replace(b"EVIL", b"evil")
    return (block * (size // len(block) + 1))[:size]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_body_larger_than_max_body_reaches_the_origin_intact(gw: Gateway, origin_a: DemoOrigin, framing: str) -> None:
    body = pattern(BIG)
    before = origin_a.count()
    r = post(gw, "/echo", body, framing=framing)
    report = echo(r)
    assert report["body_size"] == BIG
    assert report["body_sha256"] == hashlib.sha256(body).hexdigest()
    names = {name for name, _ in report["headers"]}
    assert ("transfer-encoding" in names) == (framing == "chunked")
    assert origin_a.count() == before + 1
    assert waf_log(gw, r) is None


def test_attack_after_max_body_is_not_seen(gw: Gateway, origin_a: DemoOrigin) -> None:
    """Documented limit: only the first `waf.max_body` bytes are inspected. A marker at 1 MiB passes."""
    body = b"a" * BIG + b" EVIL-RAW"
    before = origin_a.count()
    r = post(gw, "/echo", body)
    assert echo(r)["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert origin_a.count() == before + 1
    # The same marker inside the inspected part is blocked.
    r = post(gw, "/echo", b"a" * (MAX_BODY - 100) + b" EVIL-RAW" + b"a" * 100)
    assert r.status == 403
    assert origin_a.count() == before + 1


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_truncated_body_can_be_blocked(gw: Gateway, origin_a: DemoOrigin, framing: str) -> None:
    """`http.request.body.truncated` is true past `waf.max_body`, so a rule can refuse what it cannot see."""
    body = b"a" * BIG
    before = origin_a.count()
    r = post(gw, "/strict/upload", body, framing=framing)
    assert_gateway_page(r, 403)
    assert waf_log(gw, r) == {"action": "block", "rules": ["body-truncated-strict"], "score": 0}
    # A body that fits (exactly max_body) is not truncated.
    r = post(gw, "/strict/upload", b"a" * MAX_BODY, framing=framing)
    assert r.status == 200, r.text()
    assert origin_a.count() == before + 1


def test_body_rules_do_not_read_a_get_without_body(gw: Gateway, origin_a: DemoOrigin) -> None:
    """A GET without a body is not held for a body: it passes at once, twice on one keep-alive connection,
    and a body rule's marker elsewhere in the request (the query) does not match."""
    before = origin_a.count()
    with gw.connection() as conn:
        for n in range(2):
            started = time.monotonic()
            conn.putrequest("GET", f"/echo?x=EVIL-RAW&n={n}", skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", "localhost")
            conn.endheaders()
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, body
            assert time.monotonic() - started < 2.0
            rid = resp.getheader("Edge-Request-Id") or ""
            assert gw.log_for(rid)["waf"] is None
    assert origin_a.count() == before + 2


# --- head rules run before the body is read -------------------------------------------------------------------


def raw_head(gateway: Gateway, head: bytes, timeout: float = 5.0) -> ssl.SSLSocket:
    context = gateway.ssl_context()
    raw = socket.create_connection((LOOPBACK, gateway.https_port), timeout=timeout)
    tls = context.wrap_socket(raw, server_hostname="localhost")
    tls.sendall(head)
    return tls


def read_until_head(tls: ssl.SSLSocket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_head_rule_answers_before_the_body_is_sent(gw: Gateway, origin_a: DemoOrigin) -> None:
    size = 8 * 1024 * 1024
    head = (
        b"POST /echo HTTP/1.1\r\nHost: localhost\r\nUser-Agent: sqlmap/1.7\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % size
    )
    before = origin_a.count()
    with raw_head(gw, head, timeout=5.0) as tls:
        answer = read_until_head(tls)  # not a byte of the body was sent: a socket timeout fails the test
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 403 Forbidden", answer[:300]
    assert re.search(rb"(?im)^edge-request-id: \S+", answer)
    assert origin_a.count() == before


def test_without_a_head_match_the_gateway_waits_for_the_body(gw: Gateway, origin_a: DemoOrigin) -> None:
    """The control of the test above: the same request without the head match is held for its body."""
    size = 256 * 1024
    head = b"POST /echo HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8.5\r\nContent-Length: %d\r\n\r\n" % size
    with raw_head(gw, head, timeout=1.0) as tls:
        with pytest.raises(TimeoutError):
            tls.recv(1)  # nothing comes while the body rules wait for the body
        tls.settimeout(10.0)
        body = pattern(size)
        tls.sendall(body[:-TAIL])
        time.sleep(0.3)
        tls.sendall(body[-TAIL:])
        answer = read_until_head(tls)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        length = int(re.search(rb"(?im)^content-length: (\d+)", answer).group(1))  # type: ignore[union-attr]
        payload = answer.split(b"\r\n\r\n", 1)[1]
        while len(payload) < length:
            chunk = tls.recv(65536)
            assert chunk
            payload += chunk
    assert json.loads(payload)["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_body_in_one_large_read_is_not_a_431(gw: Gateway, origin_a: DemoOrigin) -> None:
    """An ordinary client writes a 1 MiB POST in one go; the gateway then reads its end in large pieces."""
    body = pattern(BIG)
    for _ in range(5):
        r = gw.request("POST", "/echo", body=body, timeout=30)
        assert r.status == 200, r.text()
        assert r.json()["body_sha256"] == hashlib.sha256(body).hexdigest()
