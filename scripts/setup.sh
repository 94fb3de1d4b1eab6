#!/usr/bin/env bash
# One-time, idempotent set-up on Debian 12 as root: the toolchains of the 13 sandbox languages
# (Debian packages only, nothing downloaded at run time) and the pinned Python virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # toolchains (see docs in src/oorl/langs.py)
  python3 python3-venv gcc g++ clang-14 llvm-14 default-jdk-headless php-cli bash nodejs node-typescript
  golang-go mono-mcs mono-runtime scala ghc rustc bubblewrap util-linux
  # libraries that real benchmark tests import
  golang-github-stretchr-testify-dev libboost-dev libssl-dev python3-numpy libjavatuples-java
  # LLVM 14 Python bindings, matching clang-14's IR dialect (IR groups)
  python3-llvmlite
  # clang-14's sanitizer runtimes: IR groups check their sources with UBSan, ASan and MSan
  libclang-rt-14-dev
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The venv sees Debian's site-packages only for python3-llvmlite (LLVM 14, same as clang-14);
# every other Python dependency is pinned in requirements.lock and installed into the venv.
if [ ! -x .venv/bin/python ] || [ requirements.lock -nt .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "setup: creating .venv with the pinned Python dependencies (requirements.lock)" >&2
  /usr/bin/python3 -m venv --system-site-packages .venv
  log=.venv/pip-install.log
  # pip's output goes to a log (this machine's extra package indexes make it chatty); shown on failure
  if ! { .venv/bin/pip install -q --upgrade pip==24.3.1 &&
         .venv/bin/pip install -q -r requirements.lock &&
         .venv/bin/pip install -q --no-deps -e .; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: pip install failed (log above, also in $log)" >&2
    exit 1
  fi
  touch .venv/.installed
fi
