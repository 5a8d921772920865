"""The WAF on the command line: `edge check` on rule files, `edge rules test`, `edge rules explain`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .harness import EDGE_CMD, DemoOrigin, Pki


def edge(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """Run the `edge` console script; the exit code, stdout and stderr."""
    result = subprocess.run([*EDGE_CMD, *args], capture_output=True, timeout=60, cwd=cwd, stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


CONFIG = """\
[server]
https = "127.0.0.1:8443"

[tls]
certs = "certs"
default = "localhost"

[waf]
rules = "rules"
anomaly_threshold = {threshold}

[[site]]
hosts = ["localhost"]
origins = ["{origin}"]
"""

GOOD = """\
[lists]
office = ["192.0.2.0/24", "2001:db8::/32"]

[[rule]]
id = "ua-sqlmap"
expr = 'lower(http.user_agent) contains "sqlmap"'
action = "score"
score = 3
tags = ["scanner"]
  [[rule.test]]
  request = "GET /"
  headers = { "User-Agent" = "sqlmap/1.7" }
  match = true
  [[rule.test]]
  request = "GET /"
  headers = { "User-Agent" = "Mozilla/5.0" }
  match = false

[[rule]]
id = "arg-one"
expr = 'any(url_decode(http.request.uri.args.values[*]) eq "1")'
action = "score"
score = 3
  [[rule.test]]
  request = "GET /x?q=%31"
  match = true

[[rule]]
id = "admin-office"
expr = 'starts_with(http.request.uri.path, "/admin") and not ip.src in $office'
action = "block"

