"""Rule files: loading, every kind of problem reported at once with file:line(:col), embedded tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.waf import RuleSetError, build_ruleset, load_ruleset, run_tests
from edge.waf.errors import RuleError

DATA = Path(__file__).parent / "data"


def problems(text: str, name: str = "rules/t.toml") -> list[RuleError]:
    with pytest.raises(RuleSetError) as info:
        build_ruleset([(name, text)])
    return info.value.problems


def test_example_file_loads_and_its_tests_pass() -> None:
    ruleset = load_ruleset(DATA)
    assert [r.id for r in ruleset.rules] == ["sqli-tautology", "admin-from-office-only", "allow-upload-api-bodies",
                                             "xss-body"]  # fmt: skip
    assert [r.id for r in ruleset.ratelimits] == ["login"]
    assert ruleset.rules[3].compiled.phase == "body"
    assert ruleset.lists["office"] == ("192.0.2.0/24", "2001:db8::/32")
    assert run_tests(ruleset) == []
    assert len(ruleset.fingerprint) == 64
    assert load_ruleset(DATA).fingerprint == ruleset.fingerprint


def test_files_load_in_name_order_and_ids_are_unique_across_files(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text('[[rule]]\nid = "x"\nexpr = "ssl"\naction = "log"\n')
    (tmp_path / "a.toml").write_text('[[rule]]\nid = "y"\nexpr = "ssl"\naction = "log"\n')
    (tmp_path / "notes.txt").write_text("ignored")
    assert [r.id for r in load_ruleset(tmp_path).rules] == ["y", "x"]
    (tmp_path / "c.toml").write_text('\n[[rule]]\nid = "x"\nexpr = "ssl"\naction = "log"\n')
    with pytest.raises(RuleSetError) as info:
        load_ruleset(tmp_path)
    (problem,) = info.value.problems
    assert str(problem).startswith(f"{tmp_path / 'c.toml'}:3:1: duplicate rule id 'x' (first defined at ")


def test_missing_folder() -> None:
    with pytest.raises(RuleSetError, match="rules folder not found"):
        load_ruleset("/nonexistent/rules")


def test_all_problems_are_reported_together() -> None:
    text = """
[[rule]]
id = "a"
expr = 'http.hots eq "x"'
action = "block"
scroe = 5

[[rule]]
id = "b"
expr = "ssl"
action = "blok"

[[ratelimit]]
id = "r"
expr = "ssl"
limit = "5 per fortnight"

[rulez]
x = 1
"""
    found = [str(p) for p in problems(text)]
    assert found == [
        "rules/t.toml:6:1: unknown key 'scroe' in [[rule]]; did you mean 'score'?",
        "rules/t.toml:11:1: action must be one of block, score, log, allow, skip; did you mean 'block'?",
        "rules/t.toml:16:1: invalid limit '5 per fortnight': no granularity matched for fortnight;"
        ' write e.g. "10/second;300/hour"',
        "rules/t.toml:18:1: unknown table 'rulez'; did you mean 'rule'?",
    ]


def test_expression_errors_point_into_the_file() -> None:
    text = '[[rule]]\nid = "a"\naction = "log"\nexpr = \'ssl and http.hots eq "x"\'\n'
    (problem,) = problems(text)
    assert str(problem) == "rules/t.toml:4:17: unknown field 'http.hots'; did you mean 'http.host'?"


def test_multiline_expression_errors_point_at_the_right_line() -> None:
    text = "[[rule]]\nid = \"a\"\naction = \"log\"\nexpr = '''\nssl and\n  lower(http.host) eq 1\n'''\n"
    (problem,) = problems(text)
    assert str(problem) == "rules/t.toml:6:23: cannot compare a String with an Int"


def test_types_and_required_keys() -> None:
    text = '[[rule]]\nid = 5\nexpr = "ssl"\naction = "log"\n[[rule]]\naction = "log"\n'
    assert [str(p) for p in problems(text)] == [
        "rules/t.toml:2:6: 'id' must be a string",
        "rules/t.toml:5:1: [[rule]] is missing 'id'",
        "rules/t.toml:5:1: [[rule]] is missing 'expr'",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('action = "score"', "a score rule needs score = N"),
        ('action = "block"\nstatus = 99', "status must be an HTTP status"),
        ('action = "log"\nparanoia = 5', "paranoia must be 1..4"),
        ('action = "skip"', "a skip rule needs skip = [rule ids or tags]"),
        (
            'action = "skip"\nskip = ["sqly"]\ntags = ["sqli"]',
            "skip names no rule id or tag 'sqly'; did you mean 'sqli'?",
        ),
        ('action = "log"\ntags = [1]', "tags must be strings"),
        ('action = "log"\nscore = true', "'score' must be an integer"),
    ],
)
def test_rule_value_checks(body: str, message: str) -> None:
    text = f'[[rule]]\nid = "a"\nexpr = "ssl"\n{body}\n'
    assert any(message in p.message for p in problems(text)), problems(text)


def test_invalid_toml_names_line_and_column() -> None:
    (problem,) = problems('[[rule]]\nid = "a\n')
    assert problem.line == 2 and problem.message.startswith("invalid TOML")


def test_unknown_test_key_and_bad_ids() -> None:
    text = (
        '[[rule]]\nid = "bad id"\nexpr = "ssl"\naction = "log"\n  [[rule.test]]\n  request = "GET /"\n  mach = true\n'
    )
    assert [str(p) for p in problems(text)] == [
        "rules/t.toml:2:1: id 'bad id' must be letters, digits and _ . : -",
        "rules/t.toml:7:3: unknown key 'mach' in [[rule.test]]; did you mean 'match'?",
    ]


def test_ratelimit_checks() -> None:
    text = """[[ratelimit]]
