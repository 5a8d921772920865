"""Cache directives from `Cache-Control` (RFC 9111 section 5.2) and targeted fields (RFC 9213).

One frozen `Directives` holds both request and response directives (they share one registry). Parsing rules,
chosen to match RFC 9111 and what http-tests/cache-tests checks:

- names are case-insensitive tokens; a member whose name is not a token (`max-age =5`) is ignored, and so
  are unknown directives (requests in the suite carry `Cache-Control: nothing-to-see-here`);
- arguments may be a token or a quoted-string (section 5.2: recipients accept both forms); commas inside a
  quoted string do not split members, so `ext="max-age=5"` is one unknown directive;
- a repeated directive keeps its first occurrence (section 4.2.1 allows "first occurrence or stale");
- delta-seconds is `1*DIGIT`; larger than 2^31 saturates to 2^31 (section 1.2.2); an invalid `max-age` or
  `s-maxage` (`'5'`, `-5`, `5.0`, no value) becomes 0, i.e. stale (section 4.2.1 encourages that); other
  invalid arguments are ignored, and `max-stale` without one means "any staleness" (section 5.2.1.2);
- `no-cache` and `private` with a field-name list are the qualified forms (sections 5.2.2.4, 5.2.2.7); an
  invalid or empty list counts as the unqualified, stricter form.

A targeted field (`CDN-Cache-Control`, or any name the operator lists such as `Edge-Cache-Control`) is a
Structured Field Dictionary (RFC 9213 section 2.1). The first listed field that is present and valid
replaces Cache-Control entirely for this cache; one that fails to parse, is empty, or gives a known
directive a value of the wrong type (`max-age="5"`) is ignored as if absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from edge.cache.fields import combined, split_list, values
from edge.cache.structured import parse_dictionary

MAX_DELTA = 2**31  # RFC 9111 section 1.2.2: the greatest delta-seconds a cache needs to represent
DEFAULT_TARGETED = (b"cdn-cache-control",)


@dataclass(frozen=True, slots=True)
class Directives:
    """What a Cache-Control (or targeted) field says; None and False mean "not present"."""

    max_age: int | None = None
    s_maxage: int | None = None
    max_stale: int | None = None
    min_fresh: int | None = None
    stale_while_revalidate: int | None = None
    stale_if_error: int | None = None
    no_store: bool = False
    no_cache: bool = False
    no_cache_fields: frozenset[bytes] = frozenset()
    private: bool = False
    private_fields: frozenset[bytes] = frozenset()
    public: bool = False
    must_revalidate: bool = False
    proxy_revalidate: bool = False
    must_understand: bool = False
    no_transform: bool = False
    only_if_cached: bool = False
    immutable: bool = False
    targeted: bytes | None = None  # the targeted field these came from; None for Cache-Control


EMPTY = Directives()

# Directive name -> attribute, one table per argument kind (tables over branches).
_SECONDS = {
    "max-age": "max_age",
    "s-maxage": "s_maxage",
    "max-stale": "max_stale",
    "min-fresh": "min_fresh",
    "stale-while-revalidate": "stale_while_revalidate",
    "stale-if-error": "stale_if_error",
}
_INVALID_MEANS_STALE = frozenset({"max-age", "s-maxage"})
_FLAGS = {
    "no-store": "no_store",
    "public": "public",
    "must-revalidate": "must_revalidate",
    "proxy-revalidate": "proxy_revalidate",
    "must-understand": "must_understand",
    "no-transform": "no_transform",
    "only-if-cached": "only_if_cached",
    "immutable": "immutable",
}
_FIELD_LISTS = {"no-cache": ("no_cache", "no_cache_fields"), "private": ("private", "private_fields")}
_TARGETED_FLAGS = {**_FLAGS, "no-cache": "no_cache", "private": "private"}

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_QUOTED = re.compile(rb'"((?:[^"\\]|\\.)*)"')
_UNESCAPE = re.compile(rb"\\(.)")
_MEMO: dict[tuple[bytes, ...], Directives] = {}
_MEMO_LIMIT = 1024


def parse_cache_control(lines: Sequence[bytes]) -> Directives:
    """The directives in the Cache-Control field lines `lines` (RFC 9111 section 5.2); EMPTY when none.

    Results are memoised per distinct field value (bounded, cleared when full): the same few request and
    response values come back on every request.
    """
    if not lines:
        return EMPTY
    key = tuple(lines)
    found = _MEMO.get(key)
    if found is None:
        found = _parse(member for line in lines for member in split_list(line))
        if len(_MEMO) >= _MEMO_LIMIT:
            _MEMO.clear()
        _MEMO[key] = found
    return found


def request_directives(headers: Iterable[tuple[bytes, bytes]]) -> Directives:
    """The request's Cache-Control directives. Pragma is ignored, as RFC 9111 section 5.4 deprecates it."""
    return parse_cache_control(values(headers, b"cache-control"))


