#!/usr/bin/env bash
# Installs the real Genkit JS client (npm `genkit`, for `genkit/beta/client`) used by
# tests/js_client.rs, into ${GENKIT_RS_CACHE:-/var/tmp/genkit-rs-cache}/node-client.
# Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
GENKIT_VERSION=1.42.0
cache="${GENKIT_RS_CACHE:-/var/tmp/genkit-rs-cache}"
dir="$cache/node-client"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "setup-node-client: node and npm are required" >&2
    exit 1
  fi
fi
installed=""
if [ -f "$dir/node_modules/genkit/package.json" ]; then
  installed=$(node -p "require('$dir/node_modules/genkit/package.json').version" 2>/dev/null || true)
fi
if [ "$installed" = "$GENKIT_VERSION" ]; then
  echo "setup-node-client: genkit@$GENKIT_VERSION already in $dir"
  exit 0
fi
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{"name":"genkit-rs-node-client","private":true}' > package.json
npm install --no-audit --no-fund --loglevel=error "genkit@$GENKIT_VERSION"
echo "setup-node-client: installed genkit@$GENKIT_VERSION in $dir"
