"""From the rest of a URL path below a static prefix to an open file inside the prefix's folder, or nothing.

Two steps, each refusing what could lead out of the folder:

`decode` turns the still percent-encoded rest of the path into file names. The gateway's head phase has
already normalised the path (urlnorm.py: `%2e%2e` decoded and `..` resolved, `\\` made `/`, `//` merged),
so what is left to refuse is what that normalisation keeps encoded on purpose: `%2F` and `%5C` never
become separators here either (a file name cannot hold `/`, and `\\` is a separator on Windows and to some
tools), `%00` is a NUL that no file name holds. Any such path is not found. `.` and `..` segments cannot
survive normalisation; they are refused anyway, so that this module does not depend on it.

`open_inside` opens the file and checks that what was opened lies in the folder. The rule is Starlette's
StaticFiles (with its default `follow_symlink=False`): the path's real path, all symlinks resolved, must be
inside the folder's real path. So symlinks that stay inside the folder are followed, and a symlink that
points outside it is not found (one whose target, all links followed, lands back inside is served). Starlette calls `os.path.realpath`,
which lstat()s every component of the whole path, the folder's own ancestors included: 17 µs for a file
one level down on this machine, more than opening and reading it. The folder's real path is known when the
config loads, so here only the components below it are looked at: an lstat per subfolder, and the last
component opened with O_NOFOLLOW. Only when a symlink is met does the full `realpath` run. Files are
opened with O_NONBLOCK, so that a FIFO in the folder cannot stall the event loop (it is then refused for
not being a regular file, as devices and sockets are).

Dotfiles are served like any other file: the operator chose what is in the folder, and a rule that hides
`.well-known/` would break ACME and security.txt. Keep secrets out of static folders.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_SYMLINK_ERRNOS = frozenset({errno.ELOOP, errno.EMLINK})  # O_NOFOLLOW met a symlink (EMLINK on FreeBSD)
_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG})
_NOT_NAMES = frozenset({"", ".", ".."})


@dataclass(slots=True)
class OpenFile:
    """A file or folder opened for the static phase; the caller closes it."""

    fd: int
    stat: os.stat_result
    path: str  # its real path, inside the folder

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.stat.st_mode)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.stat.st_mode)

    def close(self) -> None:
        os.close(self.fd)


def decode(rest: str | None) -> tuple[list[str], bool] | None:
    """The file names of the path below the prefix and whether it ends in `/`; None when it must not be served.

    `rest` is the normalised path after the prefix, as the gateway keeps it (latin-1 of the bytes); None
    stands for the prefix without its trailing slash (`/assets` for `/assets/`). The path is split on `/`
    before anything is decoded, so an escape can only ever be part of one name.
    """
    if rest is None:
        return [], False
    names = rest.split("/")
    slash = names[-1] == ""
    if slash:
        names.pop()
    for index, name in enumerate(names):
        if "%" in name or not name.isascii():  # raw UTF-8 bytes arrive as latin-1 characters
            name = names[index] = os.fsdecode(unquote_to_bytes(name.encode("latin-1")))
        if name in _NOT_NAMES or "/" in name or "\\" in name or "\0" in name:
            return None
    return names, slash


def open_inside(root: str, names: list[str]) -> OpenFile | None:
    """Open `root/names...` when its real path is inside `root` (a real path); None when it is not, or missing.

    Errors other than "not there" (EACCES, EIO) are raised for the caller to log.
    """
    path = root
    for name in names[:-1]:
        path = f"{path}/{name}"
        try:
            mode = os.lstat(path).st_mode
        except OSError as exc:
            if exc.errno in _MISSING_ERRNOS:
                return None
            raise
        if stat.S_ISLNK(mode):
            return _open_resolved(root, "/".join([root, *names]))
    return open_beside(root, f"{path}/{names[-1]}" if names else root)


def open_beside(root: str, path: str) -> OpenFile | None:
    """Open `path`, whose folders are real and inside `root`: only its last component may be a symlink.

    For an index.html in a folder already opened, and for the `.br` / `.gz` sibling of a file.
    """
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno in _SYMLINK_ERRNOS:
            return _open_resolved(root, path)
        if exc.errno in _MISSING_ERRNOS:
            return None
        raise
    return OpenFile(fd, os.fstat(fd), path)


def exists_beside(path: str) -> bool:
    """Whether anything is at `path` (a symlink counts, even a dangling one): enough to send Vary."""
    try:
        os.lstat(path)
    except OSError:
        return False
    return True


def inside(root: str, real: str) -> bool:
    """`real` is `root` or below it; both are real paths."""
    return real == root or real.startswith(root if root.endswith("/") else root + "/")


def _open_resolved(root: str, path: str) -> OpenFile | None:
    """The slow path, for a symlink: resolve every link, refuse a result outside `root`, open what is left."""
    real = os.path.realpath(path)
    if not inside(root, real):
        return None
    try:
        fd = os.open(real, _FLAGS)  # O_NOFOLLOW still: a link swapped in since realpath is refused
    except OSError as exc:
        if exc.errno in _MISSING_ERRNOS or exc.errno in _SYMLINK_ERRNOS:
            return None
        raise
    return OpenFile(fd, os.fstat(fd), real)
