#!/usr/bin/env bash
# Prints the directory holding initdb and pg_ctl (Debian keeps them off PATH).
set -euo pipefail
if command -v initdb >/dev/null 2>&1; then
  dirname "$(readlink -f "$(command -v initdb)")"
  exit 0
fi
for dir in /usr/lib/postgresql/*/bin; do
  if [ -x "$dir/initdb" ]; then
    echo "$dir"
    exit 0
  fi
done
exit 1
