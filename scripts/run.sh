#!/usr/bin/env bash
# `make run`: web + Celery worker + Celery beat + a local SMTP sink on one box.
# SQLite and Celery's filesystem broker unless DATABASE_URL / REDIS_URL say
# otherwise. Ctrl-C stops them all.
set -euo pipefail

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
MAIL_SINK_PORT="${MAIL_SINK_PORT:-8025}"
export VAR_DIR="${VAR_DIR:-$PWD/var}"
mkdir -p "$VAR_DIR/broker/queue" "$VAR_DIR/broker/processed" "$VAR_DIR/broker/control"
if [ -z "${SECRET_KEY:-}" ]; then
  # A development key, made once per checkout and kept out of git.
  [ -s "$VAR_DIR/secret_key" ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > "$VAR_DIR/secret_key"
  SECRET_KEY=$(cat "$VAR_DIR/secret_key")
fi
export SECRET_KEY
export DEBUG="${DEBUG:-1}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost,127.0.0.1,$HOST}"
export SITE_URL="${SITE_URL:-http://$HOST:$PORT}"
# Alert digests and the demo mailbox both go to the local sink below.
export EMAIL_URL="${EMAIL_URL:-smtp://127.0.0.1:$MAIL_SINK_PORT}"
export MAIL_ALLOW_PRIVATE_NETWORKS="${MAIL_ALLOW_PRIVATE_NETWORKS:-1}"
# Script-built pages are rendered in headless Chromium, in this worker, when
# Chromium is installed; otherwise checks read raw HTML only.
CHROMIUM="${RENDER_CHROMIUM_PATH:-/usr/bin/chromium}"
render_queue=""
if [ -x "$CHROMIUM" ]; then
  export RENDER_ENABLED="${RENDER_ENABLED:-1}"
else
  export RENDER_ENABLED=0
fi
[ "$RENDER_ENABLED" = 1 ] && render_queue=",render"

# What this run uses, for commands typed by hand in this checkout
# (`.venv/bin/python manage.py verify_url ...`): settings read var/dev.env when
# no SECRET_KEY is in their environment. Kept out of git and of the image.
umask 077
{
  echo "# Written by make run; read by manage.py when SECRET_KEY is not set."
  for name in SECRET_KEY DEBUG ALLOWED_HOSTS SITE_URL EMAIL_URL MAIL_ALLOW_PRIVATE_NETWORKS \
    DATABASE_URL REDIS_URL RENDER_ENABLED; do
    [ -n "${!name:-}" ] && echo "$name=${!name}"
  done
} > "$VAR_DIR/dev.env"
umask 022

PY=.venv/bin/python
$PY manage.py migrate --no-input -v 0
$PY manage.py seed_demo --credentials-file "$VAR_DIR/demo-logins.txt" --mail-sink-port "$MAIL_SINK_PORT"

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping web, worker, beat and the mail sink..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

$PY manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
.venv/bin/celery -A config worker --loglevel INFO --concurrency 4 --pool threads --queues celery,bulk"$render_queue" &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO --pidfile= --schedule "$VAR_DIR/celerybeat-schedule" &
pids+=($!)
$PY scripts/mail_sink.py --port "$MAIL_SINK_PORT" --folder "$VAR_DIR/sent-mail" &
pids+=($!)

sleep 2
cat <<MSG

  Anchorage is running: http://$HOST:$PORT/
  Logins (admin, manager, member) are in $VAR_DIR/demo-logins.txt.
  Emails (outreach and alert digests) land in $VAR_DIR/sent-mail/.
  Ctrl-C stops web, worker, beat and the mail sink.

MSG
if [ "$RENDER_ENABLED" = 1 ]; then
  echo "  Script-built pages are rendered in headless Chromium ($CHROMIUM), in this worker."
else
  echo "  Chromium not found at $CHROMIUM: checks read raw HTML only (script-built pages"
  echo "  are not rendered). apt-get install chromium, or set RENDER_CHROMIUM_PATH."
fi
echo
# Any one of them exiting stops the others: a half-running stack hides bugs.
wait -n "${pids[@]}"
