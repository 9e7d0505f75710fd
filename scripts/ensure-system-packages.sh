#!/usr/bin/env bash
# Installs the system programs the test suite runs for real: PostgreSQL, Redis,
# Chromium (for Playwright) and Dovecot (a real IMAP server). Only what is
# missing, and only as root; otherwise it says what to install.
set -euo pipefail

missing=()
pg_bin=$(scripts/find-postgres.sh 2>/dev/null || true)
[ -n "$pg_bin" ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${missing[*]}. Install them (e.g. apt-get install ${missing[*]}) and re-run." >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts services it installs; the suite starts its own on other ports.
for service in redis-server postgresql dovecot; do
  (command -v systemctl >/dev/null && systemctl stop "$service" >/dev/null 2>&1) || \
    (command -v service >/dev/null && service "$service" stop >/dev/null 2>&1) || true
done
