"""edge.watch.Watch: inotify on a folder triggers a scan within a fraction of a second (the poll is then a
slow safety net); without a folder, or on a file system inotify cannot watch, the poll alone notices."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from edge import watch
from edge.watch import Watch, files_in, inotify_sees_everything


async def _changes_after_drop(folder: Path, *, use_folder: bool, wait: float) -> tuple[list[float], bool]:
    seen: list[float] = []

    async def on_change() -> None:
        seen.append(time.monotonic())

    w = Watch("certs", lambda: files_in(folder, (".pem",), depth=1), on_change, interval=0.5)
    if use_folder:
        w.folder = lambda: folder
    w.prime()
    w.start()
    await asyncio.sleep(0.3)  # the watch task starts inotify on its first turn
    active = w.inotify
    started = time.monotonic()
    (folder / "sub").mkdir()
    (folder / "sub" / "new.pem").write_bytes(b"x")
    await asyncio.sleep(wait)
    await w.stop()
    return [t - started for t in seen], active


def test_inotify_notices_a_new_file_in_a_subfolder_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not inotify_sees_everything(tmp_path):
        pytest.skip(f"{tmp_path} is not on a local file system")
    monkeypatch.setattr(watch, "SAFETY_INTERVAL", 60.0)  # only inotify can see it in time
    seen, active = asyncio.run(_changes_after_drop(tmp_path, use_folder=True, wait=1.0))
    assert active, "inotify did not start on a local folder"
    assert len(seen) == 1 and seen[0] < 0.5, seen


def test_without_a_folder_the_poll_notices(tmp_path: Path) -> None:
    seen, active = asyncio.run(_changes_after_drop(tmp_path, use_folder=False, wait=1.5))
    assert not active
    assert len(seen) == 1 and seen[0] < 1.5, seen


def test_missing_or_remote_folders_are_polled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not inotify_sees_everything(tmp_path / "missing")
    mounts = tmp_path / "mounts"
    mounts.write_text(f"server:/export {tmp_path} nfs4 rw 0 0\n")
    real_open = open
    monkeypatch.setattr(
        "builtins.open", lambda path, *a, **k: real_open(mounts if path == "/proc/self/mounts" else path, *a, **k)
    )
    assert not inotify_sees_everything(tmp_path)
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 {tmp_path} xfs rw 0 0\n")
    assert inotify_sees_everything(tmp_path)
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\nsshfs {tmp_path} fuse.sshfs rw 0 0\n")
    assert not inotify_sees_everything(tmp_path)