[[rule]]
id = "form-a"
expr = 'any(http.request.body.form.names[*] eq "a")'
action = "log"
"""


@pytest.fixture
def project(tmp_path: Path, pki: Pki, origin_a: DemoOrigin) -> Path:
    """edge.toml (origin: the demo origin `alpha`), a certificate for localhost, an empty rules/ folder."""
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "localhost.pem").write_bytes(pki.pem(("localhost",)))
    (tmp_path / "rules").mkdir()
    (tmp_path / "edge.toml").write_text(CONFIG.format(threshold=5, origin=origin_a.url))
    return tmp_path.resolve()


def rules(project: Path, **files: str) -> dict[str, Path]:
    """Write rule files (`name_toml="..."` -> rules/name.toml); their paths."""
    paths = {}
    for name, text in files.items():
        path = project / "rules" / (name.removesuffix("_toml") + ".toml")
        path.write_text(text)
        paths[name] = path
    return paths


def check(project: Path) -> tuple[int, list[str]]:
    code, out, err = edge("check", "-c", str(project / "edge.toml"))
    return code, (out + err).splitlines()


# --- edge check ---------------------------------------------------------------------------------------------------


def test_check_good_rules(project: Path) -> None:
    rules(project, r10_good_toml=GOOD)
    code, lines = check(project)
    assert code == 0, lines
    assert lines == [
        f"{project / 'edge.toml'}: ok (1 site(s), 1 certificate(s), 4 rule(s) with 3 passing test(s), 0 rate limit(s))"
    ]


RULE = '[[rule]]\nid = "a"\nexpr = {expr}\naction = "block"\n'

BROKEN = {
    "unknown-field": (
        RULE.format(expr="'http.user_agnet contains \"x\"'"),
        "3:9: unknown field 'http.user_agnet'; did you mean 'http.user_agent'?",
    ),
    "unknown-function": (
        RULE.format(expr="'lowr(http.user_agent) eq \"x\"'"),
        "3:9: unknown function 'lowr'; did you mean 'lower'?",
    ),
    "unknown-key": (RULE + "scroe = 3\n", "5:1: unknown key 'scroe' in [[rule]]; did you mean 'score'?"),
    "ip-vs-string": (RULE.format(expr="'ip.src eq \"127.0.0.1\"'"), "3:19: cannot compare an IP address with a String"),
    "not-boolean": (
        RULE.format(expr="'lower(http.user_agent)'"),
        "3:9: a rule must be one boolean, this expression is a String",
    ),
    "bad-regex": (
        RULE.format(expr="'http.user_agent matches r\"(abc\"'"),
        "3:33: invalid regular expression: missing ): (abc",
    ),
    "backtracking-regex": (
        RULE.format(expr="'http.user_agent matches r\"(a)\\1\"'"),
        "3:33: invalid regular expression: invalid escape sequence: \\1",
    ),
    "toml-syntax": ('[[rule]]\nid = "a"\nexpr = \'ssl\naction = "block"\n', '4:1: invalid TOML: Expected "\'"'),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_check_reports_a_broken_rule_file_with_its_place(project: Path, case: str) -> None:
    text, where = BROKEN[case]
    text = text.format(expr="'ssl'") if "{expr}" in text else text
    paths = rules(project, r10_ok_toml=GOOD, r20_broken_toml=text)
    code, lines = check(project)
    assert code == 1, lines
    assert lines == [f"{paths['r20_broken_toml']}:{where}"]


def test_check_reports_every_problem_at_once(project: Path) -> None:
    paths = rules(
        project,
        r10_a_toml=RULE.format(expr="'http.user_agnet contains \"x\"'"),
        r20_b_toml=RULE.format(expr="'ip.src eq \"127.0.0.1\"'").replace('id = "a"', 'id = "b"'),
    )
    code, lines = check(project)
    assert code == 1
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{paths['r10_a_toml']}:3:9: unknown field")
    assert lines[1].startswith(f"{paths['r20_b_toml']}:3:19: cannot compare")


def test_check_refuses_duplicate_ids_across_files(project: Path) -> None:
    paths = rules(
        project, r10_a_toml=GOOD, r20_b_toml="# copied\n" + RULE.format(expr="'ssl'").replace('"a"', '"arg-one"')
    )
    code, lines = check(project)
    assert code == 1
    assert lines == [
        f"{paths['r20_b_toml']}:3:1: duplicate rule id 'arg-one' (first defined at {paths['r10_a_toml']}:19)"
    ]


def test_check_runs_the_embedded_tests(project: Path) -> None:
    text = GOOD.replace('headers = { "User-Agent" = "Mozilla/5.0" }', 'headers = { "User-Agent" = "sqlmap-ish" }')
    paths = rules(project, r10_good_toml=text)
    code, lines = check(project)
    assert code == 1
    assert lines == [
        f"{paths['r10_good_toml']}:14: rule 'ua-sqlmap' test 2 ('GET /'): expected no match, it matched",
    ]


# --- edge rules test ---------------------------------------------------------------------------------------------


def test_rules_test_all_pass(project: Path) -> None:
    rules(project, r10_good_toml=GOOD)
    code, out, err = edge("rules", "test", "-c", str(project / "edge.toml"))
    assert code == 0, out + err
    assert out.splitlines()[-1] == "3 passed, 0 failed"


def test_rules_test_reports_each_failure_with_file_and_line(project: Path) -> None:
    failing = GOOD.replace('request = "GET /x?q=%31"', 'request = "GET /x?q=2"').replace('"Mozilla/5.0"', '"SQLMap"')
    paths = rules(project, r10_good_toml=failing, r20_more_toml=RULE.format(expr="'ssl'"))
    code, out, err = edge("rules", "test", "-c", str(project / "edge.toml"))
    assert code == 1, out + err
    lines = out.splitlines()
    assert lines[-1] == "1 passed, 2 failed"
    path = paths["r10_good_toml"]
    assert lines[:-1] == [
        f"{path}:14: rule 'ua-sqlmap' test 2 ('GET /'): expected no match, it matched",
        f"{path}:24: rule 'arg-one' test 1 ('GET /x?q=2'): expected match, it did not match",
    ]


def test_rules_test_on_a_broken_file_reports_the_load_problem(project: Path) -> None:
    paths = rules(project, r10_bad_toml=RULE.format(expr="'http.user_agnet contains \"x\"'"))
    code, out, _ = edge("rules", "test", "-c", str(project / "edge.toml"))
    assert code == 1
    assert f"{paths['r10_bad_toml']}:3:9: unknown field 'http.user_agnet'" in out


# --- edge rules explain -------------------------------------------------------------------------------------------


def explain(project: Path, *args: str) -> str:
    code, out, err = edge("rules", "explain", "-c", str(project / "edge.toml"), *args)
    assert code == 0, out + err
    return out.rstrip("\n")


def test_explain_shows_rules_values_score_and_verdict_without_sending(project: Path, origin_a: DemoOrigin) -> None:
    paths = rules(project, r10_good_toml=GOOD)
    before = origin_a.count()
    out = explain(
        project,
        "-H",
        "User-Agent: SQLMap/1.7",
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "-d",
        "a=1",
        "POST /x?q=%31",
    )
    lines = out.splitlines()
    path = paths["r10_good_toml"]
    assert lines[0] == "request: POST /x?q=%31 (host localhost, client 127.0.0.1)"
    assert re.fullmatch(r"rule set: 4 rules, fingerprint [0-9a-f]{12}, mode block, paranoia 1, threshold 5", lines[1])
    assert lines[2:] == [
        f"matched ua-sqlmap: score +3 [scanner]  ({path}:4)",
        "    lower(http.user_agent) = 'sqlmap/1.7'",
        f"matched arg-one: score +3  ({path}:19)",
        "    url_decode(http.request.uri.args.values[*]) = '1'",
        f"matched form-a: log  ({path}:33)",
        "    http.request.body.form.names[*] = 'a'",
        "score: 6 (threshold 5)",
        "verdict: block 403",
    ]
    assert origin_a.count() == before  # nothing was sent


def test_explain_uses_the_configured_threshold(project: Path) -> None:
    rules(project, r10_good_toml=GOOD)
    (project / "edge.toml").write_text(CONFIG.format(threshold=7, origin="http://127.0.0.1:9"))
    out = explain(project, "-H", "User-Agent: sqlmap", "GET /x?q=1")
    assert "score: 6 (threshold 7)" in out
    assert out.splitlines()[-1] == "verdict: pass"


def test_explain_a_clean_request(project: Path) -> None:
    rules(project, r10_good_toml=GOOD)
    out = explain(project, "-H", "User-Agent: curl/8.5", "GET /products?q=2")
    assert "no rule matched" in out.splitlines()
    assert out.splitlines()[-2:] == ["score: 0 (threshold 5)", "verdict: pass"]


def test_explain_a_block_rule(project: Path) -> None:
    paths = rules(project, r10_good_toml=GOOD)
    out = explain(project, "GET /admin/users")
    assert f"matched admin-office: block  ({paths['r10_good_toml']}:28)" in out.splitlines()
    assert out.splitlines()[-1] == "verdict: block 403"


def test_explain_data_is_a_form_like_curls(project: Path) -> None:
    rules(project, r10_good_toml=GOOD)
    out = explain(project, "-d", "a=1", "POST /x")
    assert "matched form-a: log" in out
