"""Scan the certificate folder into an immutable, indexed snapshot (CONTRACT section 3).

`load_store` never raises for bad content: every file, key or certificate that cannot be served becomes
an inventory row and a problem, and everything else is still served. The watcher builds a new store on
each change and swaps one reference; a handshake reads whichever snapshot it finds.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from edge.tls.choice import Choice, build_index, lookup
from edge.tls.entries import CertEntry, InventoryRow
from edge.tls.pairing import Servable, ServableCache, ServableKey, pair_folder
from edge.tls.pemfile import FileContents, UnreadableFile, parse_bytes

__all__ = ["CertEntry", "CertStore", "InventoryRow", "format_table", "load_store"]

SUFFIXES = frozenset({".pem", ".crt", ".cer", ".key"})
DEV_CA_FOLDER = "dev-ca"  # written by `edge certs dev`; a CA is never served


@dataclass(frozen=True, slots=True)
class CertStore:
    """One snapshot of the certificate folder. Immutable; safe to share across threads and handshakes."""

    folder: Path
    loaded_at: datetime
    entries: tuple[CertEntry, ...]
    rows: tuple[InventoryRow, ...]
    problems: tuple[tuple[str, str], ...]  # (path, message) for everything not servable
    fingerprint: str  # equal for equal served content and choice; changes when any served byte changes
    next_change: datetime | None = None  # earliest not-before/not-after after loaded_at: reload then to re-rank
    exact: Mapping[str, Choice] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    wildcard: Mapping[str, Choice] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    def choose(self, server_name: str | None) -> Choice:
        """The entries to serve for `server_name`, at most one per key family, best first.

        () when nothing covers the name, and for None or "" (no SNI): the caller decides on a default.
        O(1) in the number of certificates.
        """
        return lookup(self.exact, self.wildcard, server_name)

    def names(self) -> frozenset[str]:
        """Every name served: exact host names and `*.parent` wildcards."""
        return frozenset(self.exact) | frozenset(f"*.{parent}" for parent in self.wildcard)


def load_store(folder: Path, *, key_password: bytes | None = None, now: datetime | None = None) -> CertStore:
    """Read every certificate file under `folder` (and its direct subfolders) into a CertStore.

    `now` (default: the current time; a naive value is taken as UTC) decides validity for the choice and
    the states.
    Never raises for bad files or a missing folder: those become rows and problems.
    """
    now = datetime.now(UTC) if now is None else now if now.tzinfo else now.replace(tzinfo=UTC)
    cache = _ParseCache(_last_parsed)
    servables = ServableCache(_last_servables)
    rows: list[InventoryRow] = []
    servable: list[Servable] = []
    for names in _scan(folder, rows):
        parsed: list[tuple[str, FileContents]] = []
        for name in names:
            try:
                parsed.append((name, cache.read(folder / name, key_password)))
            except UnreadableFile as exc:
                rows.append(InventoryRow((name,), (), "", "", None, f"unreadable: {exc}"))
        result = pair_folder(folder, parsed, servables)
        servable.extend(result.servable)
        rows.extend(result.rows)
    unique: dict[str, Servable] = {}
    for item in servable:
        first = unique.setdefault(item.entry.id, item)
        if first is not item:
            rows.append(_row(item, "shadowed", f"duplicate of {first.files[0]}"))
    entries = tuple(item.entry for item in unique.values())
    _last_parsed.clear()
    _last_parsed.update(cache.fresh)
    _last_servables.clear()
    _last_servables.update(servables.fresh)
    exact, wildcard = build_index(entries, now)
    rows.extend(_entry_rows(list(unique.values()), exact, wildcard, folder, now))
    rows.sort(key=lambda row: (row.files, row.state))
    return CertStore(
        folder=folder,
        loaded_at=now,
        entries=entries,
        rows=tuple(rows),
        problems=tuple(_problem(folder, row) for row in rows if row.is_problem),
        fingerprint=_fingerprint(entries, exact, wildcard),
        next_change=min((t for e in entries for t in (e.not_before, e.not_after) if t > now), default=None),
        exact=MappingProxyType(exact),
        wildcard=MappingProxyType(wildcard),
    )


ParseResult = FileContents | UnreadableFile
FileStamp = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device (symlinks followed)
_last_parsed: dict[tuple[str, bytes | None], tuple[FileStamp, bytes, ParseResult]] = {}
_last_servables: dict[ServableKey, Servable] = {}


class _ParseCache:
    """Parses each file once per content, and reads it only when its stat changed: a reload of a folder of
    10,000 certificates in which one file changed stats every file, and reads and parses only that one
    (parsing costs about 0.2-1 ms a file with cryptography). A file whose stat changed but whose bytes did
    not (touched, copied over itself) is read and hashed, not parsed again. The ctime cannot be set from
    user space, so a rewrite that keeps size and mtime is still seen."""

    def __init__(self, previous: dict[tuple[str, bytes | None], tuple[FileStamp, bytes, ParseResult]]) -> None:
        self.previous = dict(previous)
        self.fresh: dict[tuple[str, bytes | None], tuple[FileStamp, bytes, ParseResult]] = {}

    def read(self, path: Path, key_password: bytes | None) -> FileContents:
        key = (str(path), key_password)
        known = self.previous.get(key)
        try:
            st = os.stat(path)
            stamp = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
            if known is not None and known[0] == stamp:
                self.fresh[key] = known
                return _result(known[2])
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from None
        digest = hashlib.sha256(data).digest()
        if known is not None and known[1] == digest:
            result = known[2]
        else:
            try:
                result = parse_bytes(data, key_password)
            except UnreadableFile as exc:
                result = exc
        self.fresh[key] = (stamp, digest, result)
        return _result(result)


def _result(result: ParseResult) -> FileContents:
    if isinstance(result, UnreadableFile):
        raise result
    return result


def _scan(folder: Path, rows: list[InventoryRow]) -> Iterator[list[str]]:
    """Yield the sorted relative file names of the folder itself, then of each direct subfolder.

    Hidden entries are skipped (Kubernetes' `..data` twin of a mounted secret, editors' temp files, our
    own atomic-write temp files), and so is `dev-ca`. Symlinks are followed. `os.scandir`, not pathlib:
    this runs over 10,000 names on every reload.
    """
    try:
        children = sorted(os.scandir(folder), key=lambda child: child.name)
    except OSError as exc:
        rows.append(InventoryRow((str(folder),), (), "", "", None, f"unreadable: {exc.strerror or exc}"))
        return
    yield [child.name for child in children if _is_cert_file(child)]
    for sub in children:
        if sub.name.startswith(".") or sub.name == DEV_CA_FOLDER or not _is_dir(sub):
            continue
        try:
            inner = sorted(os.scandir(sub.path), key=lambda child: child.name)
        except OSError as exc:
            rows.append(InventoryRow((sub.name,), (), "", "", None, f"unreadable: {exc.strerror or exc}"))
            continue
        yield [f"{sub.name}/{child.name}" for child in inner if _is_cert_file(child)]


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows symlinks
    except OSError:
        return False


def _is_cert_file(entry: os.DirEntry[str]) -> bool:
    # A dangling symlink still counts: it is reported unreadable instead of silently vanishing.
    name = entry.name
    if name.startswith(".") or os.path.splitext(name)[1].lower() not in SUFFIXES:
        return False
    try:
        return entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path))
    except OSError:
        return False


def _entry_rows(
    items: list[Servable], exact: Mapping[str, Choice], wildcard: Mapping[str, Choice], folder: Path, now: datetime
) -> Iterator[InventoryRow]:
    chosen = {entry.id for choice in (*exact.values(), *wildcard.values()) for entry in choice}
    for item in items:
        entry = item.entry
        served = entry.id in chosen
        if not entry.is_valid(now):
            state = "expired" if now > entry.not_after else "not-yet-valid"
            note = "served: nothing valid covers its names" if served else "not served: a better certificate covers it"
        elif served:
            state, note = "served", ""
        else:
            state, note = "shadowed", _shadow_note(entry, exact, wildcard, folder)
        yield _row(item, state, "; ".join(n for n in (note, item.note) if n))


def _shadow_note(entry: CertEntry, exact: Mapping[str, Choice], wildcard: Mapping[str, Choice], folder: Path) -> str:
    if not entry.names:
        return "no DNS names to serve"
    name = entry.names[0]
    winners = wildcard.get(name[2:], ()) if name.startswith("*.") else exact.get(name, ())
    winner = next((w for w in winners if w.key_family == entry.key_family), winners[0] if winners else None)
    if winner is None:
        return ""
    return f"{name} is served by {winner.cert_file.relative_to(folder).as_posix()}"


def _row(item: Servable, state: str, note: str) -> InventoryRow:
    entry = item.entry
    return InventoryRow(item.files, entry.names, entry.key_type, item.issuer, entry.not_after, state, note)


def _problem(folder: Path, row: InventoryRow) -> tuple[str, str]:
    message = f"{row.state}: {row.note}" if row.note else row.state
    return str(folder / row.files[0]), message


def _fingerprint(entries: tuple[CertEntry, ...], exact: Mapping[str, Choice], wildcard: Mapping[str, Choice]) -> str:
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.id):
        digest.update(entry.id.encode())
        digest.update(hashlib.sha256(entry.chain_pem + entry.key_pem).digest())
    for kind, index in ((b"=", exact), (b"*", wildcard)):
        for name in sorted(index):
            digest.update(kind + name.encode() + b":" + ",".join(e.id for e in index[name]).encode() + b";")
    return digest.hexdigest()


def format_table(store: CertStore) -> str:
    """The `edge certs` table: one row per line, columns aligned, a NOTE column last."""
    return format_rows(store.rows)


def format_rows(rows: Sequence[InventoryRow]) -> str:
    """`format_table` for rows from anywhere (a folder scan, or a running gateway's admin `/certs`)."""
    header = ("FILE(S)", "NAMES", "KEY", "ISSUER", "NOT-AFTER", "STATE", "NOTE")
    lines = [header] + [
        (
            ",".join(row.files),
            _names_cell(row.names),
            row.key_type or "-",
            row.issuer or "-",
            row.not_after.strftime("%Y-%m-%d %H:%MZ") if row.not_after else "-",
            row.state,
            row.note,
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)] + [0]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _names_cell(names: tuple[str, ...], shown: int = 4) -> str:
    if not names:
        return "-"
    more = f" (+{len(names) - shown})" if len(names) > shown else ""
    return ",".join(names[:shown]) + more


def keep_last_good(previous: CertStore, current: CertStore) -> CertStore:
    """`current`, plus the entries of `previous` whose files are now unreadable or mismatched.

    This is the promise that no mistake in a file takes a working site down: a half-written PEM, a
    certificate replaced without its key or a key replaced by the wrong one keeps the last good version
    in service (its row says so) until the file parses and pairs again. Deleted files are not kept.
    """
    broken = {current.folder / name for row in current.rows if row.is_problem for name in row.files}
    have = {entry.id for entry in current.entries}
    carried = [
        entry
        for entry in previous.entries
        if entry.id not in have and (entry.cert_file in broken or entry.key_file in broken)
    ]
    if not carried:
        return current
    entries = current.entries + tuple(carried)
    exact, wildcard = build_index(entries, current.loaded_at)
    kept_rows = tuple(
        InventoryRow(
            (entry.cert_file.relative_to(current.folder).as_posix(),),
            entry.names,
            entry.key_type,
            entry.issuer,
            entry.not_after,
            "served",
            "last good version: the file on disk is broken now (see its row)",
        )
        for entry in carried
    )
    return CertStore(
        folder=current.folder,
        loaded_at=current.loaded_at,
        entries=entries,
        rows=tuple(sorted(current.rows + kept_rows, key=lambda row: (row.files, row.state))),
        problems=current.problems,
        fingerprint=_fingerprint(entries, exact, wildcard),
        next_change=current.next_change,
        exact=MappingProxyType(exact),
        wildcard=MappingProxyType(wildcard),
    )
