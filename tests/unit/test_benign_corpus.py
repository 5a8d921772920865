"""The own benign corpus (`tests/corpus/benign/`) is well-formed: a malformed line would be refused by the HTTP
parser (400) or mis-parsed by the WAF and so measure the parser instead of the rules. Also checks that the
committed files are exactly what `tests/corpus/build_benign.py` writes, so the generator documents the corpus."""

from __future__ import annotations

import base64
import collections
import importlib.util
import json
import re
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
BENIGN = CORPUS / "benign"
METHODS = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH",
}  # fmt: skip
REQUIRED = ("id", "source", "set", "kind", "half", "method", "path", "query", "version", "headers", "content_type")
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
TARGET = re.compile(r"^/[\x21-\x7e]*$")
MIN_TOTAL = 1500
MIN_PER_CATEGORY = 80


def load() -> dict[str, list[dict[str, Any]]]:
    files = sorted(BENIGN.glob("*.jsonl"))
    assert files, f"no corpus files in {BENIGN}"
    out: dict[str, list[dict[str, Any]]] = {}
    for path in files:
        out[path.stem] = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


CATEGORIES = load()
LINES = [rec for recs in CATEGORIES.values() for rec in recs]


def header(rec: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in rec["headers"].items() if k.lower() == name.lower()), None)


def body_of(rec: dict[str, Any]) -> bytes | None:
    if "body_b64" in rec:
        return base64.b64decode(rec["body_b64"], validate=True)
    if "body" in rec:
        return str(rec["body"]).encode("utf-8")
    return None


def test_size_and_categories() -> None:
    assert len(LINES) >= MIN_TOTAL
    assert len(CATEGORIES) >= 14
    for name, recs in CATEGORIES.items():
        assert len(recs) >= MIN_PER_CATEGORY, name


def test_ids_unique() -> None:
    ids = collections.Counter(rec["id"] for rec in LINES)
    assert [i for i, n in ids.items() if n > 1] == []


def test_both_halves_in_every_category() -> None:
    for name, recs in CATEGORIES.items():
        halves = collections.Counter(rec["half"] for rec in recs)
        assert set(halves) == {"tune", "measure"}, name
        assert abs(halves["tune"] - halves["measure"]) <= 1, (name, halves)


@pytest.mark.parametrize("rec", LINES, ids=[rec["id"] for rec in LINES])
def test_line_well_formed(rec: dict[str, Any]) -> None:
    for field in REQUIRED:
        assert field in rec, field
    assert rec["source"] == "edge-benign"
    assert rec["kind"] == "benign"
    assert rec["set"] == rec["id"].rsplit("-", 1)[0]
    assert rec["half"] in ("tune", "measure")
    assert rec["method"] in METHODS
    assert rec["version"] == "HTTP/1.1"
    assert rec["add_host"] is True and rec["autocomplete"] is True and rec["http_valid"] is True
    target = rec["path"] + ("?" + rec["query"] if rec["query"] is not None else "")
    assert TARGET.match(target), target
    assert isinstance(rec["headers"], dict) and rec["headers"]
    for name, value in rec["headers"].items():
        assert TOKEN.match(name), name
        assert isinstance(value, str) and "\r" not in value and "\n" not in value, name
    assert header(rec, "Host") is None, "the replayer adds Host (add_host)"
    assert rec["content_type"] == header(rec, "Content-Type")
    assert not ("body" in rec and "body_b64" in rec)
    body = body_of(rec)
    length = header(rec, "Content-Length")
    if body is not None:
        assert length is not None, "every body carries its Content-Length"
    if length is not None:
        assert int(length) == len(body or b"")
    if body and rec["method"] not in ("GET", "HEAD"):
        assert rec["content_type"], "a body without a Content-Type"


def multipart_lines() -> list[dict[str, Any]]:
    return [rec for rec in LINES if (rec["content_type"] or "").lower().startswith("multipart/")]


def parse_multipart(rec: dict[str, Any]) -> Message:
    body = body_of(rec)
    assert body is not None
    return message_from_bytes(f"Content-Type: {rec['content_type']}\r\n\r\n".encode() + body)


def parts_of(msg: Message) -> list[Message]:
    parts = msg.get_payload()
    assert isinstance(parts, list) and parts
    return [part for part in parts if isinstance(part, Message)]


@pytest.mark.parametrize("rec", multipart_lines(), ids=[rec["id"] for rec in multipart_lines()])
def test_multipart_bodies_parse(rec: dict[str, Any]) -> None:
    msg = parse_multipart(rec)
    assert msg.is_multipart()
    assert not msg.defects, msg.defects
    boundary = msg.get_boundary()
    assert boundary is not None
    body = body_of(rec) or b""
    assert body.startswith(f"--{boundary}\r\n".encode()) and body.endswith(f"--{boundary}--\r\n".encode())
    parts = parts_of(msg)
    assert len(parts) == len(msg.get_payload())
    if rec["content_type"].lower().startswith("multipart/form-data"):
        for part in parts:
            assert part.get_content_disposition() == "form-data"
            assert part.get_param("name", header="content-disposition")
        assert rec["set"] in ("uploads", "graphql", "webhooks") or not any(p.get_filename() for p in parts)


def test_uploads_carry_files() -> None:
    """Most uploads are multipart with at least one file part; the rest are presigned PUTs and tus PATCHes."""
    uploads = CATEGORIES["uploads"]
    multipart = [rec for rec in uploads if (rec["content_type"] or "").startswith("multipart/form-data")]
    assert len(multipart) >= 0.8 * len(uploads)
    for rec in multipart:
        assert any(part.get_filename() for part in parts_of(parse_multipart(rec))), rec["id"]


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_benign", CORPUS / "build_benign.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_files_match_the_generator() -> None:
    gen = load_generator()
    assert sorted(gen.CATEGORIES) == sorted(CATEGORIES)
    for name in gen.CATEGORIES:
        assert gen.render(gen.build_category(name)) == (BENIGN / f"{name}.jsonl").read_text(encoding="utf-8"), name
