"""The master process of `edge run`: binds the listeners, forks the workers, watches them, turns signals into acts.

nginx's model, always (also with `workers = 1`): the master serves no request, so a crashed worker is restarted
and signals have one address, the pid in the "serving" line and in `--pidfile`.

    SIGTERM, SIGINT, SIGQUIT   stop accepting; workers drain for `server.grace`; exit 0
    SIGHUP                     every worker reloads edge.toml, certificates and rules (each validated first;
                               a bad file keeps the running state); the master logs what each worker said
    SIGUSR1                    reopen log files (after logrotate), in the master and every worker
    a worker exits by itself   started again, at once the first time, then after 0.5 s, 1 s, 2 s... up to 30 s
                               while it keeps dying within 10 s of its start

Workers never outlive the master: each asks the kernel for SIGTERM when the master dies (prctl
PR_SET_PDEATHSIG), so a `kill -9` of the master leaves no orphan holding the ports.

The master runs no event loop: signals arrive through `signal.set_wakeup_fd` on a pipe, and workers report
"serving" on another, both watched by one `select`. It owns a private temporary folder (mode 0700) with the
workers' control sockets (`control.py`) and the metric files (`metrics.py`), removed when it exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import selectors
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge import control, logs
from edge.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from edge.rules import RulesState
    from edge.server import Listeners

log = logging.getLogger("edge")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
HANDLED = (*STOP_SIGNALS, signal.SIGHUP, signal.SIGUSR1, signal.SIGCHLD)
STABLE_AFTER = 10.0  # a worker that ran this long before dying is restarted at once
MAX_BACKOFF = 30.0
RELOAD_TIMEOUT = 60.0
PR_SET_PDEATHSIG = 1


@dataclass
class WorkerSlot:
    """One worker index: the process holding it now, and its crash history for the back-off."""

    index: int
    pid: int = 0
    started: float = 0.0
    ready: bool = False
    failures: int = 0
    restart_at: float | None = None


class PrivateFolder:
    """`edge-XXXX/` in the temporary directory: `control/` sockets and `metrics/` files of this run, and
    `master.pid`, which lets a later start remove the folder of a master that could not (SIGKILL, a crash)."""

    OWNER = "master.pid"

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="edge-"))
        self.control = self.root / "control"
        self.metrics = self.root / "metrics"
        self.control.mkdir(mode=0o700)
        self.metrics.mkdir(mode=0o700)
        (self.root / self.OWNER).write_text(f"{os.getpid()}\n")

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    def sweep(cls, parent: Path | None = None) -> list[Path]:
        """Remove the private folders whose master is gone; the folders removed. Only folders with all three
        of edge's entries and a master.pid naming no live process are touched (anything else named edge-*
        in the temporary directory is not ours to remove, and a live master's folder is in use)."""
        removed = []
        for folder in Path(parent or tempfile.gettempdir()).glob("edge-*"):
            try:
                if not ((folder / "control").is_dir() and (folder / "metrics").is_dir()):
                    continue
                pid = int((folder / cls.OWNER).read_text().strip())
            except (OSError, ValueError):
                continue
            if pid > 0 and pid != os.getpid() and not _alive(pid) and not _answering(folder / "control"):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        return removed


def _answering(control: Path) -> bool:
    """True when a worker still listens on one of the folder's control sockets: a master in another PID
    namespace (a container sharing the temporary directory) has a pid we cannot see, not a dead one."""
    for path in control.glob("*.sock"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.2)
            try:
                probe.connect(str(path))
            except OSError:
                continue
            return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def prepare_environment() -> PrivateFolder:
    """Before anything imports edge.metrics: the metric families must be created in multiprocess mode."""
    for stale in PrivateFolder.sweep():
        log.info("removed %s, left by a master that is gone", stale)
    folder = PrivateFolder()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.metrics)
    os.environ[control.ENV] = str(folder.control)
    return folder


def run(config: Config, *, pidfile: Path | None = None) -> int:
    """`edge run`: serve until SIGTERM/SIGINT/SIGQUIT; 0 on a clean stop, 1 when it cannot start."""
    logs.setup(config.log, "master")
    folder = prepare_environment()
    try:
        return Master(config, folder, pidfile).run()
    finally:
        folder.remove()


