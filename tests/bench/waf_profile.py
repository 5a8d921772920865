"""Per-request cost of `evaluate()` with the managed rule set, for WAF engine profiling.

    .venv/bin/python tests/bench/waf_profile.py [--iterations 2000] [--rounds 15] [--cold] [--profile]

Times a benign GET (head phase), an attack GET (head phase) and a urlencoded POST (head, then body phase),
each over 1,000 distinct variants with a fresh `WafState` per request; prints the best of `--rounds` in µs
per request, in process CPU time (the bench machine is shared: wall time mostly measures the neighbours).
Then the inspection of three 1 MiB bodies, best of 3 in ms: a multipart upload of random bytes (a photo), the
same bytes as a PUT, and a text/plain body (budget: 100 ms each).
`--cold` makes every path, argument and cookie value unique (no value repeats, so per-value caches never
hit). `--profile` prints a cProfile of the benign GET instead.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections.abc import Callable
from pathlib import Path

from edge.rules import load_rules
from edge.waf import RequestView, RuleSet, WafState, evaluate

RULES = Path(__file__).resolve().parents[2] / "rules"
HEADERS = [
    ("host", "example.com"),
    (
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    ),
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("accept-language", "en-US,en;q=0.5"),
    ("accept-encoding", "gzip, deflate, br"),
    ("cookie", "session=3f2a9c0e1b; theme=dark"),
    ("referer", "https://example.com/products"),
]
VARIANTS = 1000


def _headers(i: int | None) -> list[tuple[str, str]]:
    if i is None:
        return HEADERS
    return [(k, f"session={i:08x}c0e1b; theme=dark{i}" if k == "cookie" else v) for k, v in HEADERS]


def benign(i: int, cold: int | None = None) -> RequestView:
    n = i if cold is None else cold
    target = f"/products/{n}?page={i % 7 if cold is None else n}&sort=price&q=blue+shoes"
    return RequestView("GET", target, "HTTP/1.1", "example.com", _headers(cold), "203.0.113.7")


def attack(i: int, cold: int | None = None) -> RequestView:
    n = i if cold is None else cold
    target = f"/products/{n}?id={n}%27%20OR%201=1--&sort=price"
    return RequestView("GET", target, "HTTP/1.1", "example.com", _headers(cold), "203.0.113.7")


def post(i: int, cold: int | None = None) -> RequestView:
    n = i if cold is None else cold
    body = f"name=Jane+Doe&email=jane{n}%40example.com&qty={i % 9}&comment=Please+leave+it+at+the+door".encode()
    headers = [
        *_headers(cold),
        ("content-type", "application/x-www-form-urlencoded"),
        ("content-length", str(len(body))),
    ]
    view = RequestView("POST", f"/checkout?step={n % 3}", "HTTP/1.1", "example.com", headers, "203.0.113.7")
    view.body = body
    return view


def head_only(rs: RuleSet, view: RequestView) -> None:
    evaluate(rs, view, phase="head", state=WafState())


def head_and_body(rs: RuleSet, view: RequestView) -> None:
    body, view.body = view.body, None
    state = WafState()
    verdict = evaluate(rs, view, phase="head", state=state)
    view.body = body
    if verdict.needs_body:
        evaluate(rs, view, phase="body", state=state)


def measure(rs: RuleSet, run: Callable[[RuleSet, RequestView], None], views: list[RequestView], n: int) -> float:
    count = len(views)
    start = time.process_time()
    for i in range(n):
        run(rs, views[i % count])
    return (time.process_time() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--cold", action="store_true", help="no value repeats across requests")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    state, problems = load_rules(RULES)
    if state is None:
        raise SystemExit("\n".join(problems))
    rs = state.ruleset
    print(f"{len(rs.rules)} rules from {RULES}")
    total = args.iterations * (args.rounds + 1) + VARIANTS if args.cold else VARIANTS
    cases = [
        (name, run, [make(i, 10**7 + i if args.cold else None) for i in range(total)])
        for name, run, make in (
            ("benign GET", head_only, benign),
            ("attack GET", head_only, attack),
            ("POST form body", head_and_body, post),
        )
    ]
    if args.profile:
        run, views = cases[0][1], cases[0][2]
        measure(rs, run, views[:VARIANTS], VARIANTS)
        profiler = cProfile.Profile()
        profiler.runcall(measure, rs, run, views[VARIANTS:] or views, args.iterations)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    for name, run, views in cases:
        measure(rs, run, views[:VARIANTS], VARIANTS)  # warm up (with --cold, on values not used again)
        rest = views[VARIANTS:] or views
        best = float("inf")
        for r in range(args.rounds):
            chunk = rest[r * args.iterations : (r + 1) * args.iterations] if args.cold else rest
            best = min(best, measure(rs, run, chunk, args.iterations))
        print(f"  {name:<15} {best:8.1f} µs/request")
    big_bodies(rs)


def big_bodies(rs: RuleSet) -> None:
    """The inspection cost of 1 MiB bodies (best of 3, ms of process CPU time)."""
    photo = os.urandom(1 << 20)
    multipart = (
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nholiday\r\n--b\r\nContent-Disposition: '
        b'form-data; name="file"; filename="IMG_0001.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        + photo
        + b"\r\n--b--\r\n"
    )
    text = (b"Lorem ipsum dolor sit amet, consectetur adipiscing elit; sed do eiusmod tempor. " * 13000)[: 1 << 20]
    for name, line, kind, body in (
        ("1 MiB multipart upload", "POST /upload", "multipart/form-data; boundary=b", multipart),
        ("1 MiB PUT (binary)", "PUT /dav/IMG_0001.jpg", "image/jpeg", photo),
        ("1 MiB text/plain", "POST /notes", "text/plain; charset=utf-8", text),
    ):
        best = float("inf")
        for _ in range(3):
            view = RequestView.from_request_line(line, headers={"Host": "example.com", "Content-Type": kind}, body=body)
            start = time.process_time()
            head_and_body(rs, view)
            best = min(best, time.process_time() - start)
        print(f"  {name:<24} {best * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
