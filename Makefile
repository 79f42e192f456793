# A new user's two commands: `make run` and `make test`. Only python3 (3.11+) and make needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
# The PostgreSQL server for the suite, through its maintenance database: the suite only runs
# CREATE/DROP DATABASE there, for databases of its own (ocop_test_<run>_<worker>).
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
# pytest-xdist processes for test-sqlite and test-postgres: 2 (what `auto` gives on a 2-core
# machine; a fixed number keeps the multi-process tests' load the same everywhere), `auto`
# for one per CPU, or 0 to run in this process.
TEST_WORKERS ?= 2
export OCOP_ENVIRONMENT ?= development

.PHONY: run test lint typecheck test-sqlite test-postgres install install-dev lock clean bench fuzz

# The OCTO specification's own OpenAPI definition, which the suite checks every /octo answer
# against: `src/openapi.yaml` of the npm package @octocloud/types, at this version, whose
# tarball must have this sha512 (the registry's `dist.integrity`). Fetched once, never committed.
OCTO_TYPES_VERSION := 2.0.4
OCTO_TYPES_INTEGRITY := sha512-VLJVC/JAzB5dXg3xc7BjZohrwKHL24LxW/UPllWl/qyYO0bz7t0LzBaTXbvRBHKT2bAtFQhKA2bJtc2sKe6Edg==
OCTO_SPEC := var/octo/openapi.yaml

$(VENV)/.runtime: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes --no-deps -r requirements.lock
	$(PIP) install --no-deps -e .
	@touch $@

$(VENV)/.dev: requirements-dev.lock pyproject.toml $(VENV)/.runtime
	$(PIP) install --require-hashes --no-deps -r requirements-dev.lock
	@touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## run: migrate, load the demo data, serve on http://127.0.0.1:8000 (SQLite under ./var/)
run: install
	$(BIN)/ocop migrate
	$(BIN)/ocop seed-demo
	$(BIN)/ocop worker & worker=$$!; trap 'kill $$worker' EXIT INT TERM; $(BIN)/ocop serve

## test: lint, types, and the whole suite on SQLite and on PostgreSQL
test: lint typecheck test-sqlite test-postgres

lint: install-dev
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/ruff format --check app tests migrations bench
	$(BIN)/lint-imports --no-cache

typecheck: install-dev
	$(BIN)/mypy

test-sqlite: install-dev $(OCTO_SPEC)
	OCOP_TEST_DATABASE=sqlite $(BIN)/pytest -n $(TEST_WORKERS)

test-postgres: install-dev $(OCTO_SPEC)
	OCOP_TEST_DATABASE=postgres OCOP_TEST_POSTGRES_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(TEST_WORKERS)

## fuzz: Schemathesis, longer than in the suite: every phase, OCOP_FUZZ_EXAMPLES (default 200)
## examples per operation and role; SQLite unless OCOP_TEST_DATABASE=postgres. Prints its figures.
fuzz: install-dev
	OCOP_FUZZ_EXAMPLES=$${OCOP_FUZZ_EXAMPLES:-200} OCOP_FUZZ_PHASES=examples,coverage,fuzzing,stateful \
	OCOP_TEST_POSTGRES_URL=$(PG_TEST_URL) $(BIN)/pytest tests/test_openapi_fuzz.py -s -q

## bench: ocop-api beside a raw asyncpg baseline (PostgreSQL at PG_TEST_URL's server, in a
## database of its own; wrk when installed), then order placement, catalogue reads, reads
## beside hostile searches, and an experience's availability (prints figures). OCOP_BENCH_ROUNDS,
## OCOP_BENCH_SECONDS, OCOP_BENCH_CONNECTIONS lengthen or widen the comparison
## (bench/compare.py) and the availability runs (bench/availability.py).
bench: install-dev
	OCOP_TEST_POSTGRES_URL=$(PG_TEST_URL) $(BIN)/python -m bench.compare
	$(BIN)/python -m bench.orders
	$(BIN)/python -m bench.search
	OCOP_TEST_POSTGRES_URL=$(PG_TEST_URL) $(BIN)/python -m bench.availability
	@# The 10k vs 1M products table: minutes to build the datasets the first time (kept after).
	@if [ -n "$$OCOP_BENCH_SCALE" ]; then \
		OCOP_TEST_POSTGRES_URL=$(PG_TEST_URL) $(BIN)/python -m bench.scale; \
	else echo "bench.scale skipped: OCOP_BENCH_SCALE=1M (or 100k) runs it"; fi

## var/octo/openapi.yaml: OCTO's definition, from `npm pack` (needs npm and its registry);
## refused unless the tarball's sha512 is the pinned one
$(OCTO_SPEC):
	@mkdir -p $(@D)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent --ignore-scripts @octocloud/types@$(OCTO_TYPES_VERSION) >/dev/null) && \
	tarball="$$tmp/octocloud-types-$(OCTO_TYPES_VERSION).tgz" && \
	actual=$$($(PYTHON) -c 'import base64, hashlib, sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$$tarball") && \
	if [ "$$actual" != "$(OCTO_TYPES_INTEGRITY)" ]; then \
		echo "@octocloud/types@$(OCTO_TYPES_VERSION): integrity $$actual, expected $(OCTO_TYPES_INTEGRITY)" >&2; exit 1; \
	fi && \
	tar -xzf "$$tarball" -C "$$tmp" package/src/openapi.yaml && \
	mv "$$tmp/package/src/openapi.yaml" $@.tmp && mv $@.tmp $@

## lock: re-pin every dependency (needs the dev environment's uv: pip install uv)
lock:
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements-dev.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
