"""WAF micro-benchmark: µs per request for a benign and an attack request, at 10, 100 and 1,000 rules.

    .venv/bin/python tests/bench/waf_bench.py [--seconds 1.0]

Rules are generated: mostly `matches` on a few transformed fields (the shape of a managed rule set), plus
a few cheap non-regex rules (method, sizes) and libinjection detectors, in score mode. Prints one line per
(rules, request): microseconds per request for the head phase, WafState and context creation included,
best of 5 rounds, cycling through 1,000 distinct requests of each kind.
"""

from __future__ import annotations

import argparse
import random
import time

from edge.waf import RequestView, WafState, build_ruleset, evaluate

SOURCES = (
    'any(lower(url_decode(http.request.uri.args.values[*])) matches r#"{p}"#)',
    'lower(url_decode(http.request.uri.path)) matches r#"{p}"#',
    'lower(http.user_agent) matches r#"{p}"#',
    'any(lower(url_decode(http.request.uri.args.names[*])) matches r#"{p}"#)',
    'any(lower(http.request.headers.values[*]) matches r#"{p}"#)',
    'any(lower(url_decode(http.request.cookies["session"][*])) contains "{w}")',
)
FIXED = (
    'http.request.method in {"TRACE" "TRACK" "DEBUG"}',
    "len(http.request.uri.args.names) gt 255",
    "any(sqli(url_decode(http.request.uri.args.values[*])))",
    "any(xss(url_decode(http.request.uri.args.values[*])))",
    'http.request.uri.path contains "/../"',
)
WORDS = ["union", "select", "insert", "script", "alert", "onerror", "passwd", "exec", "eval", "sleep", "bench", "cmd"]


def rules_toml(count: int, seed: int = 7, detectors: bool = True) -> str:
    rnd = random.Random(seed)
    fixed = FIXED if detectors else tuple(e for e in FIXED if "sqli(" not in e and "xss(" not in e)
    out = []
    for i in range(count):
        if i < len(fixed):
            expr = fixed[i]
        else:
            a, b, c = rnd.sample(WORDS, 3)
            pattern = rf"\b(?:{a}|{b})\s*[(=]\s*{c}{i}\b"
            expr = SOURCES[i % len(SOURCES)].format(p=pattern, w=f"{a}{i}{c}")
        out.append(f"[[rule]]\nid = \"r{i}\"\nexpr = '''{expr}'''\naction = \"score\"\nscore = 5\n")
    out.append("[[rule]]\nid = \"tautology\"\nexpr = '''any(lower(url_decode(http.request.uri.args.values[*]))")
    out.append(' matches r"\\b(or|and)\\b\\s+\\d+\\s*=\\s*\\d+")\'\'\'\naction = "score"\nscore = 5\n')
    return "\n".join(out)


HEADERS = {
    "Host": "shop.example.test",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
    "Accept-Encoding": "gzip, deflate, br",
    "Referer": "https://shop.example.test/products",
    "Cookie": "session=abc123def456; theme=dark",
}
REQUESTS = {
    "benign": "GET /products/list?page={n}&sort=price&q=blue+shoes+{n}",
    "attack": "GET /items?id={n}%20OR%201=1&q=%3Cscript%3Ealert({n})%3C/script%3E",
}
VARIANTS = 1000  # distinct requests per kind, so that no per-value cache sees only one value


def bench(count: int, seconds: float, rounds: int = 5, detectors: bool = True) -> dict[str, float]:
    """Best µs per request of `evaluate` for each of REQUESTS with `count` generated rules; prints a line each."""
    ruleset = build_ruleset([("bench.toml", rules_toml(count, detectors=detectors))])
    figures: dict[str, float] = {}
    for name, line in REQUESTS.items():
        views = [RequestView.from_request_line(line.format(n=n), headers=HEADERS) for n in range(VARIANTS)]
        verdict = evaluate(ruleset, views[0], phase="head", state=WafState(), threshold=10**9)
        best = float("inf")
        for _ in range(rounds):
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / rounds:
                for view in views[:100]:
                    evaluate(ruleset, view, phase="head", state=WafState(), threshold=10**9)
                views = views[100:] + views[:100]
                done += 100
            best = min(best, (time.perf_counter() - start) / done * 1e6)
        print(f"{count:>5} rules  {name:<7} {best:8.1f} µs/request  ({len(verdict.matches)} matches)")
        figures[name] = round(best, 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument("--no-detectors", action="store_true", help="leave out the two sqli()/xss() rules")
    args = parser.parse_args()
    for count in (10, 100, 1000):
        bench(count, args.seconds, detectors=not args.no_detectors)


if __name__ == "__main__":
    main()
