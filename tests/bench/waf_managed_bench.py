"""Per-request cost of the shipped rule set (`rules/`): µs for a benign and an attack request, head and body.

    .venv/bin/python tests/bench/waf_managed_bench.py [--seconds 1.0] [--paranoia 1]

Like `waf_bench.py`, but with the managed rules instead of generated ones. Each request is evaluated the
way the gateway does it (head phase, then the body phase when the head asks for it), WafState and context
creation included, best of 5 rounds, cycling through 1,000 distinct variants of each request.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from edge.waf import RequestView, WafState, evaluate, load_ruleset

RULES = Path(__file__).resolve().parents[2] / "rules"
HEADERS = [
    "Host: shop.example.test",
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language: en-US,en;q=0.9",
    "Accept-Encoding: gzip, deflate, br",
    "Referer: https://shop.example.test/products",
    "Cookie: session=abc123def456; theme=dark",
]
REQUESTS = {
    "benign GET": ("GET /products/list?page={n}&sort=price&q=blue+shoes+{n}", [], None),
    "benign JSON POST": (
        "POST /api/orders",
        ["Content-Type: application/json"],
        '{{"sku": "A-{n}", "qty": 2, "note": "leave at the door {n}"}}',
    ),
    "attack GET": ("GET /items?id={n}%20OR%201=1&q=%3Cscript%3Ealert({n})%3C/script%3E", [], None),
}
VARIANTS = 1000


def once(ruleset: object, view: RequestView, body: bytes | None, paranoia: int) -> int:
    view.body = None
    state = WafState()
    verdict = evaluate(ruleset, view, phase="head", state=state, paranoia=paranoia, threshold=10**9)  # type: ignore[arg-type]
    if verdict.needs_body:
        view.body = body or b""
        verdict = evaluate(ruleset, view, phase="body", state=state, paranoia=paranoia, threshold=10**9)  # type: ignore[arg-type]
    return len(verdict.matches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument("--paranoia", type=int, default=1, choices=(1, 2, 3, 4))
    args = parser.parse_args()
    ruleset = load_ruleset(RULES)
    print(f"{len(ruleset.rules)} rules from {RULES}, paranoia {args.paranoia}")
    for name, (line, headers, body) in REQUESTS.items():
        items = []
        for n in range(VARIANTS):
            data = body.format(n=n) if body is not None else None
            view = RequestView.from_request_line(line.format(n=n), headers=HEADERS + headers, body=data)
            items.append((view, view.body))
        matches = once(ruleset, *items[0], args.paranoia)
        best = float("inf")
        for _ in range(5):
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < args.seconds / 5:
                for view, data in items[:100]:
                    once(ruleset, view, data, args.paranoia)
                items = items[100:] + items[:100]
                done += 100
            best = min(best, (time.perf_counter() - start) / done * 1e6)
        print(f"  {name:<18} {best:8.1f} µs/request  ({matches} matches)")


if __name__ == "__main__":
    main()
