#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL and Redis on loopback, and stops
# them afterwards, also when the command fails or is interrupted.
#   scripts/with-services.sh .venv/bin/pytest
# Exports DATABASE_URL and REDIS_URL for the command.
set -euo pipefail

pg_bin=$(scripts/find-postgres.sh) || { echo "PostgreSQL (initdb) not found" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_port=$(free_port)
redis_port=$(free_port)
work=$(mktemp -d /tmp/anchorage-services.XXXXXX)
chmod 755 "$work"
pg_data="$work/pg"
redis_pid=""

# PostgreSQL refuses to run as root: as root, run it as the postgres user.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_pg=(runuser -u postgres --)
  chown postgres "$work"
fi

cleanup() {
  set +e
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_data" -U anchorage --auth=trust -E UTF8 --no-sync >/dev/null
# Durability is pointless for a throwaway test database; these make it fast.
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$work/pg.log" -w -t 60 start \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U anchorage anchorage

redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 50); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done

export DATABASE_URL="postgres://anchorage@127.0.0.1:$pg_port/anchorage"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"
echo "services: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"
"$@"
