"""Which certificates answer for a server name: the precomputed index behind `CertStore.choose`.

The rules, in order of weight:

1. a currently valid certificate before an expired or not-yet-valid one (CONTRACT section 3: expired
   certificates are served only "when nothing valid covers the name", so validity outranks exactness);
2. an exact name before a wildcard (`*.example.com` covers exactly one label);
3. the latest not-after.

Rules 1 and 2 pick one class of candidates; within that class the best entry of each key family
(ECDSA, RSA, Ed25519) is served, so that the client's signature algorithms choose among them.
Everything is computed once per snapshot; a lookup is two dict probes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from edge.tls.entries import FAMILIES, CertEntry

Choice = tuple[CertEntry, ...]


def build_index(entries: Sequence[CertEntry], now: datetime) -> tuple[dict[str, Choice], dict[str, Choice]]:
    """Return (exact, wildcard): exact maps a host name to its choice, wildcard maps `example.com` to the
    choice for any one-label name under it that is not itself in exact."""
    exact_names: dict[str, list[CertEntry]] = defaultdict(list)
    wildcard_parents: dict[str, list[CertEntry]] = defaultdict(list)
    for entry in entries:
        for name in entry.names:
            if name.startswith("*."):
                wildcard_parents[name[2:]].append(entry)
            else:
                exact_names[name].append(entry)
    valid = {entry.id: entry.is_valid(now) for entry in entries}
    exact = {
        name: _pick([(e, True) for e in named] + [(e, False) for e in wildcard_parents.get(parent_of(name), ())], valid)
        for name, named in exact_names.items()
    }
    wildcard = {parent: _pick([(e, False) for e in covering], valid) for parent, covering in wildcard_parents.items()}
    return exact, wildcard


def lookup(exact: Mapping[str, Choice], wildcard: Mapping[str, Choice], server_name: str | None) -> Choice:
    """O(1): the exact entry for the name, else the wildcard one level up, else ()."""
    if not server_name:
        return ()
    name = server_name.lower().removesuffix(".")
    found = exact.get(name)
    if found is not None:
        return found
    return wildcard.get(parent_of(name), ())


def parent_of(name: str) -> str:
    """`a.example.com` -> `example.com`; a single label has no parent ("")."""
    return name.partition(".")[2]


def _pick(candidates: list[tuple[CertEntry, bool]], valid: Mapping[str, bool]) -> Choice:
    if len(candidates) == 1:  # most names of a big folder: one certificate, nothing to rank
        return (candidates[0][0],)
    best_class = max((valid[entry.id], is_exact) for entry, is_exact in candidates)
    best: dict[str, CertEntry] = {}
    for entry, is_exact in candidates:
        if (valid[entry.id], is_exact) != best_class:
            continue
        current = best.get(entry.key_family)
        if current is None or (entry.not_after, entry.id) > (current.not_after, current.id):
            best[entry.key_family] = entry
    return tuple(best[family] for family in FAMILIES if family in best)
