"""One way of noticing file changes, shared by certificates, rules and the config: a stat poll, and inotify
for a folder that asks for it.

The stat poll follows symlinks (certbot swaps `live/NAME/*.pem` targets on renewal), works the same in every
worker process and on every file system, and costs one `stat` per file per interval in a thread, never on
the request path. For the certificate folder (10,000 files: a scan takes 50 ms or more, so polls come
seconds apart) inotify (`watchfiles`, recursive, following symlinked folders) triggers the scan within
about 50 ms of a change; the poll then runs every `SAFETY_INTERVAL` only, for what inotify cannot see (a
symlink's target file outside the folder). On a network or FUSE file system, whose remote changes inotify
never reports, or when inotify fails (no instances left), the poll runs every `interval` as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import watchfiles

log = logging.getLogger("edge.watch")

MAX_SCAN_SHARE_INVERSE = 20  # the pause between scans is at least 20 times the last scan's duration
SAFETY_INTERVAL = 5.0  # seconds between polls while inotify watches the folder
INOTIFY_STEP_MS = 50  # watchfiles yields once no new event came for this long (at most 1.6 s of a burst)
# File systems whose changes made elsewhere inotify does not report.
REMOTE_FS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "afs", "lustre", "gpfs"})

Signature = tuple[tuple[str, int, int, int], ...]


def signature(files: Iterable[Path]) -> Signature:
    """What changes when any of the files is added, removed, replaced or rewritten (symlinks followed)."""
    out = []
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            continue
        out.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(sorted(out))


def files_in(folder: Path, suffixes: tuple[str, ...], *, depth: int = 0) -> list[Path]:
    """Files ending in one of `suffixes` in `folder` and, with depth=1, its direct subfolders; hidden names
    skipped. Suffix tests, not glob patterns: this runs over every file twice a second."""
    found: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()  # follows symlinks
        except OSError:
            continue
        if is_dir:
            if depth > 0:
                found.extend(files_in(path, suffixes, depth=depth - 1))
        elif entry.name.lower().endswith(suffixes):
            found.append(path)
    return found


def inotify_sees_everything(folder: Path) -> bool:
    """False when `folder` is on a network or FUSE file system (from /proc/self/mounts), or does not exist."""
    try:
        real = os.path.realpath(folder, strict=True)
        with open("/proc/self/mounts") as mounts:
            table = [line.split()[1:3] for line in mounts if len(line.split()) > 2]
    except OSError:
        return False
    best, kind = "", ""
    for point, fstype in table:
        point = point.replace("\\040", " ")
        if (real == point or real.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, kind = point, fstype
    return bool(kind) and kind not in REMOTE_FS and not kind.startswith("fuse")


class Watch:
    """Calls `on_change` when the signature of `list_files()` changes: polled every `interval` seconds, and
    on inotify events under `folder()` when one is given (then polled every `SAFETY_INTERVAL`)."""

    def __init__(
        self,
        name: str,
        list_files: Callable[[], list[Path]],
        on_change: Callable[[], Awaitable[None]],
        interval: float = 0.5,
        *,
        folder: Callable[[], Path] | None = None,
    ) -> None:
        self.name = name
        self.list_files = list_files
        self.on_change = on_change
        self.interval = interval
        self.folder = folder
        self.last: Signature | None = None
        self._task: asyncio.Task[None] | None = None
        self._notify: asyncio.Task[None] | None = None
        self._notified: Path | None = None  # the folder inotify watches
        self._lock = asyncio.Lock()

    def prime(self) -> None:
        """Record the current state as already loaded (call after the initial load)."""
        self.last = signature(self.list_files())

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"watch-{self.name}")

    async def stop(self) -> None:
        for task in (self._notify, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    @property
    def inotify(self) -> bool:
        """True while inotify watches the folder."""
        return self._notify is not None and not self._notify.done()

    async def _run(self) -> None:
        pause = self.interval
        while True:
            self._follow_folder()
            await asyncio.sleep(max(pause, SAFETY_INTERVAL) if self.inotify else pause)
            try:
                started = time.monotonic()
                await self._check()
                # A huge folder (10,000 certificates) must not cost a core: scan at most 5% of the time.
                pause = max(self.interval, (time.monotonic() - started) * MAX_SCAN_SHARE_INVERSE)
            except asyncio.CancelledError:
                raise
            except Exception:  # a reload bug must not stop watching: log it and keep the last good state
                log.exception("reload of %s failed", self.name)

    async def _check(self) -> None:
        """Scan; `on_change` when the signature changed. One at a time (inotify and the poll both call it)."""
        async with self._lock:
            current = await asyncio.to_thread(lambda: signature(self.list_files()))
            if current != self.last:
                self.last = current
                await self.on_change()

    def _follow_folder(self) -> None:
        """Start inotify on the folder, again when the folder changed (a config reload); a folder where it
        cannot work, or where it stopped, is polled every `interval` until the folder changes."""
        if self.folder is None or self.folder() == self._notified:
            return
        folder = self._notified = self.folder()
        if self._notify is not None:
            self._notify.cancel()
            self._notify = None
        if inotify_sees_everything(folder):
            self._notify = asyncio.get_running_loop().create_task(self._events(folder), name=f"inotify-{self.name}")
        else:
            log.info(
                "%s: %s is missing or not on a local file system: polling every %gs", self.name, folder, self.interval
            )

    async def _events(self, folder: Path) -> None:
        try:
            async for _ in watchfiles.awatch(folder, watch_filter=None, step=INOTIFY_STEP_MS, recursive=True):
                try:
                    await self._check()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("reload of %s failed", self.name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # no inotify instances left, folder gone: the poll carries on alone
            log.warning("%s: inotify on %s stopped (%s): polling every %gs", self.name, folder, exc, self.interval)
