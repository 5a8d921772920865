"""A broken file never takes a working certificate out of service (CONTRACT section 3)."""

from __future__ import annotations

from pathlib import Path

from edge.tls.certstore import keep_last_good, load_store

from .certfactory import key_bytes, make_ca, make_leaf, new_key, truncated, write

CA = make_ca()


def test_half_written_replacement_keeps_the_last_good_certificate(tmp_path: Path) -> None:
    good = make_leaf(CA, ["a.test"])
    write(tmp_path / "a.pem", good.pem, key_bytes(good.key))
    before = load_store(tmp_path)
    newer = make_leaf(CA, ["a.test"])
    write(tmp_path / "a.pem", truncated(newer.pem + key_bytes(newer.key)))
    broken = load_store(tmp_path)
    assert broken.choose("a.test") == ()
    kept = keep_last_good(before, broken)
    (entry,) = kept.choose("a.test")
    assert entry.id == before.entries[0].id
    assert any(row.state.startswith("unreadable") for row in kept.rows)
    assert any("last good version" in row.note for row in kept.rows)
    assert kept.problems == broken.problems


def test_certificate_replaced_without_its_key_keeps_the_old_pair(tmp_path: Path) -> None:
    good = make_leaf(CA, ["b.test"])
    write(tmp_path / "b.crt", good.pem)
    write(tmp_path / "b.key", key_bytes(good.key))
    before = load_store(tmp_path)
    other = make_leaf(CA, ["b.test"], key=new_key("p256"))
    write(tmp_path / "b.crt", other.pem)  # the key on disk no longer matches
    kept = keep_last_good(before, load_store(tmp_path))
    (entry,) = kept.choose("b.test")
    assert entry.id == before.entries[0].id


def test_deleted_file_is_not_kept_and_fixed_file_replaces_the_old(tmp_path: Path) -> None:
    good = make_leaf(CA, ["c.test"])
    path = write(tmp_path / "c.pem", good.pem, key_bytes(good.key))
    before = load_store(tmp_path)
    path.unlink()
    assert keep_last_good(before, load_store(tmp_path)).choose("c.test") == ()
    newer = make_leaf(CA, ["c.test"])
    write(tmp_path / "c.pem", newer.pem, key_bytes(newer.key))
    (entry,) = keep_last_good(before, load_store(tmp_path)).choose("c.test")
    assert entry.id != before.entries[0].id
