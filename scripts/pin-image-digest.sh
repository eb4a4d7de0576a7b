#!/usr/bin/env bash
# Points action.yml's `runs.image` at one image by digest, so a tag or SHA pin of the action
# runs exactly that image (a tag like `:v1` can be pushed again; a digest cannot change).
# Usage: pin-image-digest.sh ACTION_YML IMAGE DIGEST
#   IMAGE  registry/name without tag or digest, lower case (ghcr.io/e2e-action/e2e-action)
#   DIGEST sha256:<64 hex> (docker/build-push-action's `digest` output)
# Rewrites the one `image: "docker://…"` line in place; fails, changing nothing, on anything else.
set -euo pipefail
if [ "$#" -ne 3 ]; then
  echo "usage: $0 ACTION_YML IMAGE DIGEST" >&2
  exit 2
fi
file=$1
image=$2
digest=$3
if ! [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]]; then
  echo "not an image digest: '$digest' (want sha256: and 64 lower-case hex digits)" >&2
  exit 1
fi
if ! [[ $image =~ ^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$ ]]; then
  echo "not an image name without tag or digest: '$image'" >&2
  exit 1
fi
pattern='^  image: "docker://[^"]+"$'
count=$(grep -cE "$pattern" "$file" || true)
if [ "$count" -ne 1 ]; then
  echo "$file: expected exactly one line like '  image: \"docker://…\"', found $count" >&2
  exit 1
fi
tmp=$(mktemp "$file.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# `|` delimits the sed expression: neither the image name nor the digest can hold one.
sed -E "s|$pattern|  image: \"docker://$image@$digest\"|" "$file" >"$tmp"
mv "$tmp" "$file"
trap - EXIT
echo "$file: runs docker://$image@$digest"
