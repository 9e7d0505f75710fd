#!/usr/bin/env bash
# `make run`: web + Celery worker + Celery beat on one box. SQLite and Celery's
# filesystem broker unless DATABASE_URL / REDIS_URL say otherwise.
# Ctrl-C stops all three.
set -euo pipefail

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export VAR_DIR="${VAR_DIR:-$PWD/var}"
mkdir -p "$VAR_DIR/broker/queue" "$VAR_DIR/broker/processed"
if [ -z "${SECRET_KEY:-}" ]; then
  # A development key, made once per checkout and kept out of git.
  [ -s "$VAR_DIR/secret_key" ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > "$VAR_DIR/secret_key"
  SECRET_KEY=$(cat "$VAR_DIR/secret_key")
fi
export SECRET_KEY
export DEBUG="${DEBUG:-1}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost,127.0.0.1,$HOST}"
export SITE_URL="${SITE_URL:-http://$HOST:$PORT}"
export EMAIL_URL="${EMAIL_URL:-console://}"

PY=.venv/bin/python
$PY manage.py migrate --no-input -v 0
$PY manage.py seed_demo --credentials-file "$VAR_DIR/demo-logins.txt"

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping web, worker and beat..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

$PY manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
.venv/bin/celery -A config worker --loglevel INFO --concurrency 4 --pool threads --queues celery,bulk &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO --pidfile= --schedule "$VAR_DIR/celerybeat-schedule" &
pids+=($!)

sleep 2
cat <<MSG

  Anchorage is running: http://$HOST:$PORT/
  Logins (admin, manager, member) are in $VAR_DIR/demo-logins.txt.
  Ctrl-C stops web, worker and beat.

MSG
# Any one of the three exiting stops the others: a half-running stack hides bugs.
wait -n "${pids[@]}"
