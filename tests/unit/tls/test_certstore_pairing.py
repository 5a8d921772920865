"""Pairing keys to leaves by public key within a folder, chains, layouts, and key-mismatch rows."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from edge.tls.certstore import load_store

from .certfactory import key_bytes, make_ca, make_leaf, new_key, write, write_certbot

ROOT = make_ca("Root")
INTER = make_ca("Inter", issuer=ROOT)
INTER2 = make_ca("Inter 2", issuer=INTER)


def _chain_subjects(chain_pem: bytes) -> list[str]:
    return [c.subject.rfc4514_string() for c in x509.load_pem_x509_certificates(chain_pem)]


def test_certbot_layout_with_symlinks(tmp_path: Path) -> None:
    live = tmp_path / "letsencrypt" / "live"
    leaf = make_leaf(INTER, ["example.test", "www.example.test"])
    write_certbot(tmp_path / "letsencrypt", live, "example.test", leaf, [INTER])
    write(live / "README", b"certbot readme, not a certificate")
    store = load_store(live)
    (entry,) = store.entries
    assert entry.cert_file == live / "example.test" / "fullchain.pem"
    assert entry.key_file == live / "example.test" / "privkey.pem"
    assert _chain_subjects(entry.chain_pem) == [leaf.cert.subject.rfc4514_string(), INTER.cert.subject.rfc4514_string()]
    (row,) = store.rows
    assert row.state == "served"
    assert row.files == ("example.test/fullchain.pem", "example.test/privkey.pem")
    assert store.problems == ()


def test_certbot_renewal_swaps_symlinks(tmp_path: Path) -> None:
    live = tmp_path / "le" / "live"
    old = make_leaf(INTER, ["example.test"], key=new_key("p256"))
    write_certbot(tmp_path / "le", live, "example.test", old, [INTER], generation=1)
    new = make_leaf(INTER, ["example.test"], key=new_key("p256"))
    write_certbot(tmp_path / "le", live, "example.test", new, [INTER], generation=2)
    (entry,) = load_store(live).entries
    assert entry.serial == new.cert.serial_number


def test_symlinked_subfolder_is_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    leaf = make_leaf(ROOT)
    write(elsewhere / "site.pem", leaf.pem, key_bytes(leaf.key))
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "linked").symlink_to(elsewhere, target_is_directory=True)
    store = load_store(certs)
    assert [row.files for row in store.rows] == [("linked/site.pem",)]
    assert len(store.choose("a.example.test")) == 1


def test_only_direct_subfolders_are_scanned(tmp_path: Path) -> None:
    leaf = make_leaf(ROOT)
    write(tmp_path / "a" / "b" / "site.pem", leaf.pem, key_bytes(leaf.key))
    assert load_store(tmp_path).rows == ()


def test_hidden_files_folders_and_other_suffixes_are_skipped(tmp_path: Path) -> None:
    leaf = make_leaf(ROOT)
    write(tmp_path / ".site.pem.tmp", b"partial")
    write(tmp_path / ".hidden.pem", b"garbage")
    write(tmp_path / "..data" / "tls.pem", b"garbage")
    write(tmp_path / "notes.txt", b"garbage")
    write(tmp_path / "site.PEM", leaf.pem, key_bytes(leaf.key))
    assert [row.files for row in load_store(tmp_path).rows] == [("site.PEM",)]


def test_dev_ca_folder_is_skipped(tmp_path: Path) -> None:
    ca_leaf = make_leaf(ROOT, ["dev-ca.example.test"])
    write(tmp_path / "dev-ca" / "ca.pem", ROOT.pem, ca_leaf.pem)
    write(tmp_path / "dev-ca" / "ca.key", key_bytes(ROOT.key), key_bytes(ca_leaf.key))
    assert load_store(tmp_path).rows == ()


def test_pairing_is_per_folder(tmp_path: Path) -> None:
    leaf = make_leaf(ROOT)
    write(tmp_path / "a" / "cert.pem", leaf.pem)
    write(tmp_path / "b" / "key.pem", key_bytes(leaf.key))
    store = load_store(tmp_path)
    assert store.entries == ()
    notes = {row.files: (row.state, row.note) for row in store.rows}
    assert notes == {
        ("a/cert.pem",): ("key-mismatch", "certificate has no private key in its folder"),
        ("b/key.pem",): ("key-mismatch", "private key matches no certificate in its folder"),
    }
    assert sorted(message for _, message in store.problems) == [
        "key-mismatch: certificate has no private key in its folder",
        "key-mismatch: private key matches no certificate in its folder",
    ]


def test_key_for_a_ca_certificate_is_never_served(tmp_path: Path) -> None:
    write(tmp_path / "ca.pem", ROOT.pem, key_bytes(ROOT.key))
    store = load_store(tmp_path)
    (row,) = store.rows
    assert store.entries == ()
    assert row.state == "key-mismatch"
    assert "CA certificate" in row.note


def test_many_leaves_and_keys_in_one_folder(tmp_path: Path) -> None:
    a = make_leaf(ROOT, ["a.example.test"], key=new_key("p256"))
    b = make_leaf(ROOT, ["b.example.test"], key=new_key("rsa2048"))
    write(tmp_path / "certs.pem", b.pem, a.pem, ROOT.pem)
    write(tmp_path / "keys.pem", key_bytes(a.key), key_bytes(b.key, "pkcs1"))
    store = load_store(tmp_path)
    assert {e.names for e in store.entries} == {("a.example.test",), ("b.example.test",)}
    assert all(row.state == "served" for row in store.rows)


def test_chain_is_built_leaf_first_and_excludes_the_root(tmp_path: Path) -> None:
    leaf = make_leaf(INTER2)
    write(tmp_path / "site.pem", leaf.pem, INTER2.pem, INTER.pem, ROOT.pem, key_bytes(leaf.key))
    (entry,) = load_store(tmp_path).entries
    assert _chain_subjects(entry.chain_pem) == [
        leaf.cert.subject.rfc4514_string(),
        INTER2.cert.subject.rfc4514_string(),
        INTER.cert.subject.rfc4514_string(),
    ]


def test_misordered_chain_is_reordered_with_a_note(tmp_path: Path) -> None:
    leaf = make_leaf(INTER2)
    write(tmp_path / "site.pem", INTER.pem, INTER2.pem, leaf.pem, key_bytes(leaf.key))
    store = load_store(tmp_path)
    (entry,) = store.entries
    assert _chain_subjects(entry.chain_pem)[0] == leaf.cert.subject.rfc4514_string()
    assert len(_chain_subjects(entry.chain_pem)) == 3
    (row,) = store.rows
    assert row.state == "served"
    assert row.note == "chain in site.pem reordered leaf first"
    assert store.problems == ()


def test_intermediates_from_other_files_in_the_folder(tmp_path: Path) -> None:
    leaf = make_leaf(INTER)
    write(tmp_path / "cert.pem", leaf.pem)
    write(tmp_path / "chain.pem", INTER.pem)
    write(tmp_path / "key.pem", key_bytes(leaf.key))
    store = load_store(tmp_path)
    (entry,) = store.entries
    assert len(_chain_subjects(entry.chain_pem)) == 2
    assert store.rows[0].files == ("cert.pem", "key.pem", "chain.pem")


def test_intermediate_in_the_leaf_file_wins_over_another_with_the_same_subject(tmp_path: Path) -> None:
    other_inter = make_ca("Inter", issuer=ROOT)  # same subject as INTER, different key: did not sign the leaf
    leaf = make_leaf(INTER)
    write(tmp_path / "a-other.pem", other_inter.pem)
    write(tmp_path / "site.pem", leaf.pem, INTER.pem, key_bytes(leaf.key))
    (entry,) = load_store(tmp_path).entries
    assert x509.load_pem_x509_certificates(entry.chain_pem)[1] == INTER.cert


def test_issuer_that_verifies_wins_among_same_subject_candidates(tmp_path: Path) -> None:
    other_inter = make_ca("Inter", issuer=ROOT)
    leaf = make_leaf(INTER)
    write(tmp_path / "leaf.pem", leaf.pem, key_bytes(leaf.key))
    write(tmp_path / "x1.pem", INTER.pem)
    write(tmp_path / "x2.pem", other_inter.pem)
    (entry,) = load_store(tmp_path).entries
    assert x509.load_pem_x509_certificates(entry.chain_pem)[1] == INTER.cert


def test_same_leaf_in_two_files_is_one_entry_from_the_fuller_file(tmp_path: Path) -> None:
    leaf = make_leaf(INTER)
    write(tmp_path / "cert.pem", leaf.pem)
    write(tmp_path / "fullchain.pem", leaf.pem, INTER.pem)
    write(tmp_path / "privkey.pem", key_bytes(leaf.key))
    store = load_store(tmp_path)
    (entry,) = store.entries
    assert entry.cert_file.name == "fullchain.pem"
    assert len(store.rows) == 1


def test_same_leaf_in_two_folders_is_served_once(tmp_path: Path) -> None:
    leaf = make_leaf(ROOT)
    write(tmp_path / "a" / "site.pem", leaf.pem, key_bytes(leaf.key))
    write(tmp_path / "b" / "site.pem", leaf.pem, key_bytes(leaf.key))
    store = load_store(tmp_path)
    assert len(store.entries) == 1
    states = {row.files: (row.state, row.note) for row in store.rows}
    assert states == {("a/site.pem",): ("served", ""), ("b/site.pem",): ("shadowed", "duplicate of a/site.pem")}


def test_self_signed_certificate_marked_ca_is_served_like_nginx_does(tmp_path: Path) -> None:
    """`openssl req -x509 -subj /CN=plain.test` (OpenSSL 3) makes a self-signed certificate with CA:TRUE."""
    plain = make_ca("plain.test")
    write(tmp_path / "site.crt", plain.pem)
    write(tmp_path / "site.key", key_bytes(plain.key))
    store = load_store(tmp_path)
    (entry,) = store.entries
    assert entry.names == ("plain.test",)
    assert _chain_subjects(entry.chain_pem) == [plain.cert.subject.rfc4514_string()]
    (row,) = store.rows
    assert (row.state, row.files) == ("served", ("site.crt", "site.key"))
    assert store.problems == ()


def test_a_ca_that_signed_a_certificate_here_stays_chain_material_even_with_its_key(tmp_path: Path) -> None:
    ca = make_ca("ca.example.test")
    leaf = make_leaf(ca, ["www.example.test"])
    write(tmp_path / "ca.pem", ca.pem, key_bytes(ca.key))
    write(tmp_path / "www.pem", leaf.pem, key_bytes(leaf.key))
    store = load_store(tmp_path)
    assert [entry.names for entry in store.entries] == [("www.example.test",)]
    assert any(row.state == "key-mismatch" and "CA certificate" in row.note for row in store.rows)
