#!/usr/bin/env bash
# Builds the static (musl) binary and a FROM-scratch image holding it and a CA bundle, without
# Docker (buildah, vfs storage, chroot isolation). tests/all/container.rs runs it with podman.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target list --installed | grep -qx x86_64-unknown-linux-musl || rustup target add x86_64-unknown-linux-musl
# The dev profile (dependencies at opt-level 1) is enough to prove the contract and builds
# much faster than a release build on CI.
cargo build --locked --target x86_64-unknown-linux-musl
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp target/x86_64-unknown-linux-musl/debug/e2e-action "$ctx/"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
cat > "$ctx/Containerfile" <<'EOC'
FROM scratch
# At the root, not under /usr: the contract test mounts the host's /usr for the pack's toolchain.
COPY e2e-action /e2e-action
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/e2e-action"]
EOC
buildah --storage-driver vfs bud --quiet --isolation chroot -t localhost/e2e-action-test:latest -f "$ctx/Containerfile" "$ctx"
