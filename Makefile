# The few verbs a newcomer needs. `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif
PY := .venv/bin/python

.PHONY: run test lint format migrations-check screenshots bench venv help

help:
	@echo "make run               dashboard + worker + beat on SQLite, demo data seeded"
	@echo "make test              the whole suite against a throwaway PostgreSQL and Redis"
	@echo "make lint              ruff, the import contracts (pyproject.toml) and mypy"
	@echo "make migrations-check  fail if a model change has no migration"
	@echo "make screenshots       PNGs of the main pages into docs/screenshots/"
	@echo "make bench             run the benchmarks (prints figures)"

$(UV):
	@echo "uv not found: installing it with pip into .tools/"
	python3 -m pip install --quiet --target .tools/lib uv
	mkdir -p .tools/bin && ln -sf ../lib/bin/uv .tools/bin/uv

# --compile-bytecode: the suite starts hundreds of interpreters (and an environment
# may set PYTHONDONTWRITEBYTECODE); compiling Django and Celery again in each costs
# seconds of CPU. uv skips what is already compiled, so a second sync is instant.
venv: $(UV)
	@$(UV) sync --frozen --quiet --compile-bytecode

run: venv
	@scripts/run.sh

# The suite runs only after every lint check passed (make lint, then the tests).
test: lint
	@scripts/ensure-system-packages.sh
	@scripts/with-services.sh scripts/run-tests.sh --durations=20

lint: venv
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen lint-imports --no-logo
	@$(UV) run --frozen python scripts/verification_is_pure.py
	@SECRET_KEY=mypy-only-not-a-secret $(UV) run --frozen mypy

format: venv
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen ruff format .

migrations-check: venv
	@SECRET_KEY=migrations-check $(PY) manage.py makemigrations --check --dry-run

screenshots: venv
	@scripts/ensure-system-packages.sh
	@scripts/with-services.sh $(PY) scripts/screenshots.py

bench: venv
	@scripts/ensure-system-packages.sh
	@scripts/with-services.sh bash -c 'for b in tests/benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done'
