# LLM Caller: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The LiteLLM proxy `make bench-peer` measures against, in a virtualenv of its own.
LITELLM_VERSION ?= 1.108.7
PRISMA_VERSION ?= 0.15.0
BENCH_PEER_VENV ?= $(HOME)/.cache/llmcaller-bench/litellm-venv
PEER_STAMP := $(BENCH_PEER_VENV)/.installed-litellm-$(LITELLM_VERSION)

.PHONY: run serve test lint bench bench-streams bench-peer bench-records soak venv clean screenshots

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## Set up, seed the demo configuration and serve the gateway on 127.0.0.1:4037.
run: venv
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py run_demo

## The ASGI server alone, on $$LLMCALLER_HOST:$$LLMCALLER_PORT with $$LLMCALLER_WORKERS workers.
serve: venv
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) -m llmcaller.serve

## Set up and run the whole suite (browser tests skip, with a reason, without chromium).
test: venv
	@mkdir -p var
	$(PY) manage.py check
	$(PY) -m pytest $(PYTEST_ARGS)

## Benchmarks: gateway overhead vs direct upstream, one fallback, planner cost,
## rendering and logging cost, audit records/s on SQLite and PostgreSQL, and the
## gateway again on PostgreSQL and Redis when they run.
## Prints figures; asserts nothing.
bench: venv
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(PY) bench/gateway.py
	$(PY) bench/planner.py
	$(PY) bench/render.py
	$(PY) bench/control_state.py
	$(PY) bench/audit.py
	@if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then \
	  DATABASE_URL=postgres://postgres@127.0.0.1:5432/test $(PY) bench/audit.py; \
	else echo "PostgreSQL is not running on 127.0.0.1:5432: audit bench on SQLite only"; fi
	@if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then \
	  DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/14 \
	    $(PY) bench/gateway.py; \
	else echo "PostgreSQL or Redis is not running on 127.0.0.1: gateway bench on SQLite only"; fi

## Streams at scale: BENCH_STREAMS (default 1,000) slow streams (a chunk a second) at
## once on ONE worker: its memory, the gaps between chunks at the client, streams
## completed, records stored; PASS/MISS against issue 16's targets. Asserts nothing.
bench-streams: venv
	$(PY) bench/streams_scale.py

## Peer bench: the same chat calls directly, through the LiteLLM proxy (pinned,
## in $$BENCH_PEER_VENV, installed when missing) and through the gateway, embedded
## and on PostgreSQL + Redis; ratios and PASS/MISS per target (BENCH_PEER_ROUNDS=3:
## each cell the median of 3 rounds). Prints; asserts nothing.
bench-peer: venv $(PEER_STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	BENCH_PEER_VENV=$(BENCH_PEER_VENV) $(PY) bench/peer.py

$(PEER_STAMP):
	$(PYTHON) -m venv $(BENCH_PEER_VENV)
	$(BENCH_PEER_VENV)/bin/pip install --quiet "litellm[proxy]==$(LITELLM_VERSION)" \
	  "prisma==$(PRISMA_VERSION)"
	touch $@

## Call records at 1, 3 and 10 million rows on PostgreSQL (RECORDS_SCALE_SIZES to
## change them): QA's pages, the CSV export, verify_audit, prune, group commit.
## Loads a scratch database (llmcaller_scale), drops it after; prints figures.
bench-records: venv
	@pg_isready -h 127.0.0.1 -p 5432 -q || (echo "PostgreSQL is not running on 127.0.0.1:5432"; exit 1)
	$(PY) bench/records_scale.py

## Soak: SOAK_SECONDS (default 600) of mixed traffic on 2 workers; memory every
## minute, calls made against records stored, verify_audit. Prints; asserts nothing.
soak: venv
	$(PY) bench/soak.py

## Walk QA's journey in chromium and refresh the README's pictures in docs/screenshots/.
screenshots: venv
	@mkdir -p var
	LLMCALLER_SCREENSHOTS=docs/screenshots LLMCALLER_REQUIRE_BROWSER=1 \
	  $(PY) -m pytest -q -p no:randomly tests/audit/test_qa_journey_browser.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
