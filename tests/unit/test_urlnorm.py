"""Path normalisation: what rules, rate limits and the origin see of a request path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.urlnorm import BadPath, normalize_path, normalize_target

CASES = [
    (b"/", b"/"),
    (b"/admin", b"/admin"),
    (b"/%61dmin", b"/admin"),
    (b"/%41%42c", b"/ABc"),
    (b"//admin", b"/admin"),
    (b"///a////b", b"/a/b"),
    (b"/./admin", b"/admin"),
    (b"/a/./b/.", b"/a/b/"),
    (b"/x/../admin", b"/admin"),
    (b"/x/%2e%2e/admin", b"/admin"),
    (b"/x/%2E./admin", b"/admin"),
    (b"/../../etc/passwd", b"/etc/passwd"),
    (b"/a/b/..", b"/a/"),
    (b"/a/..", b"/"),
    (b"/..", b"/"),
    (b"\\admin", b"\\admin"),  # not a path at all (no leading slash): left for the origin's 400
    (b"/\\admin", b"/admin"),
    (b"/a\\..\\admin", b"/admin"),
    (b"/a%2fb", b"/a%2Fb"),  # reserved stays encoded (hex upper-cased)
    (b"/..%2fadmin", b"/..%2Fadmin"),
    (b"/a%5c..%5cadmin", b"/a%5C..%5Cadmin"),  # an encoded backslash is data, not a separator
    (b"/%7euser/%2D%5F", b"/~user/-_"),
    (b"/a%20b", b"/a%20b"),
    (b"/a%00b", b"/a%00b"),
    (b"/a/.hidden/./x", b"/a/.hidden/x"),
    (b"/a/...", b"/a/..."),
    (b"*", b"*"),
]


@pytest.mark.parametrize(("raw", "normal"), CASES)
def test_normalize_path(raw: bytes, normal: bytes) -> None:
    assert normalize_path(raw) == normal


@pytest.mark.parametrize("raw", [b"/%", b"/%4", b"/%zz", b"/a%g1", b"/%%41"])
def test_broken_percent_encoding_is_refused(raw: bytes) -> None:
    with pytest.raises(BadPath):
        normalize_path(raw)


def test_query_is_left_as_received() -> None:
    assert normalize_target(b"/%61/./b?x=/./%61&y=..") == b"/a/b?x=/./%61&y=.."
    target = b"/plain?q=1"
    assert normalize_target(target) is target


_segments = st.lists(st.sampled_from(["a", "b", ".", "..", "", "%2e", "%2E%2e", "%61", "%2f", "\\"]), max_size=8)


@given(_segments)
def test_normal_form_is_stable_and_has_no_dot_or_empty_segments(parts: list[str]) -> None:
    once = normalize_path(("/" + "/".join(parts)).encode())
    assert normalize_path(once) == once
    inner = once.split(b"/")[1:-1]
    assert b"." not in inner and b".." not in inner and b"" not in inner
    assert once.startswith(b"/") and b"\\" not in once
