#!/usr/bin/env bash
# The suite itself; make test runs it inside scripts/with-services.sh.
set -euo pipefail
export SECRET_KEY="${SECRET_KEY:-test-only-not-a-secret}"
# The suite talks plain HTTP to its own servers on 127.0.0.1.
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null || {
  echo "A model change has no migration: run manage.py makemigrations" >&2
  exit 1
}
# Production serves hashed static files from a manifest; so does the suite.
export STATIC_ROOT="${STATIC_ROOT:-$(mktemp -d /tmp/anchorage-static.XXXXXX)}"
.venv/bin/python manage.py collectstatic --no-input -v 0
exec .venv/bin/pytest "$@"
