"""Operating edge as nginx is operated: one master, signals, reloads, crashed workers, metrics and logs of a run.

Every test runs the real process tree (`edge run` = master + workers) and looks at it from outside: pids in
/proc, ports with bind(), the logs parsed line by line, /metrics parsed with prometheus_client's parser.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .harness import LOOPBACK, DemoOrigin, Gateway, GatewayFactory

BLOCK_HUP = """
[[rule]]
id = "hup-block"
expr = 'starts_with(http.request.uri.path, "/hup-blocked")'
action = "block"
  [[rule.test]]
  request = "GET /hup-blocked"
  match = true
"""
BLOCK_OTHER = BLOCK_HUP.replace("hup-block", "other-block").replace("/hup-blocked", "/other-blocked")
BROKEN = '[[rule]]\nid = "broken"\nexpr = \'http.request.uri.path eq\'\naction = "block"\n'


def wait_for(check: Callable[[], object], timeout: float = 10.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


@contextmanager
def light_load(gw: Gateway, path: str = "/1k") -> Iterator[list[int]]:
    """One client sending a request on a fresh connection every 20 ms; the statuses it got (0: failed)."""
    statuses: list[int] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                statuses.append(gw.request("GET", path, timeout=5).status)
            except OSError:
                statuses.append(0)
            time.sleep(0.02)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        thread.join(10)


def two_workers(factory: GatewayFactory, origin: DemoOrigin, **kwargs: object) -> Gateway:
    gw = factory.start([{"hosts": ["localhost"], "origins": [origin.url]}], server={"workers": 2}, **kwargs)  # type: ignore[arg-type]
    wait_for(lambda: len(gw.worker_pids()) == 2, what="two workers")
    return gw


def reload_replies(gw: Gateway) -> list[dict[str, object]]:
    r = gw.admin("/reload", method="POST", timeout=60)
    body = r.json()
    assert r.status == (200 if body["ok"] else 422), body
    return list(body["workers"])


# --- signals and processes -------------------------------------------------------------------------------------


def test_master_pid_is_in_the_serving_line_and_the_pidfile(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin
) -> None:
    gw = gateway_factory.prepare([{"hosts": ["localhost"], "origins": [origin_a.url]}], server={"workers": 2})
    gw.args = ["--pidfile", "run/edge.pid"]
    (gw.folder / "run").mkdir()
    gw.start()
    (serving,) = [line for line in gw.stderr_lines() if " serving " in line["msg"]]
    assert f"(pid {gw.pid}, 2 worker(s))" in serving["msg"]
    assert serving["pid"] == gw.pid and serving["process"] == "master"
    assert (gw.folder / "run/edge.pid").read_text() == f"{gw.pid}\n"
    workers = gw.worker_pids()
    status = gw.admin("/status").json()
    assert status["pid"] == gw.pid
    assert sorted(w["pid"] for w in status["workers"]) == workers
    assert gw.stop() == 0
    assert not (gw.folder / "run/edge.pid").exists(), "the pidfile is removed at exit"


def test_sighup_takes_a_valid_rule_change_in_every_worker_without_a_failed_request(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin
) -> None:
    gw = two_workers(gateway_factory, origin_a, rules={"50-ops.toml": BLOCK_HUP})
    assert gw.request("GET", "/other-blocked").status == 200
    with light_load(gw) as statuses:
        time.sleep(0.3)
        (gw.folder / "rules" / "50-ops.toml").write_text(BLOCK_HUP + BLOCK_OTHER)
        gw.signal(signal.SIGHUP)
        wait_for(lambda: "reload done: 2 worker(s) ok" in gw.stderr_text(), what="the master's reload line")
        time.sleep(0.3)
    assert statuses and set(statuses) == {200}, f"requests failed during the reload: {statuses}"
    replies = reload_replies(gw)  # the same reload through the admin API: what each worker now has
    assert [reply["worker"] for reply in replies] == [0, 1]
    assert sorted(reply["pid"] for reply in replies) == gw.worker_pids()  # type: ignore[type-var]
    assert {reply["rules"]["rules"] for reply in replies} == {2}  # type: ignore[index]
    assert len({reply["rules"]["fingerprint"] for reply in replies}) == 1  # type: ignore[index]
    for _ in range(6):  # fresh connections land on either worker: all block the new rule
        assert gw.request("GET", "/other-blocked").status == 403


def test_sighup_with_a_broken_rule_file_keeps_the_running_rules(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin
) -> None:
    gw = two_workers(gateway_factory, origin_a, rules={"50-ops.toml": BLOCK_HUP})
    with light_load(gw) as statuses:
        (gw.folder / "rules" / "60-broken.toml").write_text(BROKEN)
        gw.signal(signal.SIGHUP)
        wait_for(lambda: len([m for m in gw.log_messages("error") if "reload failed in worker" in m]) == 2)
    assert statuses and set(statuses) == {200}, statuses
    failures = [m for m in gw.log_messages("error") if "reload failed in worker" in m]
    assert all("60-broken.toml:3" in m and "keeps its last good state" in m for m in failures), failures
    replies = reload_replies(gw)
    assert all(not reply["ok"] and not reply["rules"]["ok"] for reply in replies), replies  # type: ignore[index]
    assert all(reply["rules"]["rules"] == 1 for reply in replies), "the last good set still serves"  # type: ignore[index]
    for _ in range(4):
        assert gw.request("GET", "/hup-blocked").status == 403


def test_sigterm_with_two_workers_leaves_no_process_and_frees_the_ports(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin
) -> None:
    gw = two_workers(gateway_factory, origin_a)
    workers = gw.worker_pids()
    gw.signal(signal.SIGHUP)
    wait_for(lambda: "reload done" in gw.stderr_text())
    assert gw.stop() == 0
    assert not any(pid_alive(pid) for pid in workers), "a worker outlived the master"
    for port in (gw.https_port, gw.http_port, gw.admin_port):
        assert port_free(port), f"port {port} still taken"
    again = dataclasses.replace(gw, process=None, returncode=None)  # same folder, config and ports
    gateway_factory.gateways.append(again)
    again.start()
    assert again.request("GET", "/1k").status == 200


def test_killed_master_takes_its_workers_with_it(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = two_workers(gateway_factory, origin_a)
    workers = gw.worker_pids()
    (private,) = [
        p.parent for p in Path(tempfile.gettempdir()).glob("edge-*/master.pid") if p.read_text().strip() == str(gw.pid)
    ]
    gw.kill()  # SIGKILL: the master cannot forward anything
    gw.returncode = -9
    wait_for(lambda: not any(pid_alive(pid) for pid in workers), timeout=gw.grace + 5, what="the workers' exit")
    wait_for(lambda: port_free(gw.https_port), what="the https port to be free")
    assert private.exists(), "nobody removed it: the master was killed"
    again = dataclasses.replace(gw, process=None, returncode=None)  # the next start on this machine
    gateway_factory.gateways.append(again)
    again.start()
    assert not private.exists(), "the next start removes the folder a killed master left"
    assert again.request("GET", "/1k").status == 200


def test_a_killed_worker_is_started_again_and_serves(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = two_workers(gateway_factory, origin_a)
    victim = gw.worker_pids()[1]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: "serving again" in gw.stderr_text(), what="the replacement worker")
    workers = gw.worker_pids()
    assert len(workers) == 2 and victim not in workers
    (line,) = [m for m in gw.log_messages("error") if f"(pid {victim}) was killed by SIGKILL" in m]
    assert "starting it again" in line
    for _ in range(8):
        assert gw.request("GET", "/1k").status == 200
    status = gw.admin("/status").json()
    assert sorted(w["pid"] for w in status["workers"]) == workers
    assert gw.metric("edge_worker_restarts_total") == 1


def test_sigusr1_reopens_the_access_log_file(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = gateway_factory.prepare(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}], tables={"log": {"access": "logs/access.log"}}
    )
    (gw.folder / "logs").mkdir()
    gw.start()
    first = gw.request("GET", "/1k?n=1").request_id
    log = gw.folder / "logs/access.log"
    wait_for(lambda: first in log.read_text(), what="the first line")
    log.rename(gw.folder / "logs/access.log.1")  # what logrotate does
    gw.signal(signal.SIGUSR1)
    time.sleep(0.3)
    second = gw.request("GET", "/1k?n=2").request_id
    wait_for(lambda: log.exists() and second in log.read_text(), what="a line in the reopened file")
    assert first not in log.read_text()
    assert gw.stdout_text() == "", "with access = PATH nothing goes to stdout"


# --- metrics ------------------------------------------------------------------------------------------------------


def test_metrics_sum_every_worker(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = two_workers(gateway_factory, origin_a)
    ids: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # fresh connections until both workers have served some
        ids += [gw.request("GET", f"/1k?n={n}").request_id or "" for n in range(10)]
        for rid in ids[-10:]:
            gw.log_for(rid)
        if len({line["pid"] for line in gw.stdout_lines()}) == 2:
            break
    lines = gw.stdout_lines()
    assert {line["pid"] for line in lines} == set(gw.worker_pids()), "both workers served"
    assert gw.metric("edge_requests_total", site="localhost", method="read", code="2xx") == len(ids)
    assert gw.metric("edge_request_duration_seconds_count", site="localhost") == len(ids)
    assert gw.metric("edge_origin_response_seconds_count", site="localhost", origin=origin_a.url) == len(ids)
    post = gw.request("POST", "/echo", body=b"x")
    assert post.status == 200
    wait_for(lambda: gw.metric("edge_requests_total", method="write") == 1)
    wait_for(lambda: gw.metric("edge_origin_up", origin=origin_a.url) == 1.0, what="edge_origin_up sampled")
    assert gw.metric("edge_cert_not_after_seconds", name="localhost") > time.time()


def test_every_family_is_typed_and_documented(gateway: Gateway) -> None:
    gateway.request("GET", "/1k")
    text = gateway.admin("/metrics").body.decode()
    helps = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")}
    types = {line.split()[2]: line.split()[3] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert set(types) == helps
    assert "untyped" not in types.values(), types
    for name, kind in {
        "edge_requests_total": "counter",
        "edge_request_duration_seconds": "histogram",
        "edge_waf_matches_total": "counter",
        "edge_ratelimit_limited_total": "counter",
        "edge_ratelimit_requests_total": "counter",
        "edge_origin_up": "gauge",
        "edge_origin_active_connections": "gauge",
        "edge_origin_response_seconds": "histogram",
        "edge_origin_errors_total": "counter",
        "edge_reload_errors_total": "counter",
        "edge_cert_not_after_seconds": "gauge",
        "edge_cache_bytes": "gauge",
        "edge_cache_entries": "gauge",
    }.items():
        assert types.get(name) == kind, (name, types.get(name))
    for line in text.splitlines():
        if line.startswith(("# HELP", "# TYPE")):
            assert len(line.split(" ", 3)[3]) > 2, line


def test_unknown_hosts_get_one_fixed_site_label(gateway: Gateway) -> None:
    for n in range(3):
        gateway.request("GET", "/x", host=f"nobody{n}.example", sni="localhost")
    wait_for(lambda: gateway.metric("edge_requests_total", site="unmatched", code="4xx") >= 3)
    sites = {labels["site"] for labels, _ in gateway.metrics()["edge_requests_total"]}
    assert not any("nobody" in site for site in sites), sites


# --- logs ---------------------------------------------------------------------------------------------------------


def test_every_line_of_a_run_is_json(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = two_workers(gateway_factory, origin_a, rules={"50-ops.toml": BLOCK_HUP})
    ok = gw.request(
        "GET",
        "/1k?token=s3cr3t-value&q=1&Password=x",
        headers={"User-Agent": "ops-test/1", "Referer": "https://r.test/"},
    )
    blocked = gw.request("GET", "/hup-blocked")
    gw.plain("GET", "/redirect-me")
    gw.request("GET", "/x", host="nobody.example", sni="localhost")
    (gw.folder / "rules" / "60-broken.toml").write_text(BROKEN)
    gw.signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in gw.stderr_text())
    (gw.folder / "rules" / "60-broken.toml").unlink()
    line = gw.log_for(ok.request_id or "")
    assert gw.log_for(blocked.request_id or "")["status"] == 403
    assert gw.stop() == 0
    stdout, stderr = gw.stdout_lines(), gw.stderr_lines()  # each raises on a line that is not JSON
    assert len(stdout) >= 4 and len(stderr) >= 6
    assert {entry["level"] for entry in stderr} <= {"info", "warning", "error"}
    assert {entry["process"] for entry in stderr} >= {"master", "worker 0", "worker 1"}
    starts = [entry for entry in stderr if " serving " in entry["msg"]]
    assert len(starts) == 1 and starts[0]["level"] == "info", "a normal start is INFO, not WARNING"
    assert any(entry["msg"] == "edge stopped" and entry["level"] == "info" for entry in stderr)
    assert line["query"] == "token=REDACTED&q=1&Password=REDACTED"
    assert (line["user_agent"], line["referer"]) == ("ops-test/1", "https://r.test/")
    assert (line["tls_version"], line["sni"]) in {("TLSv1.3", "localhost"), ("TLSv1.2", "localhost")}
    assert line["bytes_in"] > 0 and line["upstream_ms"] is not None and line["upstream_ms"] >= 0
    assert "s3cr3t-value" not in gw.stdout_text()  # not hex: a request id cannot contain it


def test_text_format_for_people(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = gateway_factory.start(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}], tables={"log": {"format": "text"}}
    )
    rid = gw.request("GET", "/1k?secret=s3").request_id
    wait_for(lambda: f"id={rid}" in gw.stdout_text(), what="the text access line")
    (line,) = [ln for ln in gw.stdout_text().splitlines() if f"id={rid}" in ln]
    assert '"GET localhost/1k?secret=REDACTED" 200' in line
    assert " INFO edge[" in gw.stderr_text() and "master]: edge " in gw.stderr_text()


# --- the CLI agrees with the running gateway ------------------------------------------------------------------------


def test_edge_certs_shows_what_the_running_gateway_serves_after_a_broken_drop(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin
) -> None:
    import subprocess

    from .harness import EDGE_CMD

    gw = gateway_factory.start([{"hosts": ["localhost", "a.test"], "origins": [origin_a.url]}])
    good = gw.handshake("a.test").der
    (gw.certs_dir / "a.test.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    wait_for(lambda: "a.test.pem" in str(gw.admin("/status").json()["reloads"]["certs"]["errors"]))
    assert gw.handshake("a.test").der == good, "the last good version keeps serving"

    def certs(*extra: str) -> str:
        done = subprocess.run([*EDGE_CMD, "certs", "-c", str(gw.config_path), *extra], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    admin_rows = gw.admin("/certs").json()["certificates"]
    served = certs()
    assert served.startswith("(as served by the running gateway on 127.0.0.1:")
    assert len(served.splitlines()) == len(admin_rows) + 2  # the note, the header, one line per row
    for row in admin_rows:
        assert any(",".join(row["files"]) in line and row["state"] in line for line in served.splitlines()), row
    a_rows = [line for line in served.splitlines() if line.startswith("a.test.pem ")]
    assert any(" served " in line for line in a_rows), served
    scanned = certs("--folder")
    assert not scanned.startswith("(as served") and "unreadable" in scanned


def test_admin_posts_from_web_pages_are_refused(gateway: Gateway) -> None:
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        r = gateway.admin("/reload", method="POST", headers=headers)
        assert r.status == 403, headers
    assert gateway.admin("/reload", method="POST", headers={"Origin": "http://127.0.0.1:1"}).status == 200
    r = gateway.admin("/reload", method="POST", timeout=60)
    assert r.status == 200 and r.json()["ok"] is True
    assert [w["worker"] for w in r.json()["workers"]] == [0]


def test_check_refuses_an_unset_admin_token_variable(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    import subprocess

    from .harness import EDGE_CMD

    gw = gateway_factory.prepare(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}], server={"admin_token_env": "EDGE_OPS_UNSET_TOKEN"}
    )
    env = {k: v for k, v in os.environ.items() if k != "EDGE_OPS_UNSET_TOKEN"}
    done = subprocess.run(
        [*EDGE_CMD, "check", "-c", str(gw.config_path)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1
    assert "server.admin_token_env: the environment variable EDGE_OPS_UNSET_TOKEN is not set" in done.stderr