def response_directives(
    headers: Iterable[tuple[bytes, bytes]], targeted: Sequence[bytes] = DEFAULT_TARGETED
) -> Directives:
    """The response's policy for this cache: the first valid targeted field in `targeted`, else Cache-Control.

    `targeted` lists lower-case field names in order of precedence (RFC 9213 section 2.1).
    """
    headers = list(headers)
    for name in targeted:
        value = combined(headers, name)
        if value is not None:
            found = parse_targeted(value)
            if found is not None:
                return replace(found, targeted=name)
    return parse_cache_control(values(headers, b"cache-control"))


def parse_targeted(value: bytes) -> Directives | None:
    """The directives of one targeted field value, or None when the field must be ignored (RFC 9213 2.1)."""
    members = parse_dictionary(value)
    if not members:
        return None
    found: dict[str, Any] = {}
    for name, item in members.items():
        if name in _SECONDS:
            if isinstance(item, bool) or not isinstance(item, int) or item < 0:
                return None
            found[_SECONDS[name]] = min(item, MAX_DELTA)
        elif name in _TARGETED_FLAGS:
            if not isinstance(item, bool):
                return None
            found[_TARGETED_FLAGS[name]] = item
    return Directives(**found)


def _parse(members: Iterable[bytes]) -> Directives:
    found: dict[str, Any] = {}
    for member in members:
        raw_name, equals, raw_value = member.partition(b"=")
        if _TOKEN.fullmatch(raw_name) is None:
            continue
        name = raw_name.decode("ascii").lower()
        argument = _argument(raw_value) if equals else None
        if name in _SECONDS:
            attribute = _SECONDS[name]
            if attribute in found:
                continue  # first occurrence wins
            seconds = _delta_seconds(argument)
            if seconds is not None:
                found[attribute] = seconds
            elif name in _INVALID_MEANS_STALE:
                found[attribute] = 0
            elif name == "max-stale" and not equals:
                found[attribute] = MAX_DELTA
        elif name in _FLAGS:
            found[_FLAGS[name]] = True
        elif name in _FIELD_LISTS:
            flag, fields = _FIELD_LISTS[name]
            names = frozenset(n.lower() for n in split_list(argument)) if argument else frozenset()
            if names and _TOKEN.fullmatch(b"".join(names)) is not None:
                found[fields] = found.get(fields, frozenset()) | names
            else:
                found[flag] = True
    return Directives(**found) if found else EMPTY


def _argument(raw: bytes) -> bytes | None:
    """A token or the content of a quoted-string; None when it is neither."""
    if raw.startswith(b'"'):
        match = _QUOTED.fullmatch(raw)
        return None if match is None else _UNESCAPE.sub(rb"\1", match.group(1))
    return raw if _TOKEN.fullmatch(raw) is not None else None


def _delta_seconds(argument: bytes | None) -> int | None:
    if not argument or not argument.isdigit():
        return None
    return min(int(argument), MAX_DELTA)
