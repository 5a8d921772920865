# The two commands of README.md: `make run` and `make test`. Each sets up what it needs.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
CONFIG  ?= edge.toml
SHARED  ?= ../shared
SUITE   ?= ../cache-tests

.PHONY: run test lint typecheck unit integration bench waf-score cache-score system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

# Programs the tests and the bench use that a fresh machine may lack (Debian packages; root needed).
system-deps:
	@missing=""; \
	for pair in redis-server:redis-server openssl:openssl curl:curl; do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "could not install$$missing: the tests that need them will fail"; \
	fi

# Start the demo origin on 127.0.0.1:9000 and the gateway on https://localhost:8443 (Ctrl-C stops both).
run: $(STAMP)
	@ls certs/*.pem >/dev/null 2>&1 || $(BIN)/edge certs dev localhost -c $(CONFIG)
	@$(BIN)/python -m edge.demo --port 9000 & demo=$$!; \
	trap "kill $$demo 2>/dev/null" EXIT INT TERM; \
	echo "demo origin on http://127.0.0.1:9000 (pid $$demo); gateway on https://localhost:8443"; \
	$(BIN)/edge run -c $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff check edge tests
	$(BIN)/ruff format --check edge tests

typecheck: $(STAMP)
	$(BIN)/mypy

# One rerun of a failed test: the integration tests race real processes on a shared 2-core machine; a test
# that fails twice is a failure, and every rerun is named in the summary (-rR).
test: $(STAMP) system-deps lint typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider --reruns 1 --reruns-delay 1 -rR

bench: $(STAMP)
	$(BIN)/python -m tests.bench.run

# False positives on the own benign corpus (tests/corpus/benign, per half and category) and, when ../shared/waf-corpus
# is there (it is not part of a user's clone), detection and false-positive rates on the public corpora.
# `make waf-score PARANOIA=2`, `make waf-score WAF_SCORE_ARGS=--benign-only` (fast: the own corpus only).
PARANOIA       ?= 1
WAF_SCORE_ARGS ?=
waf-score: $(STAMP)
	$(BIN)/python -m tests.bench.waf_score --corpus $(SHARED)/waf-corpus --paranoia $(PARANOIA) $(WAF_SCORE_ARGS)

# Needs a clone of http-tests/cache-tests in $(SUITE) with `npm install --omit=dev` done (not part of a user's
# clone): the public HTTP cache test suite through edge, required tests per group beside ATS, nginx and Varnish.
# CACHE_ARGS passes options on, e.g. CACHE_ARGS="--block" or CACHE_ARGS="--only vary --keep".
cache-score: $(STAMP)
	@if [ ! -f $(SUITE)/test-engine/cli.mjs ]; then \
	  echo "cache-score: no cache test suite in $(SUITE) (clone github.com/http-tests/cache-tests there, then npm install --omit=dev; or SUITE=path); nothing to measure"; \
	  exit 0; \
	fi; \
	$(BIN)/python -m tests.bench.cache_suite --suite $(SUITE) $(CACHE_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
