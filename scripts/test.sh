#!/usr/bin/env bash
# Set up (idempotent) and run the whole vfreport test suite. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# torch==2.13.0 first: the CPU wheel (a bare `torch` would pull a multi-GB CUDA build).
.venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0 -e '.[dev,dask]'

# The HTML report's browser test needs Debian's chromium.
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium for the browser test..."
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "warning: chromium not found and cannot be installed here; the browser test will be skipped" >&2
    fi
fi

.venv/bin/ruff check vfreport tests
.venv/bin/lint-imports  # the contracts in pyproject.toml: no module imports a layer above its own, no import cycle
exec .venv/bin/python -m pytest -q "$@"
