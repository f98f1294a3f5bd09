#!/usr/bin/env bash
# Installs what flamebot runs on (pyproject's `dependencies`, pinned by constraints.txt) into
# the venv given as $1: all of `make demo`'s installing, and the first half of `make install`.
#
# uv (from PyPI, kept in .tools/uv) installs them in about a second; pip takes some 25 s for
# the same packages, most of it looking each one up in the indexes, one after another (both
# measured from a fresh clone, README "Run it"). Where uv cannot be had or fails, pip does
# the same install: the result is the same venv.
set -euo pipefail

venv=${1:?usage: install-runtime.sh VENV}
python=$(command -v "${PYTHON:-python3}")
root=$(cd "$(dirname "$0")/.." && pwd)
constraints="$root/constraints.txt"
requirements=$(mktemp)
trap 'rm -f "$requirements"' EXIT
"$python" - "$root/pyproject.toml" >"$requirements" <<'PY'
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["dependencies"]))
PY

uv="$root/.tools/uv/bin/uv"
if [ ! -x "$uv" ]; then
    rm -rf "$root/.tools/uv"
    "$python" -m venv --without-pip "$root/.tools/uv" &&
        "$python" -m pip --python "$root/.tools/uv/bin/python" install --quiet \
            --disable-pip-version-check -c "$constraints" uv ||
        rm -rf "$root/.tools/uv"
fi
if [ -x "$uv" ] &&
    "$uv" venv --quiet --seed --allow-existing --python "$python" "$venv" &&
    "$uv" pip install --quiet --python "$venv/bin/python" -c "$constraints" -r "$requirements"; then
    exit 0
fi
echo "install-runtime: uv could not install the runtime packages; pip does" >&2
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -c "$constraints" -r "$requirements"
