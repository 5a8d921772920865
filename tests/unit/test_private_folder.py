"""The master's private folder (edge/master.py): a later start removes the folder a killed master left, and
nothing else in the temporary directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from edge.master import PrivateFolder


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def folder(parent: Path, name: str, owner: str | None, *, complete: bool = True) -> Path:
    path = parent / name
    path.mkdir()
    if complete:
        (path / "control").mkdir()
        (path / "metrics").mkdir()
    if owner is not None:
        (path / PrivateFolder.OWNER).write_text(owner)
    return path


def test_only_the_folders_of_masters_that_are_gone_are_removed(tmp_path: Path) -> None:
    stale = folder(tmp_path, "edge-stale", str(dead_pid()))
    live = folder(tmp_path, "edge-live", str(os.getppid()))
    foreign = folder(tmp_path, "edge-foreign", None)
    partial = folder(tmp_path, "edge-partial", str(dead_pid()), complete=False)
    garbage = folder(tmp_path, "edge-garbage", "not a pid")
    other = folder(tmp_path, "other-stale", str(dead_pid()))
    assert PrivateFolder.sweep(tmp_path) == [stale]
    assert not stale.exists()
    assert all(path.exists() for path in (live, foreign, partial, garbage, other))


def test_a_new_folder_names_its_master() -> None:
    created = PrivateFolder()
    try:
        assert (created.root / PrivateFolder.OWNER).read_text().strip() == str(os.getpid())
        assert (created.root / "control").is_dir() and (created.root / "metrics").is_dir()
    finally:
        created.remove()


def test_a_folder_whose_workers_still_answer_is_kept(tmp_path: Path) -> None:
    """A master in another PID namespace (a container sharing the temporary directory): its pid looks dead
    from here, but its workers listen on the control sockets."""
    shared = folder(tmp_path, "edge-elsewhere", str(dead_pid()))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(shared / "control" / "worker-0.sock"))
        listener.listen(1)
        assert PrivateFolder.sweep(tmp_path) == []
    assert shared.exists()
    assert PrivateFolder.sweep(tmp_path) == [shared], "once nothing answers, the folder is stale"
