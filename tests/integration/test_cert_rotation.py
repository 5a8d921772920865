"""Certificate rotation on a live gateway (CONTRACT section 3): files dropped into, replaced in and removed
from the certificate folder take effect for new handshakes within 2 seconds, without a restart and without
dropping open connections; broken files are reported and never displace a good certificate.

Every test runs its own `edge run` process and changes files under its `certs/` folder while it serves.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.unit.tls.certfactory import Issued, key_bytes, make_ca, make_leaf, new_key, truncated

from .certs_helper import (
    DAY,
    NOW,
    CertCa,
    assert_within_deadline,
    atomic_write,
    cert_rows,
    client_context,
    combined,
    edge_certs_table,
    get,
    https,
    inplace_write,
    rows_for,
    served,
    start_with_files,
    table_line,
    wait_served,
    wait_until,
)
from .harness import DemoOrigin, Gateway, GatewayFactory, Pki, send


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertCa:
    return CertCa.create(tmp_path_factory.mktemp("rotation-ca"))


def sites(origin: DemoOrigin) -> list[dict[str, Any]]:
    return sites_with(origin)


def sites_with(origin: DemoOrigin, *hosts: str) -> list[dict[str, Any]]:
    return [{"hosts": ["localhost", "*.rot.test", *hosts], "origins": [origin.url]}]


def default_der(pki: Pki) -> bytes:
    return pki.der(("localhost",))


# --- adding, replacing, removing ---------------------------------------------------------------------------------


def test_new_name_is_served_within_two_seconds(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa, pki: Pki
) -> None:
    base = ca.leaf(["base.rot.test"])
    gw = start_with_files(gateway_factory, sites(origin_a), {"base.pem": combined(base)})
    assert served(gw, "new.rot.test") == default_der(pki)  # nothing covers it yet: the default certificate
    new = ca.leaf(["new.rot.test"])
    started = time.monotonic()
    atomic_write(gw.certs_dir / "new.pem", combined(new))
    assert_within_deadline(wait_served(gw, "new.rot.test", new.der, since=started))
    # A real client now verifies it, name included, and gets through to the origin.
    context = client_context(ca.path, check_hostname=True)
    assert get(gw, "new.rot.test", context).status == 200
    assert served(gw, "base.rot.test") == base.der  # the others are untouched
    assert "certificates reloaded: 3 served, 0 problem(s)" in gw.stderr_text()


@pytest.mark.parametrize("how", ["atomic", "in-place"])
def test_replaced_certificate_is_served_and_open_connections_keep_working(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa, how: str
) -> None:
    old = ca.leaf(["swap.rot.test"])
    gw = start_with_files(gateway_factory, sites(origin_a), {"swap.pem": combined(old)})
    context = client_context(ca.path, check_hostname=True)
    with https(gw, "swap.rot.test", context) as kept:
        assert send(kept, "GET", "/echo", host="swap.rot.test").status == 200
        sock = kept.sock
        assert sock is not None and sock.getpeercert(binary_form=True) == old.der
        new = ca.leaf(["swap.rot.test"])  # same name and key, new serial
        assert new.cert.serial_number != old.cert.serial_number
        started = time.monotonic()
        if how == "atomic":
            atomic_write(gw.certs_dir / "swap.pem", combined(new))
        else:
            inplace_write(gw.certs_dir / "swap.pem", combined(new))
        assert_within_deadline(wait_served(gw, "swap.rot.test", new.der, since=started))
        # The connection opened before the swap is still the same TLS session, and still serves requests.
        for _ in range(3):
            response = send(kept, "GET", "/echo", host="swap.rot.test")
            assert response.status == 200, response.text()
            assert response.json()["origin"] == origin_a.name
        assert kept.sock is sock, "the keep-alive connection was dropped and reopened"
        assert sock.getpeercert(binary_form=True) == old.der
    assert get(gw, "swap.rot.test", context).status == 200


def test_removed_file_is_no_longer_served(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa, pki: Pki
) -> None:
    gone = ca.leaf(["gone.rot.test"])
    stays = ca.leaf(["stays.rot.test"])
    gw = start_with_files(
        gateway_factory, sites(origin_a), {"gone.pem": combined(gone), "sub/stays.pem": combined(stays)}
    )
    assert served(gw, "gone.rot.test") == gone.der
    started = time.monotonic()
    (gw.certs_dir / "gone.pem").unlink()
    assert_within_deadline(wait_served(gw, "gone.rot.test", default_der(pki), since=started))
    assert served(gw, "stays.rot.test") == stays.der
    assert not rows_for(gw, "gone.pem")  # a deleted file is not "kept last good" either
    # Removing a whole subfolder works the same way.
    started = time.monotonic()
    shutil.rmtree(gw.certs_dir / "sub")
    assert_within_deadline(wait_served(gw, "stays.rot.test", default_der(pki), since=started))


def test_removed_certificate_leaves_no_expiry_metric(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa, pki: Pki
) -> None:
    gone = ca.leaf(["metric-gone.rot.test"])
    gw = start_with_files(gateway_factory, sites(origin_a), {"gone.pem": combined(gone)})
    assert 'edge_cert_not_after_seconds{name="metric-gone.rot.test"}' in gw.admin("/metrics").body.decode()
    started = time.monotonic()
    (gw.certs_dir / "gone.pem").unlink()
    wait_served(gw, "metric-gone.rot.test", default_der(pki), since=started)
    wait_until(lambda: "reloaded" in gw.stderr_text(), what="the reload log line")
    assert 'name="metric-gone.rot.test"' not in gw.admin("/metrics").body.decode()


# --- broken files ----------------------------------------------------------------------------------------------


def test_broken_files_are_reported_and_never_displace_good_certificates(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa, pki: Pki
) -> None:
    good = ca.leaf(["good.rot.test"])
    gw = start_with_files(gateway_factory, sites(origin_a), {"good.pem": combined(good)})
    half = ca.leaf(["trunc.rot.test"], fresh_key=True)
    orphan_key = ca.leaf(["orphan.rot.test"], fresh_key=True).key
    no_key = ca.leaf(["nokey.rot.test"], fresh_key=True)
    # A newer certificate for the good name, without its key: must not take the name over.
    usurper = ca.leaf(["good.rot.test"], fresh_key=True, not_after=NOW + 300 * DAY)
    atomic_write(gw.certs_dir / "trunc.pem", truncated(combined(half)))
    atomic_write(gw.certs_dir / "orphan.key", key_bytes(orphan_key))
    atomic_write(gw.certs_dir / "nokey.crt", no_key.pem)
    atomic_write(gw.certs_dir / "usurper.crt", usurper.pem)
    atomic_write(gw.certs_dir / "garbage" / "noise.pem", bytes(range(256)) * 4)
    atomic_write(gw.certs_dir / "garbage" / "hello.crt", b"hello, this is not a certificate\n")
    atomic_write(
        gw.certs_dir / "garbage" / "bad.key", b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
    )
    expected = {
        "trunc.pem": "unreadable: truncated PEM block",
        "orphan.key": "key-mismatch",
        "nokey.crt": "key-mismatch",
        "usurper.crt": "key-mismatch",
        "garbage/noise.pem": "unreadable: ",
        "garbage/hello.crt": "unreadable: ",
        "garbage/bad.key": "unreadable: bad private key",
    }

    def all_reported() -> list[dict[str, Any]] | None:
        rows = cert_rows(gw)
        states = {file: row["state"] for row in rows for file in row["files"][:1]}
        return rows if all(states.get(f, "").startswith(s) for f, s in expected.items()) else None

    rows = wait_until(all_reported, what="admin /certs lists every broken file")
    by_file = {row["files"][0]: row for row in rows}
    assert by_file["nokey.crt"]["names"] == ["nokey.rot.test"]
    assert "no private key" in by_file["nokey.crt"]["note"]
    assert "matches no certificate" in by_file["orphan.key"]["note"]
    assert by_file["good.pem"]["state"] == "served"

    # Nothing broken is served; the good certificate keeps its name.
    assert served(gw, "good.rot.test") == good.der
    for name in ("trunc.rot.test", "nokey.rot.test", "orphan.rot.test"):
        assert served(gw, name) == default_der(pki)
    assert get(gw, "good.rot.test", client_context(ca.path, check_hostname=True)).status == 200

    # `edge certs` shows the same states.
    table = edge_certs_table(gw)
    for file, state in expected.items():
        assert state in table_line(table, file), table
    assert " served" in table_line(table, "good.pem")

    # /status: the last certificate reload failed, with one error per broken file.
    certs_status = gw.admin("/status").json()["reloads"]["certs"]
    assert certs_status["ok"] is False
    for file, state in expected.items():
        assert any(error.startswith(f"{gw.certs_dir / file}: {state}") for error in certs_status["errors"]), (
            certs_status
        )
    assert certs_status["served"] == 2  # localhost + good

    # The log names each one.
    log = gw.stderr_text()
    for file, state in expected.items():
        assert f"certificate problem: {gw.certs_dir / file}: {state}" in log, log[-4000:]
    metrics = gw.admin("/metrics").body.decode()
    assert re.search(r'^edge_reload_errors_total\{kind="certs"\} [1-9]', metrics, re.M), metrics

    # Fixing everything clears the errors.
    for file in ("trunc.pem", "orphan.key", "nokey.crt", "usurper.crt"):
        (gw.certs_dir / file).unlink()
    shutil.rmtree(gw.certs_dir / "garbage")
    wait_until(lambda: gw.admin("/status").json()["reloads"]["certs"]["ok"], what="/status certs ok again")


def test_half_written_file_keeps_the_last_good_certificate_until_completed(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa
) -> None:
    v1 = ca.leaf(["last.rot.test"])
    gw = start_with_files(gateway_factory, sites(origin_a), {"last.pem": combined(v1)})
    v2 = ca.leaf(["last.rot.test"], fresh_key=True)
    data = combined(v2)
    path = gw.certs_dir / "last.pem"
    with open(path, "r+b") as file:  # an in-place write, caught halfway: truncated, then a part
        file.truncate(0)
        file.write(truncated(data))
        file.flush()

        def reported() -> bool:
            return any(row["state"].startswith("unreadable") for row in rows_for(gw, "last.pem"))

        wait_until(reported, what="the half-written file reported unreadable")
        # The reload that saw the broken file has happened; the previous certificate is still served.
        rows = rows_for(gw, "last.pem")
        assert any(row["state"] == "served" and "last good" in row["note"] for row in rows), rows
        for _ in range(5):
            assert served(gw, "last.rot.test") == v1.der
        context = client_context(ca.path, check_hostname=True)
        assert get(gw, "last.rot.test", context).status == 200
        started = time.monotonic()
        file.write(data[len(truncated(data)) :])  # the writer finishes
    assert_within_deadline(wait_served(gw, "last.rot.test", v2.der, since=started))
    wait_until(lambda: [r["state"] for r in rows_for(gw, "last.pem")] == ["served"], what="one clean row")


def test_key_replaced_by_a_wrong_one_keeps_the_last_good_pair(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa
) -> None:
    pair = ca.leaf(["pair.rot.test"], fresh_key=True)
    gw = start_with_files(gateway_factory, sites(origin_a), {"pair.crt": pair.pem, "pair.key": key_bytes(pair.key)})
    wrong = ca.leaf(["other.rot.test"], fresh_key=True).key
    inplace_write(gw.certs_dir / "pair.key", key_bytes(wrong))
    wait_until(lambda: any(row["state"] == "key-mismatch" for row in rows_for(gw, "pair.crt")), what="key-mismatch row")
    assert served(gw, "pair.rot.test") == pair.der
    renewed = ca.leaf(["pair.rot.test"], fresh_key=True)
    started = time.monotonic()
    atomic_write(gw.certs_dir / "pair.key", key_bytes(renewed.key))
    atomic_write(gw.certs_dir / "pair.crt", renewed.pem)
    assert_within_deadline(wait_served(gw, "pair.rot.test", renewed.der, since=started))


# --- certbot ---------------------------------------------------------------------------------------------------


def _certbot_generation(live: Path, archive: Path, name: str, leaf: Issued, chain: Issued, generation: int) -> None:
    """What certbot does on issue/renewal: write `archive/NAME/{cert,chain,fullchain,privkey}N.pem`, then
    point `live/NAME/*.pem` at them with relative symlinks, one after the other (unlink + symlink)."""
    files = {
        "cert": leaf.pem,
        "chain": chain.pem,
        "fullchain": leaf.pem + chain.pem,
        "privkey": key_bytes(leaf.key),
    }
    (live / name).mkdir(parents=True, exist_ok=True)
    for stem, data in files.items():
        target = archive / name / f"{stem}{generation}.pem"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        link = live / name / f"{stem}.pem"
        link.unlink(missing_ok=True)
        link.symlink_to(os.path.relpath(target, link.parent))


@pytest.mark.parametrize("archive_place", ["outside", "hidden"])
def test_certbot_renewal_by_symlink_swap(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa, archive_place: str
) -> None:
    """certs/ is certbot's `live/`: `example.test/fullchain.pem` etc. are relative symlinks into the archive,
    `../../archive/example.test/fullchain1.pem` (outside the folder, as certbot does) or into a hidden
    `certs/.archive/` (which the store must skip)."""
    intermediate = make_ca("Rotation Intermediate", issuer=ca.issued)
    names = ["example.test", "www.example.test"]
    first = make_leaf(intermediate, names, key=new_key("p256"))
    gw = gateway_factory.prepare(
        sites_with(origin_a, "example.test", "*.example.test"), cert_files={"localhost.pem": ("localhost",)}
    )
    archive = gw.folder / "archive" if archive_place == "outside" else gw.certs_dir / ".archive"
    _certbot_generation(gw.certs_dir, archive, "example.test", first, intermediate, 1)
    link = gw.certs_dir / "example.test" / "fullchain.pem"
    expected_target = "../../archive/example.test/fullchain1.pem" if archive_place == "outside" else None
    assert expected_target is None or os.readlink(link) == expected_target
    gw.start()
    context = client_context(ca.path, check_hostname=True)  # trusts the root only: the intermediate must be sent
    with https(gw, "example.test", context) as conn:
        assert send(conn, "GET", "/echo", host="example.test").status == 200
        assert conn.sock is not None and conn.sock.getpeercert(binary_form=True) == first.der
    assert served(gw, "www.example.test") == first.der
    rows = cert_rows(gw)
    assert [row["state"] for row in rows if "example.test" in row["names"]] == ["served"], rows
    assert not [row for row in rows if row["state"] != "served"], rows  # nothing from the archive shows up

    second = make_leaf(intermediate, names, key=new_key("p256"))
    started = time.monotonic()
    _certbot_generation(gw.certs_dir, archive, "example.test", second, intermediate, 2)
    assert_within_deadline(wait_served(gw, "example.test", second.der, since=started))
    assert get(gw, "www.example.test", context).status == 200
    assert (archive / "example.test" / "fullchain1.pem").exists()  # the old generation stays on disk
    wait_until(lambda: all(row["state"] == "served" for row in cert_rows(gw)), what="no transient key-mismatch left")


# --- RSA and ECDSA side by side -----------------------------------------------------------------------------------


def _openssl_leaf(port: int, sni: str, *args: str) -> bytes:
    """The leaf `openssl s_client` receives (DER); fails when the handshake fails."""
    done = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", sni, *args],
        input=b"",
        capture_output=True,
        timeout=20,
        check=False,
    )
    match = re.search(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", done.stdout, re.S)
    assert match, (done.stdout + done.stderr).decode(errors="replace")[-2000:]
    return ssl.PEM_cert_to_DER_cert(match.group(0).decode())


def test_rsa_and_ecdsa_for_one_name_are_chosen_by_the_client(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa
) -> None:
    rsa = ca.leaf(["dual.rot.test"], kind="rsa2048")
    ecdsa = ca.leaf(["dual.rot.test"], kind="p256")
    gw = start_with_files(gateway_factory, sites(origin_a), {"dual-rsa.pem": combined(rsa)})
    assert served(gw, "dual.rot.test") == rsa.der
    started = time.monotonic()
    atomic_write(gw.certs_dir / "dual-ecdsa.pem", combined(ecdsa))  # added live next to the RSA one
    elapsed = wait_served(gw, "dual.rot.test", ecdsa.der, since=started)  # default clients prefer ECDSA
    assert_within_deadline(elapsed)
    states = {row["files"][0]: row["state"] for row in cert_rows(gw)}
    assert states["dual-rsa.pem"] == states["dual-ecdsa.pem"] == "served"

    def tls12(ciphers: str) -> bytes:
        context = client_context(ca.path, check_hostname=True)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(ciphers)
        return served(gw, "dual.rot.test", context)

    assert tls12("ECDHE-ECDSA-AES128-GCM-SHA256") == ecdsa.der
    assert tls12("ECDHE-RSA-AES128-GCM-SHA256") == rsa.der
    # TLS 1.3: the signature algorithms decide.
    assert _openssl_leaf(gw.https_port, "dual.rot.test", "-tls1_3", "-sigalgs", "ECDSA+SHA256") == ecdsa.der
    assert _openssl_leaf(gw.https_port, "dual.rot.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256") == rsa.der
    assert _openssl_leaf(gw.https_port, "dual.rot.test", "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384") == rsa.der


# --- validity --------------------------------------------------------------------------------------------------


def _metric(gateway: Gateway, name: str) -> float | None:
    text = gateway.admin("/metrics").body.decode()
    match = re.search(rf'^edge_cert_not_after_seconds\{{name="{re.escape(name)}"\}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else None


def test_expired_certificates_warnings_and_expiry_metric(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa
) -> None:
    valid = ca.leaf(["mix.rot.test"], not_after=NOW + 60 * DAY)
    expired = ca.leaf(["mix.rot.test"], not_before=NOW - 90 * DAY, not_after=NOW - DAY)
    only_expired = ca.leaf(["old.rot.test"], not_before=NOW - 90 * DAY, not_after=NOW - 2 * DAY)
    gw = start_with_files(
        gateway_factory,
        sites(origin_a),
        {"mix-a-expired.pem": combined(expired), "mix-b-valid.pem": combined(valid), "old.pem": combined(only_expired)},
    )
    assert served(gw, "mix.rot.test") == valid.der
    assert served(gw, "old.rot.test") == only_expired.der  # nothing valid covers it: still served
    errors = "\n".join(gw.log_messages("error"))
    assert re.search(r"SERVING AN EXPIRED CERTIFICATE for old\.rot\.test .*old\.pem", errors), errors
    assert "EXPIRED CERTIFICATE for mix.rot.test" not in gw.stderr_text()
    states = {row["files"][0]: (row["state"], row["note"]) for row in cert_rows(gw)}
    assert states["old.pem"] == ("expired", "served: nothing valid covers its names")
    assert states["mix-a-expired.pem"][0] == "expired"
    assert states["mix-b-valid.pem"][0] == "served"
    assert _metric(gw, "old.rot.test") == only_expired.cert.not_valid_after_utc.timestamp()
    assert _metric(gw, "mix.rot.test") == valid.cert.not_valid_after_utc.timestamp()

    # A certificate expiring in less than 14 days, dropped live: a warning, and its metric.
    soon = ca.leaf(["soon.rot.test"], not_after=NOW + 5 * DAY)
    started = time.monotonic()
    atomic_write(gw.certs_dir / "soon.pem", combined(soon))
    assert_within_deadline(wait_served(gw, "soon.rot.test", soon.der, since=started))
    wait_until(lambda: "soon.rot.test" in gw.stderr_text(), what="the expiry warning")
    assert re.search(
        r"^certificate for soon\.rot\.test \(.*soon\.pem\) expires in [45] day\(s\)",
        "\n".join(gw.log_messages("warning")),
        re.M,
    )
    assert "certificate for mix.rot.test" not in gw.stderr_text()  # 60 days left: no warning
    wait_until(lambda: _metric(gw, "soon.rot.test"), what="the soon.rot.test metric")
    assert _metric(gw, "soon.rot.test") == soon.cert.not_valid_after_utc.timestamp()


def test_expiry_metric_reports_the_served_certificate(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa
) -> None:
    valid = ca.leaf(["order.rot.test"], not_after=NOW + 60 * DAY)
    expired = ca.leaf(["order.rot.test"], not_before=NOW - 90 * DAY, not_after=NOW - DAY)
    gw = start_with_files(
        gateway_factory,
        sites(origin_a),
        {"order-a-valid.pem": combined(valid), "order-b-expired.pem": combined(expired)},
    )
    assert served(gw, "order.rot.test") == valid.der
    assert _metric(gw, "order.rot.test") == valid.cert.not_valid_after_utc.timestamp()


# --- encrypted keys --------------------------------------------------------------------------------------------


def test_encrypted_key_with_password_from_the_environment(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa
) -> None:
    password = b"rotation s3cret"
    enc = ca.leaf(["enc.rot.test"], fresh_key=True)
    gw = start_with_files(
        gateway_factory,
        sites(origin_a),
        {"enc.crt": enc.pem, "enc.key": key_bytes(enc.key, "pkcs8-encrypted", password)},
        tls={"key_password_env": "EDGE_TEST_KEY_PASSWORD"},
        env={"EDGE_TEST_KEY_PASSWORD": password.decode()},
    )
    assert served(gw, "enc.rot.test") == enc.der
    assert get(gw, "enc.rot.test", client_context(ca.path, check_hostname=True)).status == 200
    # Live too: a traditional (PEM-header) encrypted RSA key, and one with the wrong password.
    legacy = ca.leaf(["legacy.rot.test"], kind="rsa2048", fresh_key=True)
    wrong = ca.leaf(["wrong.rot.test"], fresh_key=True)
    started = time.monotonic()
    atomic_write(gw.certs_dir / "legacy.pem", legacy.pem + key_bytes(legacy.key, "legacy-encrypted", password))
    atomic_write(gw.certs_dir / "wrong.pem", wrong.pem + key_bytes(wrong.key, "pkcs8-encrypted", b"not it"))
    assert_within_deadline(wait_served(gw, "legacy.rot.test", legacy.der, since=started))
    assert served(gw, "wrong.rot.test") != wrong.der
    (row,) = rows_for(gw, "wrong.pem")
    assert row["state"] == "unreadable: wrong key password (or damaged encrypted key)"
    assert "enc.rot.test" in edge_certs_table(gw)  # `edge certs` reads the password from the same variable
    assert " served" in table_line(edge_certs_table(gw), "enc.crt")


# --- soak ------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_soak_rotation_under_handshake_load(gateway_factory: GatewayFactory, origin_a: DemoOrigin, ca: CertCa) -> None:
    """20 s of handshakes + 1 request each from 2 threads while the files are rewritten every 200 ms."""
    names = ["soak-a.rot.test", "soak-b.rot.test"]
    versions = {name: [combined(ca.leaf([name], kind=kind)) for kind in ("p256", "p256", "rsa2048")] for name in names}
    extra = combined(ca.leaf(["soak-extra.rot.test"]))
    gw = start_with_files(gateway_factory, sites(origin_a), {f"{n.split('.')[0]}.pem": versions[n][0] for n in names})
    context = client_context(ca.path, check_hostname=True)
    duration, rss_mark = 20.0, 5.0
    stop = threading.Event()
    failures: list[str] = []
    done = [0, 0]
    rewrites = [0]

    def client(index: int) -> None:
        count = 0
        while not stop.is_set():
            name = names[count % 2]
            count += 1
            try:
                response = get(gw, name, context, path="/1k")
                if response.status != 200 or len(response.body) != 1024:
                    failures.append(f"{name}: {response.status} {response.body[:80]!r}")
            except (OSError, ssl.SSLError) as exc:
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
            done[index] += 1

    def rewriter() -> None:
        turn = 0
        while not stop.wait(0.2):
            turn += 1
            name = names[turn % 2]
            path = gw.certs_dir / f"{name.split('.')[0]}.pem"
            data = versions[name][turn % 3]
            (atomic_write if turn % 2 else inplace_write)(path, data)
            if turn % 5 == 0:
                extra_path = gw.certs_dir / "soak-extra.pem"
                if extra_path.exists():
                    extra_path.unlink()
                else:
                    atomic_write(extra_path, extra)
            rewrites[0] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(2)]
    threads.append(threading.Thread(target=rewriter, daemon=True))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(rss_mark)
    rss_at_mark = gw.rss_bytes()
    time.sleep(max(0.0, duration - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join(15)
    assert not any(thread.is_alive() for thread in threads)
    rss_end = gw.rss_bytes()
    assert not failures, f"{len(failures)} failure(s) of {sum(done)}: {failures[:5]}"
    assert min(done) > 50, done  # both clients really made handshakes throughout
    assert rewrites[0] >= 60, rewrites
    reloads = gw.stderr_text().count("certificates reloaded")
    assert reloads >= 20, f"only {reloads} reloads seen"
    growth = rss_end - rss_at_mark
    assert growth < 20 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB between {rss_mark:g}s and {duration:g}s"
    assert gw.running
    print(
        f"soak: {sum(done)} handshakes+requests, {rewrites[0]} rewrites, {reloads} reloads, "
        f"RSS {rss_at_mark / 2**20:.1f} -> {rss_end / 2**20:.1f} MiB"
    )
