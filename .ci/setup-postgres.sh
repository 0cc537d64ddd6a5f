#!/usr/bin/env bash
# Installs PostgreSQL (Debian's package) for genkit-store's tests, if missing.
# Idempotent. The tests start their own throwaway cluster (initdb + pg_ctl in a temp
# dir on a free 127.0.0.1 port); this script only makes the binaries available.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "setup-postgres: $(ls -d /usr/lib/postgresql/*/bin | head -1) already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-postgres: PostgreSQL is missing and this script needs root to install it (apt-get install postgresql)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
cache="${GENKIT_RS_CACHE:-/var/tmp/genkit-rs-cache}/apt"
mkdir -p "$cache/partial"
apt-get update
apt-get install -y --no-install-recommends -o Dir::Cache::Archives="$cache" postgresql
ls /usr/lib/postgresql/*/bin/initdb
