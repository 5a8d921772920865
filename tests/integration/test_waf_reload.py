"""Rule files taken live: edits, additions and deletions within 2 s; a broken edit keeps the last good set
(and says why in /status and on stderr); a gateway does not start on broken rules."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .harness import EDGE_CMD, DemoOrigin, Gateway, GatewayFactory

RELOAD_WITHIN = 2.0
WAIT_AT_MOST = 6.0  # how long a test waits before it reports "never happened" (the bound is RELOAD_WITHIN)

SQLMAP = """\
[[rule]]
id = "ua-sqlmap"
expr = 'lower(http.user_agent) contains "sqlmap"'
action = "block"
  [[rule.test]]
  request = "GET /"
  headers = { "User-Agent" = "sqlmap/1.7" }
  match = true
"""

NIKTO = """
[[rule]]
id = "ua-nikto"
expr = 'lower(http.user_agent) contains "nikto"'
action = "block"
  [[rule.test]]
  request = "GET /"
  headers = { "User-Agent" = "Nikto/2.5" }
  match = true
"""


def write_atomically(path: Path, text: str) -> None:
    """Like an editor's save: a hidden temporary file renamed over the target (the watch never sees half a file)."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def wait_for(condition: Callable[[], Any], timeout: float = WAIT_AT_MOST) -> float:
    """Poll `condition` until it is truthy; the seconds it took (fails after `timeout`)."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(0.05)


def status_of(gateway: Gateway, user_agent: str) -> int:
    return gateway.request("GET", "/", headers={"User-Agent": user_agent}).status


def rules_reload(gateway: Gateway) -> dict[str, Any]:
    reload: dict[str, Any] = gateway.admin("/status").json()["reloads"]["rules"]
    return reload


def metric(gateway: Gateway, sample: str) -> float:
    for line in gateway.admin("/metrics").body.decode().splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def gw(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    return gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url]}], rules={"10-base.toml": SQLMAP})


def assert_old_set_serves(gateway: Gateway) -> None:
    assert status_of(gateway, "sqlmap/1.7") == 403
    assert status_of(gateway, "Nikto/2.5") == 200
    assert status_of(gateway, "curl/8.5") == 200


def test_an_edit_takes_effect_within_two_seconds(gw: Gateway) -> None:
    assert_old_set_serves(gw)
    first = rules_reload(gw)
    assert first["ok"] is True and first["rules"] == 1
    path = gw.folder / "rules" / "10-base.toml"
    write_atomically(path, SQLMAP + NIKTO)
    took = wait_for(lambda: status_of(gw, "Nikto/2.5") == 403)
    assert took <= RELOAD_WITHIN, f"the edit took {took:.2f}s"
    assert status_of(gw, "sqlmap/1.7") == 403
    now = rules_reload(gw)
    assert now["ok"] is True and now["errors"] == [] and now["rules"] == 2
    assert now["fingerprint"] != first["fingerprint"]
    assert "rules loaded: 2 rule(s)" in gw.stderr_text()
    # An edit that removes a rule takes effect too.
    write_atomically(path, NIKTO)
    took = wait_for(lambda: status_of(gw, "sqlmap/1.7") == 200)
    assert took <= RELOAD_WITHIN, f"the edit took {took:.2f}s"
    assert status_of(gw, "Nikto/2.5") == 403


def test_an_edit_in_place_takes_effect(gw: Gateway) -> None:
    """Written in place (not renamed), as `echo >> file` does: the watch notices the new size and mtime."""
    path = gw.folder / "rules" / "10-base.toml"
    with path.open("a") as file:
        file.write(NIKTO)
    took = wait_for(lambda: status_of(gw, "Nikto/2.5") == 403)
    assert took <= RELOAD_WITHIN
    wait_for(lambda: rules_reload(gw)["ok"] and rules_reload(gw)["rules"] == 2)


# broken edit -> (the text of 10-base.toml, `line:col` or `line` of the problem, a part of its message)
BROKEN = {
    "toml-syntax": (SQLMAP + NIKTO.replace('id = "ua-nikto"', 'id = "ua-nikto'), "11:15", "invalid TOML"),
    "unknown-field": (
        SQLMAP + NIKTO.replace("http.user_agent", "http.user_agnet"),
        "12:15",
        "unknown field 'http.user_agnet'; did you mean 'http.user_agent'?",
    ),
    "failing-test": (
        SQLMAP + NIKTO.replace('"Nikto/2.5"', '"curl/8.5"'),
        "14",
        "rule 'ua-nikto' test 1 ('GET /'): expected match, it did not match",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_edit_keeps_the_old_set_and_says_why(gw: Gateway, case: str) -> None:
    text, line, message = BROKEN[case]
    path = gw.folder / "rules" / "10-base.toml"
    assert text.splitlines()[int(line.split(":")[0]) - 1].strip(), "the expected line is not blank"
    fingerprint = gw.admin("/rules").json()["fingerprint"]
    errors_before = metric(gw, 'edge_reload_errors_total{kind="rules"}')
    write_atomically(path, text)
    took = wait_for(lambda: rules_reload(gw)["ok"] is False)
    assert took <= RELOAD_WITHIN
    reload = rules_reload(gw)
    assert len(reload["errors"]) == 1, reload
    (error,) = reload["errors"]
    assert error.startswith(f"{path}:{line}: "), error
    assert message in error
    assert reload["rules"] == 1  # what is still served
    wait_for(lambda: message in gw.stderr_text())
    assert f"rules not reloaded, the last good set stays: {path}:{line}:" in gw.stderr_text()
    assert metric(gw, 'edge_reload_errors_total{kind="rules"}') == errors_before + 1
    # The old set keeps serving: the new rule is not on, the old one still blocks.
    assert_old_set_serves(gw)
    assert gw.admin("/rules").json()["fingerprint"] == fingerprint
    # Fixing the file recovers.
    write_atomically(path, SQLMAP + NIKTO)
    took = wait_for(lambda: status_of(gw, "Nikto/2.5") == 403)
    assert took <= RELOAD_WITHIN
    reload = rules_reload(gw)
    assert reload["ok"] is True and reload["errors"] == [] and reload["rules"] == 2
    assert status_of(gw, "sqlmap/1.7") == 403


def test_adding_and_deleting_rule_files(gw: Gateway) -> None:
    extra = gw.folder / "rules" / "20-extra.toml"
    write_atomically(extra, NIKTO)
    took = wait_for(lambda: status_of(gw, "Nikto/2.5") == 403)
    assert took <= RELOAD_WITHIN
    listing = gw.admin("/rules").json()
    assert [Path(f).name for f in listing["files"]] == ["10-base.toml", "20-extra.toml"]
    assert [r["id"] for r in listing["rules"]] == ["ua-sqlmap", "ua-nikto"]
    assert rules_reload(gw)["files"] == listing["files"]
    # A file that is not *.toml is not a rule file.
    write_atomically(gw.folder / "rules" / "notes.txt", "[[rule]]\nthis is not read")
    time.sleep(1.0)
    assert rules_reload(gw)["ok"] is True
    extra.unlink()
    took = wait_for(lambda: status_of(gw, "Nikto/2.5") == 200)
    assert took <= RELOAD_WITHIN
    assert [r["id"] for r in gw.admin("/rules").json()["rules"]] == ["ua-sqlmap"]
    # Deleting the last file leaves an empty set: nothing is blocked any more.
    (gw.folder / "rules" / "10-base.toml").unlink()
    took = wait_for(lambda: status_of(gw, "sqlmap/1.7") == 200)
    assert took <= RELOAD_WITHIN
    assert gw.admin("/rules").json()["rules"] == []


def test_a_duplicate_id_in_a_new_file_is_refused(gw: Gateway) -> None:
    extra = gw.folder / "rules" / "20-extra.toml"
    write_atomically(extra, SQLMAP.replace('"sqlmap"', '"nikto"'))
    wait_for(lambda: rules_reload(gw)["ok"] is False)
    (error,) = rules_reload(gw)["errors"]
    assert error.startswith(f"{extra}:2:1: duplicate rule id 'ua-sqlmap'"), error
    assert_old_set_serves(gw)
    extra.unlink()
    wait_for(lambda: rules_reload(gw)["ok"] is True)
    assert_old_set_serves(gw)


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_gateway_does_not_start_with_broken_rules(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, case: str
) -> None:
    text, line, message = BROKEN[case]
    gateway = gateway_factory.prepare(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}], rules={"10-base.toml": text}
    )
    done = subprocess.run(
        [*EDGE_CMD, "run", "-c", str(gateway.config_path)],
        capture_output=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        cwd=gateway.folder,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr
    path = gateway.folder / "rules" / "10-base.toml"
    assert f"{path}:{line}: " in stderr and message in stderr, stderr
    assert "not starting" in stderr
    assert done.stdout == b""
