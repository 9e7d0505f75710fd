#!/usr/bin/env bash
# The suite itself; make test runs it inside scripts/with-services.sh.
set -euo pipefail
export SECRET_KEY="${SECRET_KEY:-test-only-not-a-secret}"
# The suite starts hundreds of interpreters (workers, make run, the compose stack,
# fresh-interpreter tests). make venv compiled the packages; compiling the project
# once here spares each of them that, even where PYTHONDONTWRITEBYTECODE is set.
.venv/bin/python -m compileall -q -j 0 -x '^var/' -- *.py */
# The suite talks plain HTTP to its own servers on 127.0.0.1.
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null || {
  echo "A model change has no migration: run manage.py makemigrations" >&2
  exit 1
}
# Production serves hashed static files from a manifest; so does the suite.
export STATIC_ROOT="${STATIC_ROOT:-$(mktemp -d /tmp/anchorage-static.XXXXXX)}"
.venv/bin/python manage.py collectstatic --no-input -v 0
# The whole suite runs in parallel (pytest-xdist): most of its wall time is spent
# waiting on processes it started (Celery workers, Chromium, make run, the compose
# stack), so on 2 cores 4 workers finish far sooner than 1 (tests/conftest.py gives
# each its own test database and Redis database). --dist loadfile keeps a file's
# tests, and its module-scoped fixtures, on one worker; tests/conftest.py orders the
# files, slowest first. A run of chosen paths stays serial unless given -n;
# TEST_WORKERS=N sets the count for any run (0: serial).
parallel=(-n "${TEST_WORKERS:-4}" --dist loadfile --no-loadscope-reorder)
for arg in "$@"; do
  case "$arg" in
    -n | -n* | --numprocesses* | --dist* | -pno:xdist | no:xdist) parallel=() ;;
    -*) ;;
    *) [ -e "${arg%%::*}" ] && [ -z "${TEST_WORKERS:-}" ] && parallel=() ;;
  esac
done
[ "${TEST_WORKERS:-}" = 0 ] && parallel=()
exec .venv/bin/pytest "${parallel[@]}" "$@"
