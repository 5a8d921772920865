"""Benchmarks of edge against nginx on the same machine: `make bench` (see `tests/bench/run.py`)."""
