"""One format for everything edge writes: JSON lines by default, `[log] format = "text"` for people.

Two streams, as nginx has: the access log (one line per request, `observe.py`, stdout or a file) and the
lifecycle log (start, stop, reloads, problems: Python's `logging`, stderr or a file). uvicorn's own loggers
are routed through the same handler, so a run writes no line of a third shape.

Every line is written with one `write(2)` of at most PIPE_BUF bytes where it can be, so lines of several
workers sharing a pipe (stdout under systemd or Docker) or an O_APPEND file never interleave. Files are
reopened on SIGUSR1 (`reopen_all`), after logrotate moved them away.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from typing import Any

from edge.config import LogConfig

PIPE_BUF = 4096  # writes up to this size to a pipe are atomic (POSIX); O_APPEND file writes are too on Linux

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode

# `logging` attributes that are not extra fields a caller passed with `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class Sink:
    """A file descriptor written with whole `write(2)` calls: stdout, stderr, or a file opened for appending."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.fd = -1
        self.owned = False
        self.open()

    def open(self) -> None:
        if self.target in ("stdout", "stderr"):
            self.fd = 1 if self.target == "stdout" else 2
            self.owned = False
        else:
            self.fd = os.open(self.target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
            self.owned = True

    def reopen(self) -> None:
        """After logrotate renamed the file: write to a new one under the configured name."""
        if self.owned:
            old = self.fd
            self.open()
            with contextlib.suppress(OSError):
                os.close(old)

    def write(self, data: bytes) -> None:
        """Write all of `data`; errors (a closed pipe, a full disk) are swallowed: logging never stops serving."""
        view = memoryview(data)
        with contextlib.suppress(OSError):
            while view:
                written = os.write(self.fd, view)
                view = view[written:]

    def write_lines(self, text: str) -> None:
        """Write newline-ended lines in blocks of at most PIPE_BUF bytes, each ending at a line's end."""
        data = text.encode("utf-8", "replace")
        if len(data) <= PIPE_BUF:
            self.write(data)
            return
        start = 0
        while start < len(data):
            end = start + PIPE_BUF
            if end < len(data):
                cut = data.rfind(b"\n", start, end)
                end = cut + 1 if cut >= start else data.find(b"\n", end) + 1 or len(data)
            self.write(data[start:end])
            start = end

    def close(self) -> None:
        if self.owned:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.owned = False


_SINKS: list[Sink] = []


def open_sink(target: str) -> Sink:
    """A sink that `reopen_all` reopens."""
    sink = Sink(target)
    _SINKS.append(sink)
    return sink


def reopen_all() -> None:
    """SIGUSR1: reopen every log file of this process."""
    for sink in _SINKS:
        sink.reopen()


def timestamp(now: float) -> str:
    """ISO 8601 UTC with milliseconds."""
    seconds = int(now)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((now - seconds) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", "pid", "process", ...extra, "exc"}` on one line."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
            "process": self.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in out:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return _dumps(out)


class TextFormatter(logging.Formatter):
    """`2025-01-01T12:00:00.000Z INFO edge[123 worker 0]: message` for people reading a terminal."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line = f"{timestamp(record.created)} {record.levelname} {record.name}[{record.process} {self.process}]: "
        line += record.getMessage()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class SinkHandler(logging.Handler):
    """A logging handler that writes each record as one line to a `Sink`, at once (nothing buffered)."""

    def __init__(self, sink: Sink) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.write_lines(self.format(record) + "\n")
        except Exception:  # a broken record must not break the caller
            self.handleError(record)


FORMATTERS: dict[str, type[JsonFormatter] | type[TextFormatter]] = {"json": JsonFormatter, "text": TextFormatter}

# uvicorn's loggers: their handlers are removed and their records go to ours (access lines are edge's own).
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def setup(config: LogConfig, process: str) -> None:
    """Send every `logging` record of this process (edge's and uvicorn's) to the lifecycle log, at INFO.

    Called once in the master and again in each worker after fork (`process` names it in every line).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = SinkHandler(_lifecycle_sink(config.error))
    handler.setFormatter(FORMATTERS[config.format](process))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # edge writes its own access lines
    logging.captureWarnings(True)


_lifecycle: dict[str, Sink] = {}


def _lifecycle_sink(target: str) -> Sink:
    """One sink per target per process, so a second `setup` (after fork) reuses the file it has."""
    if target not in _lifecycle:
        _lifecycle[target] = open_sink(target)
    return _lifecycle[target]
