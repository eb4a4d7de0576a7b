#!/usr/bin/env bash
# Installs everything the test suite needs, idempotently: Debian packages (chromium,
# chromedriver, PostgreSQL, promtool, Alertmanager, Caddy, git, curl), a Python venv in
# .venv-test/ and npm tools in tests/node/. Everything but the apt packages stays inside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_missing=()
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || apt_missing+=(chromium-driver)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_missing+=(postgresql)
command -v promtool >/dev/null 2>&1 || apt_missing+=(prometheus)
# The generated app's stack, run as processes (tests/generated/test_deploy_stack.py): amtool and
# Alertmanager, and Caddy (`caddy validate`, and the TLS proxy in front of the app).
command -v prometheus-alertmanager >/dev/null 2>&1 || apt_missing+=(prometheus-alertmanager)
command -v caddy >/dev/null 2>&1 || apt_missing+=(caddy)
command -v git >/dev/null 2>&1 || apt_missing+=(git)
command -v curl >/dev/null 2>&1 || apt_missing+=(curl)
command -v node >/dev/null 2>&1 || apt_missing+=(nodejs npm)
# The container contract test: a static binary (musl) in an image built and run without Docker.
command -v musl-gcc >/dev/null 2>&1 || apt_missing+=(musl-tools)
command -v buildah >/dev/null 2>&1 || apt_missing+=(buildah)
command -v podman >/dev/null 2>&1 || apt_missing+=(podman)
command -v runc >/dev/null 2>&1 || apt_missing+=(runc)
if [ "${#apt_missing[@]}" -gt 0 ]; then
  echo "install-test-deps: apt-get install ${apt_missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

musl_target="$(uname -m)-unknown-linux-musl"
rustup target list --installed | grep -qx "$musl_target" || rustup target add "$musl_target"

stamp=.venv-test/.requirements
if [ ! -x .venv-test/bin/python ] || ! cmp -s tests/requirements.txt "$stamp"; then
  echo "install-test-deps: python venv .venv-test"
  python3 -m venv .venv-test
  # llama-cpp-python compiles llama.cpp: portable code (no -march=native, so the cached wheel
  # runs on any x86-64 runner), both cores.
  CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    .venv-test/bin/pip install -q --disable-pip-version-check --cache-dir .cache/pip -r tests/requirements.txt
  cp tests/requirements.txt "$stamp"
fi

if [ ! -x tests/node/node_modules/.bin/prism ] || [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then
  echo "install-test-deps: npm ci in tests/node"
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error --cache ../../.cache/npm)
fi
