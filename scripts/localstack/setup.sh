#!/usr/bin/env bash
# Prepares LocalStack on the host (no Docker): a virtualenv under .local/localstack/venv with the pinned
# localstack-core[runtime] (constraints.txt) and stagger's runtime executor, and Node 24 under .local/node24 for
# the functions. Repeated runs reuse both; a change to the pins or to the executor reinstalls what changed.
# Prints the paths it prepared as `KEY=value` lines on stdout (everything else goes to stderr).
set -euo pipefail
cd "$(dirname "$0")/../.."

LOCALSTACK_VERSION=4.13.1
NODE_VERSION=24.21.0
ROOT=.local/localstack
VENV=$ROOT/venv
NODE_PREFIX=.local/node24
HERE=scripts/localstack

log() { echo "localstack-setup: $*" >&2; }

PYTHON=${PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "localstack-setup: python3 (3.11 or newer) is required: apt-get install -y python3 python3-venv python3-pip" >&2
  exit 3
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "localstack-setup: python3 is $("$PYTHON" -V 2>&1); LocalStack $LOCALSTACK_VERSION here needs 3.11 or newer" >&2
  exit 3
fi
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "localstack-setup: python3 has no venv/pip: apt-get install -y python3-venv python3-pip" >&2
  exit 3
fi

mkdir -p "$ROOT"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi

# One stamp per install step: the hash of what it installs from.
stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

core_stamp=$(echo "$LOCALSTACK_VERSION" | cat - "$HERE/constraints.txt" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$ROOT/core.stamp" 2>/dev/null)" != "$core_stamp" ]; then
  log "installing localstack-core[runtime]==$LOCALSTACK_VERSION (first run: a few minutes)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$HERE/constraints.txt" "localstack-core[runtime]==$LOCALSTACK_VERSION" wheel >&2
  echo "$core_stamp" >"$ROOT/core.stamp"
fi

exec_files=$(find "$HERE/executor" -name '*.py' -o -name 'pyproject.toml' | sort)
# shellcheck disable=SC2086
exec_stamp=$(stamp_of $exec_files)
if [ "$(cat "$ROOT/executor.stamp" 2>/dev/null)" != "$exec_stamp" ]; then
  log "installing the stagger-host runtime executor"
  # Built from a copy so no build/ or egg-info/ is left in the source tree.
  build=$(mktemp -d)
  cp -r "$HERE/executor/." "$build/"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    --force-reinstall "$build" >&2
  rm -rf "$build"
  echo "$exec_stamp" >"$ROOT/executor.stamp"
fi

NODE_BIN=$NODE_PREFIX/node_modules/node/bin/node
if [ ! -x "$NODE_BIN" ] || [ "$("$NODE_BIN" --version)" != "v$NODE_VERSION" ]; then
  log "installing Node $NODE_VERSION for the functions under $NODE_PREFIX"
  npm install --prefix "$NODE_PREFIX" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >&2
fi

echo "LOCALSTACK_PYTHON=$PWD/$VENV/bin/python"
echo "STAGGER_LAMBDA_NODE=$PWD/$NODE_BIN"
echo "STAGGER_RUNTIME_INIT=$PWD/$HERE/runtime/init.mjs"
