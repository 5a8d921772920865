"""Parsing of the size and duration notations that edge.toml uses (`10MiB`, `1.5s`, `250ms`)."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB|k|K|M|G)?\s*$")
_SIZE_FACTORS = {
    None: 1,
    "B": 1,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "k": 1024,
    "K": 1024,
    "M": 1024**2,
    "G": 1024**3,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")
_DURATION_FACTORS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_size(value: object) -> int:
    """A byte count from an integer or a string like "10MiB"; ValueError names the accepted units."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 1MiB")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            return int(float(match.group(1)) * _SIZE_FACTORS[match.group(2)])
    raise ValueError(f"expected a size such as 512KiB, 10MiB or 1GiB, got {value!r}")


def parse_duration(value: object) -> float:
    """Seconds from a string like "250ms", "3s", "5m" or "1h" (a bare number is seconds)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 3s")
    if isinstance(value, int | float) and value >= 0:
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _DURATION_FACTORS[match.group(2)]
    raise ValueError(f"expected a duration such as 250ms, 3s, 5m or 1h, got {value!r}")
