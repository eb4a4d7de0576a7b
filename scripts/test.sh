#!/usr/bin/env bash
# The whole test suite: installs what it needs, then Rust tests, the generated app checked by
# real tools, the demo (README command 1) and the linters. Fails loudly, naming the step.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

current=""
trap 'status=$?; if [ $status -ne 0 ]; then echo "" >&2; echo "TEST SUITE FAILED at step: ${current} (exit ${status})" >&2; fi' EXIT
step() { current=$1; echo ""; echo "==> $1 (suite time ${SECONDS}s)"; }

step "install test dependencies"
bash scripts/install-test-deps.sh

export PATH="$root/.venv-test/bin:$root/tests/node/node_modules/.bin:$PATH"
export E2E_TEST_NODE_MODULES="$root/tests/node/node_modules"
export UV_CACHE_DIR="$root/.cache/uv"
export CARGO_TERM_COLOR=never

step "cargo fmt --check"
cargo fmt --all -- --check

# One build, for the target the image ships (static musl): the tests drive the very binary the
# container holds, and CI compiles the dependency tree once instead of twice.
target="$(uname -m)-unknown-linux-musl"
step "cargo build (--target $target)"
cargo build --locked --all-targets --target "$target"
export E2E_BIN="$root/target/$target/debug/e2e-action"

step "container image (that binary, buildah)"
bash scripts/container-image.sh
export E2E_CONTAINER_TESTS=1

step "cargo test (--target $target)"
cargo test --locked --target "$target"

step "generated app with real tools (pytest tests/generated)"
set +e
.venv-test/bin/python -m pytest tests/generated -q -p no:cacheprovider
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests" >&2; exit 5; fi
[ "$rc" -eq 0 ] || exit "$rc"

step "demo (README command 1, debug build)"
demo_dir=$(mktemp -d)
# Its virtual environment goes to the checkout's cache, not the user's (~/.cache).
XDG_CACHE_HOME="$root/.cache" "$E2E_BIN" demo --dir "$demo_dir/demo" | tail -5
rm -rf "$demo_dir"

step "lint: hadolint, actionlint, zizmor, action and issue-form schemas, shell scripts"
hadolint Dockerfile
actionlint .github/workflows/*.yml examples/workflows/*.yml
# The generated app's deploy workflow gets the same audit in tests/generated/test_linters.py.
zizmor --offline --no-progress --config .github/zizmor.yml .github/workflows/*.yml examples/workflows/*.yml
check-jsonschema --builtin-schema vendor.github-actions action.yml
check-jsonschema --builtin-schema vendor.github-issue-forms templates/issue-form.yml

current="done"
echo ""
echo "ALL TESTS PASSED in ${SECONDS}s"
