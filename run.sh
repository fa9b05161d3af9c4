#!/usr/bin/env bash
# cnnlive's one entry point. Each command first sets everything up
# (idempotent): Debian chromium and Fashion-MNIST via apt-get, a .venv with
# cnnlive installed editable (which builds the TypeScript extension with npm).
#
#   ./run.sh demo    set up, then JupyterLab on examples/quickstart.ipynb
#   ./run.sh test    set up, then every test (jest, pytest incl. browser + notebooks)
#   ./run.sh bench   set up, then the benchmarks (prints ratios)
#   ./run.sh setup   only set up
#   ./run.sh wheel   build dist/cnnlive-*.whl (no Node needed: uses the shipped
#                    labextension; rebuilds it first when Node
#                    and node_modules are here and it is stale)
set -euo pipefail
cd "$(dirname "$0")"
PY=.venv/bin/python

say() { printf '\033[1m[cnnlive]\033[0m %s\n' "$*"; }

setup_system() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
  # desktop-window tests (Tk, Qt under Xvfb): X server, xwd, Tk, the X libraries pip's PyQt6 loads
  command -v Xvfb >/dev/null || missing+=(xvfb)
  command -v xwd >/dev/null || missing+=(x11-apps)
  local pkg
  python3 -c "import tkinter" 2>/dev/null || missing+=(python3-tk)
  for pkg in libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-cursor0 libxcb-image0 \
             libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 \
             libdbus-1-3; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    say "apt-get install ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

setup_python() {
  command -v node >/dev/null || { echo "Node.js 20+ is needed to build the extension" >&2; exit 1; }
  if [ ! -x "$PY" ]; then
    say "creating .venv"
    python3 -m venv .venv
    "$PY" -m pip install -q --upgrade pip
  fi
  local stamp
  stamp=$(cat pyproject.toml package.json package-lock.json tsconfig.json src/*.ts style/* schema/* \
          python/cnnlive/protocol/schema.json | sha256sum | cut -c1-16)
  if [ "$(cat .venv/.cnnlive-stamp 2>/dev/null)" != "$stamp" ] || [ ! -d node_modules ]; then
    say "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    # the committed labextension is used as is when its build stamp matches
    # src/ (so a fresh clone stays clean); a stale one is rebuilt by pip's hook
    local skip=()
    if node scripts/build_stamp.mjs --check >/dev/null; then
      say "pip install -e .[test] (labextension fresh: no rebuild)"
      skip=(env SKIP_JUPYTER_BUILDER=1)
    else
      say "pip install -e .[test] (builds the JupyterLab extension)"
    fi
    ${skip[@]+"${skip[@]}"} "$PY" -m pip install -q -e ".[test]"
    # serve the labextension from the source tree (npm run build shows at once)
    if [ -x .venv/bin/jupyter-builder ]; then
      .venv/bin/jupyter-builder develop --overwrite . >/dev/null
    else
      .venv/bin/jupyter labextension develop --overwrite . >/dev/null
    fi
    echo "$stamp" > .venv/.cnnlive-stamp
  fi
}

setup() { setup_system; setup_python; }

case "${1:-}" in
  setup) setup ;;
  demo)
    setup
    root=(); [ "$(id -u)" = 0 ] && root=(--allow-root)
    exec .venv/bin/jupyter lab "${root[@]}" examples/quickstart.ipynb ;;
  test)
    setup
    say "protocol code and labextension fresh?"
    node scripts/gen_protocol.mjs --check
    node scripts/build_stamp.mjs --check
    say "jest"
    npx jest --ci
    say "pytest (unit, engines, browser, notebooks)"
    "$PY" -m pytest tests --ignore=tests/benchmarks -p no:cacheprovider -ra "${@:2}" ;;
  bench)
    setup
    "$PY" -m pip install -q -e ".[test,bench]"
    "$PY" tests/benchmarks/run_all.py "${@:2}" ;;
  wheel)
    if command -v npm >/dev/null && [ -d node_modules ] && ! node scripts/build_stamp.mjs --check >/dev/null; then
      say "labextension stale: npm run build"
      PATH="$PWD/.venv/bin:$PATH" npm run build
    fi
    py=python3; [ -x "$PY" ] && py="$PY"
    if ! "$py" -m pip --version >/dev/null 2>&1; then
      python3 -m venv .build-venv && py=.build-venv/bin/python
    fi
    rm -rf dist
    say "building the wheel (pip wheel --no-deps)"
    "$py" -m pip wheel -q --no-deps -w dist .
    ls dist/cnnlive-*.whl ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