class Master:
    def __init__(self, config: Config, folder: PrivateFolder, pidfile: Path | None) -> None:
        self.config = config
        self.folder = folder
        self.pidfile = pidfile
        self.slots = [WorkerSlot(index) for index in range(config.server.workers)]
        self.stopping = False
        self.serving = False
        self.pending: list[int] = []
        self.rules: RulesState | None = None
        self.listeners: Listeners | None = None

    # --- start and stop ------------------------------------------------------------------------------------

    def run(self) -> int:
        from edge.rules import load_rules
        from edge.server import Listeners

        rules, problems = load_rules(self.config.waf.rules, self.config.waf.paranoia)
        if rules is None:
            for problem in problems:
                log.error("rules: %s", problem)
            log.error("not starting: the rules in %s have %d problem(s)", self.config.waf.rules, len(problems))
            return 1
        self.rules = rules
        try:
            self.listeners = Listeners(self.config)
        except OSError as exc:
            log.error("not starting: cannot listen: %s", exc)
            return 1
        self._write_pidfile()
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.ready_r, self.ready_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        for sig in HANDLED:
            signal.signal(sig, self._note)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        selector = selectors.DefaultSelector()
        selector.register(wake_r, selectors.EVENT_READ, "signal")
        selector.register(self.ready_r, selectors.EVENT_READ, "ready")
        self._close_fds = (wake_r, wake_w, self.ready_r)
        try:
            for slot in self.slots:
                self._spawn(slot)
            code = self._loop(selector, wake_r)
        finally:
            signal.set_wakeup_fd(-1)
            selector.close()
            for fd in (wake_r, wake_w, self.ready_r, self.ready_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            if self.pidfile is not None:
                with contextlib.suppress(OSError):
                    self.pidfile.unlink()
        return code

    def _write_pidfile(self) -> None:
        if self.pidfile is not None:
            temporary = self.pidfile.with_name(self.pidfile.name + ".tmp")
            temporary.write_text(f"{os.getpid()}\n")
            temporary.replace(self.pidfile)

    def _note(self, signum: int, _frame: Any) -> None:
        """Python's signal handler: only records; the wake-up pipe makes `select` return."""
        self.pending.append(signum)

    def _loop(self, selector: selectors.BaseSelector, wake_r: int) -> int:
        stop_deadline: float | None = None
        while True:
            timeout = self._next_timeout(stop_deadline)
            for key, _ in selector.select(timeout):
                if key.data == "signal":
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 512)
                else:
                    self._read_ready()
            pending, self.pending = self.pending, []
            for signum in pending:
                if signum in STOP_SIGNALS and not self.stopping:
                    stop_deadline = self._begin_stop(signal.Signals(signum).name)
                elif signum == signal.SIGHUP and not self.stopping:
                    self._reload()
                elif signum == signal.SIGUSR1:
                    logs.reopen_all()
                    self._signal_workers(signal.SIGUSR1)
            failed = self._reap()
            if failed and not self.serving and not self.stopping:
                log.error("not starting: a worker exited during start-up (see above)")
                self.stopping = True
                stop_deadline = self._begin_stop(None)
            if self.stopping:
                if not any(slot.pid for slot in self.slots):
                    log.info("edge stopped")
                    return 1 if failed or not self.serving else 0
                if stop_deadline is not None and time.monotonic() > stop_deadline:
                    log.error("workers still running %.0fs after the grace period: killing them", 5.0)
                    self._signal_workers(signal.SIGKILL)
                    stop_deadline = None
            else:
                self._restart_due()

    def _next_timeout(self, stop_deadline: float | None) -> float:
        now = time.monotonic()
        due = [slot.restart_at for slot in self.slots if slot.restart_at is not None]
        if stop_deadline is not None:
            due.append(stop_deadline)
        return max(0.0, min(due) - now) if due else 1.0

    def _begin_stop(self, reason: str | None) -> float:
        self.stopping = True
        if reason:
            log.info("%s: stopping; workers drain for up to %.0fs", reason, self.config.server.grace)
        for slot in self.slots:
            slot.restart_at = None
        self._signal_workers(signal.SIGTERM)
        if self.listeners is not None:
            self.listeners.close()  # as nginx's master: once the workers close theirs, the ports refuse at once
        return time.monotonic() + self.config.server.grace + 5.0

    def _signal_workers(self, sig: int) -> None:
        for slot in self.slots:
            if slot.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, sig)

    # --- workers -------------------------------------------------------------------------------------------

    def _spawn(self, slot: WorkerSlot) -> None:
        from edge.server import WorkerContext, run_worker

        assert self.listeners is not None and self.rules is not None
        pid = os.fork()
        if pid == 0:  # the worker; it never returns from here
            code = 1
            try:
                self._become_worker(slot.index)
                run_worker(
                    self.config,
                    self.listeners,
                    self.rules,
                    WorkerContext(slot.index, self.folder.control, self.ready_w),
                )
                code = 0
            except BaseException:
                log.exception("worker %d failed", slot.index)
            finally:
                os._exit(code)
        slot.pid, slot.started, slot.ready, slot.restart_at = pid, time.monotonic(), False, None

    def _become_worker(self, index: int) -> None:
        """Undo in the child what belongs to the master: signal handling, its pipes; tie its life to the master."""
        master = os.getppid()
        signal.set_wakeup_fd(-1)
        for sig in HANDLED:
            signal.signal(sig, signal.SIG_DFL)
        for fd in self._close_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        die_with_parent()
        if os.getppid() != master:  # the master died between fork and prctl
            os._exit(0)
        logs.setup(self.config.log, f"worker {index}")
        control.configure(self.folder.control, len(self.slots), index)

    def _read_ready(self) -> None:
        with contextlib.suppress(BlockingIOError):
            data = os.read(self.ready_r, 4096)
            for line in data.decode().splitlines():
                index, pid = (int(part) for part in line.split())
                slot = self.slots[index]
                if slot.pid != pid:
                    continue
                slot.ready = True
                if self.serving:
                    log.info("worker %d (pid %d) serving again", index, pid)
        if not self.serving and all(slot.ready for slot in self.slots):
            self.serving = True
            from edge.server import listens

            where = ", ".join(f"{name}={listen}" for name, listen in listens(self.config))
            log.info("edge %s serving %s (pid %d, %d worker(s))", self.config.path, where, os.getpid(), len(self.slots))

    def _reap(self) -> bool:
        """Collect exited workers; True when one exited by itself."""
        from edge.metrics import WORKER_RESTARTS, process_exited

        unexpected = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return unexpected
            if pid == 0:
                return unexpected
            slot = next((slot for slot in self.slots if slot.pid == pid), None)
            process_exited(pid)
            if slot is None:
                continue
            slot.pid = 0
            if self.stopping:
                continue
            unexpected = True
            how = _describe(status)
            lived = time.monotonic() - slot.started
            slot.failures = 0 if lived >= STABLE_AFTER else slot.failures + 1
            delay = 0.0 if slot.failures <= 1 else min(MAX_BACKOFF, 0.5 * 2 ** (slot.failures - 2))
            slot.restart_at = time.monotonic() + delay
            if self.serving:
                WORKER_RESTARTS.inc()
                log.error(
                    "worker %d (pid %d) %s after %.1fs; starting it again in %.1fs", slot.index, pid, how, lived, delay
                )
            else:
                log.error("worker %d (pid %d) %s during start-up", slot.index, pid, how)

    def _restart_due(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.restart_at is not None and slot.restart_at <= now:
                self._refresh()
                self._spawn(slot)

    def _refresh(self) -> None:
        """A replacement worker starts from the files as they are now (the running workers took changes live);
        a file that does not load keeps what the master had."""
        from edge.rules import load_rules

        try:
            config = load_config(self.config.path)
        except ConfigError as exc:
            log.warning("restarting a worker with the last good config: %s", exc.problems[0])
            config = self.config
        rules, problems = load_rules(config.waf.rules, config.waf.paranoia)
        if rules is None:
            log.warning("restarting a worker with the last good rules: %s", problems[0])
        else:
            self.rules = rules
        self.config = config

    # --- reload --------------------------------------------------------------------------------------------

    def _reload(self) -> None:
        """SIGHUP: every worker reloads; one line says what each said (the workers log the details)."""
        log.info("SIGHUP: reloading edge.toml, certificates and rules in %d worker(s)", len(self.slots))
        replies = control.broadcast_sync(self.folder.control, len(self.slots), {"cmd": "reload"}, RELOAD_TIMEOUT)
        failed = [reply for reply in replies if not reply.get("ok")]
        if not failed:
            log.info("reload done: %d worker(s) ok", len(replies))
            return
        for reply in failed:
            errors = reply.get("error") or "; ".join(
                error for kind in ("config", "certs", "rules") for error in reply.get(kind, {}).get("errors", [])
            )
            log.error("reload failed in worker %s, which keeps its last good state: %s", reply.get("worker"), errors)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send `sig` to this process when its parent dies (prctl PR_SET_PDEATHSIG); False elsewhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the symbols already loaded: libc's prctl, no library search
        return bool(libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
