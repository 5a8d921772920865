"""One way of noticing file changes, shared by certificates, rules and the config: a cheap stat poll.

A poll rather than inotify because it follows symlinks (certbot swaps `live/NAME/*.pem` targets on
renewal, which inotify on the link's folder does not see), works the same in every worker process and on
every file system, and costs one `stat` per file per interval in a thread, never on the request path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

log = logging.getLogger("edge.watch")

MAX_SCAN_SHARE_INVERSE = 20  # the pause between scans is at least 20 times the last scan's duration

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


class Watch:
    """Calls `on_change` when the signature of `list_files()` changes; polls every `interval` seconds."""

    def __init__(
        self,
        name: str,
        list_files: Callable[[], list[Path]],
        on_change: Callable[[], Awaitable[None]],
        interval: float = 0.5,
    ) -> None:
        self.name = name
        self.list_files = list_files
        self.on_change = on_change
        self.interval = interval
        self.last: Signature | None = None
        self._task: asyncio.Task[None] | None = None

    def prime(self) -> None:
        """Record the current state as already loaded (call after the initial load)."""
        self.last = signature(self.list_files())

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"watch-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        pause = self.interval
        while True:
            await asyncio.sleep(pause)
            try:
                started = time.monotonic()
                current = await asyncio.to_thread(lambda: signature(self.list_files()))
                # A huge folder (10,000 certificates) must not cost a core: scan at most 5% of the time.
                pause = max(self.interval, (time.monotonic() - started) * MAX_SCAN_SHARE_INVERSE)
                if current != self.last:
                    self.last = current
                    await self.on_change()
            except asyncio.CancelledError:
                raise
            except Exception:  # a reload bug must not stop watching: log it and keep the last good state
                log.exception("reload of %s failed", self.name)
