#!/usr/bin/env bash
# npm run schemathesis: fuzzes the OpenAPI contract (GET /openapi.json, all checks) against a local stack it starts.
# Installs schemathesis (pinned) into .local/schemathesis on first use. Extra arguments go to `schemathesis run`.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.32.5
VENV=.local/schemathesis
if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $VERSION" ]; then
  echo "schemathesis: installing $VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi
exec node_modules/.bin/tsx scripts/schemathesis/run.ts "$VENV/bin/schemathesis" "$@"
