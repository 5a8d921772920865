"""The WAF: rule files in the Cloudflare rules language, compiled to closures, evaluated per request.

Module map (one job each):
  lang/        lexer.py (tokens), ast.py (syntax tree), parser.py (text -> tree), types.py (value types)
  errors.py    RuleError (file:line:col), RuleSetError, did-you-mean
  request.py   RequestView, what the gateway hands the WAF
  forms.py     query strings, cookies, urlencoded / multipart / JSON bodies -> name/value pairs
  fields.py    the field table (name -> type, phase, lazy getter) and the per-request Ctx
  transforms.py, detect.py, functions.py   the function table (lower, url_decode, sqli, ...)
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