id = "r"
expr = 'http.request.body.size gt 0'
limit = "5/minute"
[[ratelimit]]
id = "k"
expr = "ssl"
limit = "5/minute"
key = 'http.hots'
[[ratelimit]]
id = "n"
expr = "ssl"
"""
    assert [str(p) for p in problems(text)] == [
        "rules/t.toml:3:1: rate limits run before the body is read: the expression cannot read http.request.body.*",
        "rules/t.toml:9:8: unknown field 'http.hots'; did you mean 'http.host'?",
        'rules/t.toml:10:1: a rate limit needs limit = "N/second|minute|hour|day"',
    ]


def test_lists_are_checked() -> None:
    text = '[lists]\nbad = "x"\nips = ["10.0.0.0/8"]\n[[rule]]\nid = "a"\nexpr = "ip.src in $ips"\naction = "log"\n'
    assert [str(p) for p in problems(text)] == ["rules/t.toml:2:1: list 'bad' must be an array of strings or integers"]


def test_failing_embedded_tests_are_reported() -> None:
    text = """[[rule]]
id = "a"
expr = 'http.request.uri.path eq "/x"'
action = "block"
  [[rule.test]]
  request = "GET /x"
  [[rule.test]]
  request = "GET /y"
  match = true
  [[rule.test]]
  request = "GET /x"
  match = false
"""
    failures = run_tests(build_ruleset([("t.toml", text)]))
    assert [str(f) for f in failures] == [
        "t.toml:7: rule 'a' test 2 ('GET /y'): expected match, it did not match",
        "t.toml:10: rule 'a' test 3 ('GET /x'): expected no match, it matched",
    ]


RATE_TEXT = """
[[rule]]
id = "office"
expr = 'ip.src in {192.0.2.0/24}'
action = "allow"
  [[rule.test]]
  request = "GET /"
  ip = "192.0.2.9"
  [[rule.test]]
  request = "GET /"
  match = false

[[ratelimit]]
id = "login"
expr = 'http.request.uri.path eq "/login"'
limit = "5/minute"
key = 'concat(to_string(ip.src), ":", http.request.method)'
  [[ratelimit.test]]
  request = "POST /login"
  ip = "198.51.100.4"
  key = "198.51.100.4:POST"
  [[ratelimit.test]]
  request = "GET /other"
  match = false
  [[ratelimit.test]]
  request = "GET /login"
  key = "wrong"
  [[ratelimit.test]]
  request = "GET /other"
"""


def test_tests_carry_a_client_address_and_rate_limits_carry_tests() -> None:
    ruleset = build_ruleset([("t.toml", RATE_TEXT)])
    assert ruleset.rules[0].tests[0].ip == "192.0.2.9"
    (limit,) = ruleset.ratelimits
    assert [(t.match, t.key) for t in limit.tests] == [
        (True, "198.51.100.4:POST"),
        (False, None),
        (True, "wrong"),
        (True, None),
    ]
    assert [str(f) for f in run_tests(ruleset)] == [
        "t.toml:25: rate limit 'login' test 3 ('GET /login'): expected key 'wrong', got '127.0.0.1:GET'",
        "t.toml:28: rate limit 'login' test 4 ('GET /other'): expected the request to be counted, it was not",
    ]


def test_a_test_ip_must_be_an_address_and_ratelimit_tests_check_their_keys() -> None:
    text = RATE_TEXT.replace('ip = "192.0.2.9"', 'ip = "office"').replace('key = "wrong"', 'kee = "wrong"')
    with pytest.raises(RuleSetError) as info:
        build_ruleset([("t.toml", text)])
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith("t.toml:8:") and "ip 'office' is not an IP address" in m for m in messages), messages
    assert any("unknown key 'kee' in [[ratelimit.test]]; did you mean 'key'?" in m for m in messages), messages
