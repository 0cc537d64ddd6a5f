#!/usr/bin/env bash
# Installs the real Genkit tooling the reflection tests drive: npm genkit-cli (the CLI
# and Dev UI API) and npm genkit (the JS runtime the contract fixtures were recorded
# from), under ${GENKIT_RS_CACHE:-/var/tmp/genkit-rs-cache}/node. Idempotent: skips
# what is already there. Needs node >= 20 and npm.
set -euo pipefail
CACHE="${GENKIT_RS_CACHE:-/var/tmp/genkit-rs-cache}"
DIR="$CACHE/node"
CLI_VERSION=1.43.0
JS_VERSION=1.42.0

if ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "setup-node: npm is missing (install node >= 20 and npm)" >&2
    exit 1
  fi
fi

mkdir -p "$DIR"
installed() {
  local pkg=$1 version=$2
  [ -f "$DIR/node_modules/$pkg/package.json" ] &&
    grep -q "\"version\": \"$version\"" "$DIR/node_modules/$pkg/package.json"
}
if installed genkit-cli "$CLI_VERSION" && installed genkit "$JS_VERSION"; then
  echo "setup-node: genkit-cli@$CLI_VERSION and genkit@$JS_VERSION already in $DIR"
else
  [ -f "$DIR/package.json" ] || echo '{"name":"genkit-rs-node-tools","private":true}' > "$DIR/package.json"
  npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error \
    "genkit-cli@$CLI_VERSION" "genkit@$JS_VERSION"
fi

# The CLI blocks on an analytics prompt until this is set once (stored in the user's
# config; harmless to repeat).
"$DIR/node_modules/.bin/genkit" --non-interactive config set analyticsOptOut true >/dev/null
echo "setup-node: $DIR/node_modules/.bin/genkit ready"
