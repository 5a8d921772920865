"""The WAF: rule files in the Cloudflare rules language, compiled to closures, evaluated per request.

Module map (one job each):
  lang/        lexer.py (tokens), ast.py (syntax tree), parser.py (text -> tree), types.py (value types)
  errors.py    RuleError (file:line:col), RuleSetError, did-you-mean
  request.py   RequestView, what the gateway hands the WAF (with the site's allowed methods and media types)
  forms.py     query strings, cookies; parse_body: a body split by what it is (Body: fields, files, code, text)
  multipart.py multipart/form-data (fields and file parts), multipart/mixed batches, header parameters
  documents.py JSON (nested JSON and forms flattened, rich-text code blocks apart), JSON lines, XML (no DTD)
  fields.py    the field table (name -> type, phase, lazy getter) and the per-request Ctx
  transforms.py, detect.py, functions.py   the function table (lower, url_decode, sqli, to_ip, ...);
  prose.py     strip_markdown_code / markdown_code: code quoted in prose (markdown, <pre>, wiki, BBCode)
  shell.py     shell_unquote, glob_paths, cmd_line: shell and cmd.exe obfuscation undone
  hosts.py     url_host, to_ip: the address a URL's host designates, however it is written
  operators.py the comparison table (eq, matches, wildcard, in {...}, IP sets)
  regex.py     RE2 access (single regex, pattern sets)
  compiler.py  tree -> type-checked closures, shared per-request memo, atoms and guards (CNF) for the prefilter
  closures.py  the getter builders the compiler assembles (memo, apply, any/all, and/or/xor)
  prefilter.py the rules that can match, from atom results cached per raw value and per set of raw inputs
  model.py     Rule, RuleTest, RateLimit, RuleSet: the loaded, immutable records
  ruleset.py   rule files -> RuleSet (all problems reported at once)
  ruletests.py [[rule.test]] runner
  engine.py    evaluate(): actions, phases, skips, score threshold, modes, paranoia; rate-limit matching
  explain.py   the human report of one request
  audit.py     the audit record of a matched request: rule, field, element name, redacted snippet
"""

from edge.waf.engine import Match, Verdict, WafState, evaluate, match_ratelimits, prepare
from edge.waf.errors import RuleError, RuleSetError
from edge.waf.explain import explain, explain_request
from edge.waf.model import RateLimit, Rule, RuleSet
from edge.waf.request import RequestView
from edge.waf.ruleset import build_ruleset, load_ruleset
from edge.waf.ruletests import TestFailure, count_tests, run_tests

__all__ = [
    "Match",
    "RateLimit",
    "RequestView",
    "Rule",
    "RuleError",
    "RuleSet",
    "RuleSetError",
    "TestFailure",
    "Verdict",
    "WafState",
    "build_ruleset",
    "count_tests",
    "evaluate",
    "explain",
    "explain_request",
    "load_ruleset",
    "match_ratelimits",
    "prepare",
    "run_tests",
]
