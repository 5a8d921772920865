"""The access log: one JSON object per request on stdout, with the fields of CONTRACT section 8."""

from __future__ import annotations

import calendar
import re
import time

from .harness import DemoOrigin, Gateway

FIELDS = {
    "ts",
    "request_id",
    "client",
    "host",
    "method",
    "path",
    "status",
    "bytes",
    "duration_ms",
    "origin",
    "cache",
    "waf",
    "ratelimit",
}


def test_one_line_per_request_with_every_field(gateway: Gateway, origin_a: DemoOrigin) -> None:
    r = gateway.request("POST", "/echo/logged?secret=no", body=b"hello")
    assert r.status == 200
    line = gateway.log_for(r.request_id or "")
    assert set(line) >= FIELDS, FIELDS - set(line)
    assert line["request_id"] == r.request_id
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"]), line["ts"]
    assert abs(calendar.timegm(time.strptime(line["ts"][:19], "%Y-%m-%dT%H:%M:%S")) - time.time()) < 60
    assert line["client"] == "127.0.0.1"
    assert line["host"] == "localhost"
    assert line["method"] == "POST"
    assert line["path"] == "/echo/logged"
    assert line["status"] == 200
    assert line["bytes"] == len(r.body)
    assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
    assert line["origin"] == origin_a.url


def test_every_stdout_line_is_a_json_access_log_record(gateway: Gateway) -> None:
    ids = [gateway.request("GET", f"/1k?n={n}").request_id for n in range(5)]
    for rid in ids:
        gateway.log_for(rid or "")  # exactly one line each
    lines = gateway.stdout_lines()  # parses every line: raises if one is not JSON
    assert lines and all(set(line) >= FIELDS for line in lines)
    assert len({line["request_id"] for line in lines}) == len(lines), "request ids are unique"


def test_bytes_and_duration_are_measured(gateway: Gateway) -> None:
    big = gateway.request("GET", "/bytes/300000")
    assert len(big.body) == 300000
    assert gateway.log_for(big.request_id or "")["bytes"] == 300000
    slow = gateway.request("GET", "/slow?seconds=0.3")
    assert slow.status == 200
    assert gateway.log_for(slow.request_id or "")["duration_ms"] >= 300


def test_head_request_is_logged_without_body_bytes(gateway: Gateway) -> None:
    r = gateway.request("HEAD", "/1k")
    line = gateway.log_for(r.request_id or "")
    assert (line["method"], line["status"], line["bytes"]) == ("HEAD", 200, 0)


def test_gateway_answers_are_logged_too(gateway: Gateway) -> None:
    r = gateway.request("GET", "/x", host="nobody.example", sni="localhost")
    line = gateway.log_for(r.request_id or "")
    assert (line["status"], line["host"], line["origin"]) == (421, "nobody.example", None)
    assert line["bytes"] == len(r.body)


def test_log_names_the_origin_that_answered(gateway: Gateway, origin_a: DemoOrigin, origin_b: DemoOrigin) -> None:
    for _ in range(4):
        r = gateway.request("GET", "/echo", host="rr.test")
        answered = r.json()["origin"]
        expected = origin_a.url if answered == "alpha" else origin_b.url
        assert gateway.log_for(r.request_id or "")["origin"] == expected


def test_plain_http_requests_are_logged(gateway: Gateway) -> None:
    redirect = gateway.plain("GET", "/to-https")
    refused = gateway.plain("GET", "/", host="nobody.example")
    assert gateway.log_for(redirect.request_id or "", timeout=1.5)["status"] == 308
    assert gateway.log_for(refused.request_id or "", timeout=1.5)["status"] == 421
