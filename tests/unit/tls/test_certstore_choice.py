"""The choice rules (CONTRACT section 3), the states they imply, and the store's identity."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from edge.tls.certstore import CertStore, format_table, load_store

from .certfactory import DAY, NOW, Issued, KeyKind, key_bytes, make_ca, make_leaf, new_key, write

CA = make_ca()


def _add(folder: Path, file: str, names: Sequence[str], *, kind: KeyKind = "p256", **kwargs: object) -> Issued:
    leaf = make_leaf(CA, names, key=new_key(kind), **kwargs)  # type: ignore[arg-type]
    write(folder / file, leaf.pem, key_bytes(leaf.key))
    return leaf


def _files(store: CertStore, name: str | None) -> list[str]:
    return [entry.cert_file.name for entry in store.choose(name)]


def _states(store: CertStore) -> dict[str, str]:
    return {row.files[0]: row.state for row in store.rows}


def test_exact_before_wildcard(tmp_path: Path) -> None:
    _add(tmp_path, "exact.pem", ["a.example.test"], not_after=NOW + 10 * DAY)
    _add(tmp_path, "wild.pem", ["*.example.test"], not_after=NOW + 90 * DAY)
    store = load_store(tmp_path)
    assert _files(store, "a.example.test") == ["exact.pem"]
    assert _files(store, "b.example.test") == ["wild.pem"]
    assert _states(store) == {"exact.pem": "served", "wild.pem": "served"}


@pytest.mark.parametrize(
    ("name", "covered"),
    [("a.example.test", True), ("A.Example.TEST.", True), ("a.b.example.test", False), ("example.test", False),
     ("example", False), ("a.other.test", False)],
)  # fmt: skip
def test_wildcard_covers_exactly_one_label(tmp_path: Path, name: str, covered: bool) -> None:
    _add(tmp_path, "wild.pem", ["*.example.test"])
    assert bool(load_store(tmp_path).choose(name)) is covered


@pytest.mark.parametrize("name", [None, "", "unknown.test"])
def test_nothing_covers(tmp_path: Path, name: str | None) -> None:
    _add(tmp_path, "a.pem", ["a.example.test"])
    assert load_store(tmp_path).choose(name) == ()


def test_valid_beats_expired_and_not_yet_valid(tmp_path: Path) -> None:
    _add(tmp_path, "expired.pem", ["a.example.test"], not_before=NOW - 90 * DAY, not_after=NOW - DAY)
    _add(tmp_path, "future.pem", ["a.example.test"], not_before=NOW + DAY, not_after=NOW + 400 * DAY)
    _add(tmp_path, "valid.pem", ["a.example.test"], not_after=NOW + 2 * DAY)
    store = load_store(tmp_path)
    assert _files(store, "a.example.test") == ["valid.pem"]
    assert _states(store) == {"expired.pem": "expired", "future.pem": "not-yet-valid", "valid.pem": "served"}
    notes = {row.files[0]: row.note for row in store.rows}
    assert notes["expired.pem"].startswith("not served")
    assert store.problems == ()


def test_valid_wildcard_beats_expired_exact(tmp_path: Path) -> None:
    """Validity outranks exactness: an expired certificate is served only when nothing valid covers the name."""
    _add(tmp_path, "exact.pem", ["a.example.test"], not_before=NOW - 90 * DAY, not_after=NOW - DAY)
    _add(tmp_path, "wild.pem", ["*.example.test"])
    assert _files(load_store(tmp_path), "a.example.test") == ["wild.pem"]


def test_expired_only_certificate_is_still_served(tmp_path: Path) -> None:
    _add(tmp_path, "old.pem", ["a.example.test"], not_before=NOW - 90 * DAY, not_after=NOW - DAY)
    store = load_store(tmp_path)
    assert _files(store, "a.example.test") == ["old.pem"]
    (row,) = store.rows
    assert (row.state, row.note) == ("expired", "served: nothing valid covers its names")


def test_latest_not_after_wins_and_the_other_is_shadowed(tmp_path: Path) -> None:
    _add(tmp_path, "older.pem", ["a.example.test", "b.example.test"], not_after=NOW + 10 * DAY)
    _add(tmp_path, "newer.pem", ["a.example.test", "b.example.test"], not_after=NOW + 80 * DAY)
    store = load_store(tmp_path)
    assert _files(store, "a.example.test") == ["newer.pem"]
    assert _states(store) == {"older.pem": "shadowed", "newer.pem": "served"}
    assert {row.files[0]: row.note for row in store.rows}["older.pem"] == "a.example.test is served by newer.pem"


def test_entry_served_for_one_of_its_names_is_served(tmp_path: Path) -> None:
    _add(tmp_path, "multi.pem", ["a.example.test", "b.example.test"], not_after=NOW + 10 * DAY)
    _add(tmp_path, "a.pem", ["a.example.test"], not_after=NOW + 80 * DAY)
    assert _states(load_store(tmp_path)) == {"multi.pem": "served", "a.pem": "served"}


def test_rsa_and_ecdsa_are_served_together(tmp_path: Path) -> None:
    _add(tmp_path, "ec.pem", ["a.example.test"], kind="p256")
    _add(tmp_path, "rsa.pem", ["a.example.test"], kind="rsa2048")
    _add(tmp_path, "ed.pem", ["a.example.test"], kind="ed25519")
    _add(tmp_path, "ec-older.pem", ["a.example.test"], kind="p384", not_after=NOW + DAY)
    store = load_store(tmp_path)
    assert [e.key_type for e in store.choose("a.example.test")] == ["ECDSA-P256", "RSA-2048", "Ed25519"]
    assert _states(store)["ec-older.pem"] == "shadowed"


def test_families_are_only_mixed_within_the_best_class(tmp_path: Path) -> None:
    _add(tmp_path, "ec.pem", ["a.example.test"], kind="p256")
    _add(tmp_path, "rsa-wild.pem", ["*.example.test"], kind="rsa2048")
    _add(tmp_path, "rsa-expired.pem", ["a.example.test"], kind="rsa2048", not_after=NOW - DAY)
    store = load_store(tmp_path)
    assert _files(store, "a.example.test") == ["ec.pem"]
    assert _files(store, "b.example.test") == ["rsa-wild.pem"]


def test_cn_is_used_only_without_a_san_extension(tmp_path: Path) -> None:
    _add(tmp_path, "cn-only.pem", ["legacy.example.test"], san=False)
    _add(tmp_path, "san.pem", ["new.example.test"], cn="ignored.example.test")
    store = load_store(tmp_path)
    assert _files(store, "legacy.example.test") == ["cn-only.pem"]
    assert store.choose("ignored.example.test") == ()
    assert store.names() == frozenset({"legacy.example.test", "new.example.test"})


def test_names_are_lower_cased_and_listed(tmp_path: Path) -> None:
    _add(tmp_path, "a.pem", ["A.Example.Test", "*.Example.Test", "127.0.0.1"])
    store = load_store(tmp_path)
    assert store.entries[0].names == ("a.example.test", "*.example.test", "127.0.0.1")
    assert store.names() == frozenset({"a.example.test", "*.example.test", "127.0.0.1"})
    assert len(store.choose("127.0.0.1")) == 1


def test_certificate_without_usable_names_is_shadowed(tmp_path: Path) -> None:
    _add(tmp_path, "odd.pem", ["My Server"], san=False)
    (row,) = load_store(tmp_path).rows
    assert (row.state, row.note) == ("shadowed", "no DNS names to serve")


def test_now_decides_validity(tmp_path: Path) -> None:
    _add(tmp_path, "a.pem", ["a.example.test"], not_before=NOW - DAY, not_after=NOW + DAY)
    assert _states(load_store(tmp_path, now=NOW + 2 * DAY)) == {"a.pem": "expired"}
    assert _states(load_store(tmp_path, now=NOW - 2 * DAY)) == {"a.pem": "not-yet-valid"}


def test_next_change_is_the_next_validity_edge(tmp_path: Path) -> None:
    _add(tmp_path, "a.pem", ["a.example.test"], not_before=NOW - DAY, not_after=NOW + 5 * DAY)
    _add(tmp_path, "b.pem", ["b.example.test"], not_before=NOW + 2 * DAY, not_after=NOW + 9 * DAY)
    assert load_store(tmp_path, now=NOW).next_change == NOW + 2 * DAY
    assert load_store(tmp_path, now=NOW + 10 * DAY).next_change is None


def test_fingerprint_is_content_identity(tmp_path: Path) -> None:
    _add(tmp_path, "a.pem", ["a.example.test"])
    first, again = load_store(tmp_path, now=NOW), load_store(tmp_path, now=NOW)
    assert first.fingerprint == again.fingerprint
    assert first == again
    (tmp_path / "a.pem").rename(tmp_path / "renamed.pem")
    assert load_store(tmp_path).fingerprint == first.fingerprint
    _add(tmp_path, "b.pem", ["b.example.test"])
    assert load_store(tmp_path).fingerprint != first.fingerprint


def test_store_is_immutable(tmp_path: Path) -> None:
    _add(tmp_path, "a.pem", ["a.example.test"])
    store = load_store(tmp_path)
    with pytest.raises(AttributeError):
        store.entries = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        store.exact["x"] = ()  # type: ignore[index]


def test_inventory_row_as_dict_is_json_ready(tmp_path: Path) -> None:
    leaf = _add(tmp_path, "a.pem", ["a.example.test"])
    (row,) = load_store(tmp_path).rows
    data = json.loads(json.dumps(row.as_dict()))
    assert data == {
        "files": ["a.pem"],
        "names": ["a.example.test"],
        "key_type": "ECDSA-P256",
        "issuer": "Test Root CA",
        "not_after": leaf.cert.not_valid_after_utc.isoformat(),
        "state": "served",
        "note": "",
    }
    assert datetime.fromisoformat(data["not_after"]).tzinfo is not None


def test_format_table(tmp_path: Path) -> None:
    _add(tmp_path, "a.pem", ["a.example.test", "b.example.test", "c.example.test", "d.example.test", "e.example.test"])
    write(tmp_path / "bad.pem", b"garbage")
    lines = format_table(load_store(tmp_path)).splitlines()
    assert lines[0].split() == ["FILE(S)", "NAMES", "KEY", "ISSUER", "NOT-AFTER", "STATE", "NOTE"]
    assert "a.example.test,b.example.test,c.example.test,d.example.test (+1)" in lines[1]
    assert lines[1].index("ECDSA-P256") == lines[0].index("KEY")
    assert lines[2].index("unreadable: neither PEM") == lines[0].index("STATE")
    assert all(line == line.rstrip() for line in lines)


def test_naive_now_is_taken_as_utc(tmp_path: Path) -> None:
    _add(tmp_path, "a.pem", ["a.example.test"], not_before=NOW - DAY, not_after=NOW + DAY)
    assert _states(load_store(tmp_path, now=(NOW + 2 * DAY).replace(tzinfo=None))) == {"a.pem": "expired"}


def test_entry_repr_never_shows_key_material(tmp_path: Path) -> None:
    _add(tmp_path, "a.pem", ["a.example.test"])
    (entry,) = load_store(tmp_path).entries
    assert "PRIVATE" not in repr(entry) and "a.example.test" in repr(entry)
