# LLM Caller: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run serve test lint bench bench-records soak venv clean screenshots

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
