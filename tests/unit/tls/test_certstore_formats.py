"""Every file format and key type the store accepts, and every way a file can be unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.tls.certstore import load_store

from .certfactory import Issued, KeyFormat, KeyKind, key_bytes, make_ca, make_leaf, shared_key, truncated, write

CA = make_ca()


@pytest.mark.parametrize(
    ("kind", "fmt", "key_type"),
    [
        ("rsa2048", "pkcs1", "RSA-2048"),
        ("rsa2048", "pkcs8", "RSA-2048"),
        ("rsa2048", "pkcs8-encrypted", "RSA-2048"),
        ("rsa2048", "legacy-encrypted", "RSA-2048"),
        ("rsa4096", "pkcs8", "RSA-4096"),
        ("p256", "sec1", "ECDSA-P256"),
        ("p256", "pkcs8", "ECDSA-P256"),
        ("p256", "pkcs8-encrypted", "ECDSA-P256"),
        ("p384", "sec1", "ECDSA-P384"),
        ("ed25519", "pkcs8", "Ed25519"),
        ("ed25519", "pkcs8-encrypted", "Ed25519"),
    ],
)
def test_key_formats_and_types_in_one_combined_file(
    tmp_path: Path, kind: KeyKind, fmt: KeyFormat, key_type: str
) -> None:
    leaf = make_leaf(CA, ["a.example.test"], kind=kind)
    write(tmp_path / "site.pem", leaf.pem, key_bytes(leaf.key, fmt), mode=0o600)
    store = load_store(tmp_path, key_password=b"secret")
    assert [row.state for row in store.rows] == ["served"]
    (entry,) = store.choose("a.example.test")
    assert entry.key_type == key_type
    assert entry.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # normalised, unencrypted PKCS#8
    assert entry.chain_pem == leaf.pem
    assert store.problems == ()


def test_key_before_certificate_in_one_file(tmp_path: Path) -> None:
    leaf = make_leaf(CA)
    write(tmp_path / "site.pem", key_bytes(leaf.key, "sec1"), leaf.pem)
    assert len(load_store(tmp_path).choose("a.example.test")) == 1


def test_split_files_with_any_names_pair_by_public_key(tmp_path: Path) -> None:
    leaf = make_leaf(CA, kind="rsa2048")
    write(tmp_path / "zzz.crt", leaf.pem)
    write(tmp_path / "aaa.key", key_bytes(leaf.key, "pkcs1"))
    store = load_store(tmp_path)
    (entry,) = store.entries
    assert (entry.cert_file.name, entry.key_file.name) == ("zzz.crt", "aaa.key")
    assert store.rows[0].files == ("zzz.crt", "aaa.key")


def test_der_certificate_and_key(tmp_path: Path) -> None:
    leaf = make_leaf(CA)
    write(tmp_path / "site.cer", leaf.der)
    write(tmp_path / "site.key", key_bytes(leaf.key, "der"))
    assert len(load_store(tmp_path).choose("a.example.test")) == 1


def test_ignored_companion_blocks(tmp_path: Path) -> None:
    leaf = make_leaf(CA)
    params = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    write(
        tmp_path / "site.pem",
        b"Bag Attributes: junk text around blocks\n",
        leaf.pem,
        params,
        key_bytes(leaf.key, "sec1"),
    )
    assert [row.state for row in load_store(tmp_path).rows] == ["served"]


def _unreadable(tmp_path: Path, data: bytes, password: bytes | None = None) -> str:
    write(tmp_path / "bad.pem", data)
    store = load_store(tmp_path, key_password=password)
    (row,) = store.rows
    assert row.files == ("bad.pem",)
    assert store.problems == ((str(tmp_path / "bad.pem"), row.state),)
    assert store.entries == ()
    return row.state


def _leaf_with_key(fmt: KeyFormat = "pkcs8") -> tuple[Issued, bytes]:
    leaf = make_leaf(CA)
    return leaf, leaf.pem + key_bytes(leaf.key, fmt)


@pytest.mark.parametrize(
    ("data", "password", "why"),
    [
        (b"", None, "empty file"),
        (b"\n \n", None, "empty file"),
        (b"hello, I am not a certificate", None, "neither PEM nor"),
        (truncated(_leaf_with_key()[1]), None, "truncated PEM block"),
        (truncated(make_leaf(CA).pem), None, "truncated PEM block"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", None, "bad certificate"),
        (b"-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n", None, "bad private key"),
        (_leaf_with_key("pkcs8-encrypted")[1], None, "no key password is set"),
        (_leaf_with_key("pkcs8-encrypted")[1], b"wrong", "wrong key password"),
        (_leaf_with_key("legacy-encrypted")[1], b"wrong", "wrong key password"),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", None, "unsupported PEM block"),
    ],
    ids=["empty", "blank", "garbage", "truncated-key", "truncated-cert", "bad-cert", "bad-key", "no-password",
         "wrong-password", "wrong-legacy-password", "ssh-key"],
)  # fmt: skip
def test_unreadable_files(tmp_path: Path, data: bytes, password: bytes | None, why: str) -> None:
    state = _unreadable(tmp_path, data, password)
    assert state.startswith("unreadable: ")
    assert why in state


def test_one_bad_block_makes_the_whole_file_unreadable(tmp_path: Path) -> None:
    """Half a fullchain must not be served: the key's row reports the missing certificate instead."""
    leaf = make_leaf(CA)
    inter = make_ca("Inter", issuer=CA)
    write(tmp_path / "fullchain.pem", leaf.pem, truncated(inter.pem))
    write(tmp_path / "privkey.pem", key_bytes(leaf.key))
    store = load_store(tmp_path)
    assert store.entries == ()
    states = {row.files: row.state for row in store.rows}
    assert states[("fullchain.pem",)].startswith("unreadable: truncated")
    assert states[("privkey.pem",)] == "key-mismatch"


def test_password_is_not_needed_for_plain_keys(tmp_path: Path) -> None:
    leaf = make_leaf(CA)
    write(tmp_path / "site.pem", leaf.pem, key_bytes(leaf.key))
    assert len(load_store(tmp_path, key_password=b"set-but-unused").entries) == 1


@pytest.mark.parametrize(("kind", "key_type"), [("rsa1024", "RSA-1024"), ("p521", "ECDSA-secp521r1")])
def test_unsupported_key_types_are_not_served(tmp_path: Path, kind: KeyKind, key_type: str) -> None:
    leaf = make_leaf(CA, key=shared_key(kind))
    write(tmp_path / "site.pem", leaf.pem, key_bytes(leaf.key))
    store = load_store(tmp_path)
    (row,) = store.rows
    assert row.key_type == key_type
    assert row.state.startswith(f"unreadable: unsupported key {key_type}")
    assert store.entries == () and len(store.problems) == 1


def test_unreadable_file_does_not_displace_good_ones(tmp_path: Path) -> None:
    leaf = make_leaf(CA)
    write(tmp_path / "good.pem", leaf.pem, key_bytes(leaf.key))
    write(tmp_path / "bad.pem", b"garbage")
    store = load_store(tmp_path)
    assert len(store.choose("a.example.test")) == 1
    assert [p[0] for p in store.problems] == [str(tmp_path / "bad.pem")]


def test_dangling_symlink_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "gone.pem").symlink_to(tmp_path / "nowhere.pem")
    (row,) = load_store(tmp_path).rows
    assert row.state.startswith("unreadable: cannot read")


def test_missing_folder_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    store = load_store(tmp_path / "missing")
    assert store.entries == ()
    assert len(store.problems) == 1
    assert store.choose("a.example.test") == ()
