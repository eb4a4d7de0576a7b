#!/usr/bin/env bash
# Builds the static (musl) binary and a FROM-scratch image holding it and a CA bundle, without
# Docker (buildah, vfs storage, chroot isolation). tests/all/container.rs runs it with podman.
set -euo pipefail
cd "$(dirname "$0")/.."
target="$(uname -m)-unknown-linux-musl"
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
# The dev profile is enough to prove the contract and builds much faster than a release build
# on CI. scripts/test.sh passes the binary it built for the whole suite (E2E_BIN, same target):
# building again without the test targets would recompile every crate whose features differ.
if [ -n "${E2E_BIN:-}" ]; then
  bin=$E2E_BIN
else
  cargo build --locked --target "$target"
  bin="target/$target/debug/e2e-action"
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/e2e-action"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
# The unprivileged user generated code runs as (the published image creates it with uid
# 64000). Here it gets 65000: the suite's host-side runs use 64000-64511 at the same time,
# and a host-side kill by uid would reach a container's processes of the same uid (rootful
# podman shares the host's uids), which on a runner never happens (one job per container).
printf 'root:x:0:0:root:/root:/sbin/nologin\ne2e-sandbox:x:65000:65000:e2e-action sandbox:/nonexistent:/sbin/nologin\n' > "$ctx/passwd"
printf 'root:x:0:\ne2e-sandbox:x:65000:\n' > "$ctx/group"
cat > "$ctx/Containerfile" <<'EOC'
FROM scratch
# At the root, not under /usr: the contract test mounts the host's /usr for the pack's toolchain.
COPY e2e-action /e2e-action
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY passwd /etc/passwd
COPY group /etc/group
ENTRYPOINT ["/e2e-action"]
EOC
buildah --storage-driver vfs bud --quiet --isolation chroot -t localhost/e2e-action-test:latest -f "$ctx/Containerfile" "$ctx"
