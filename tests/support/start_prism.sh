#!/usr/bin/env bash
# Start prism on 127.0.0.1:PORT serving GitHub's REST description (examples unwrapped), wait
# until it answers, print its pid. Usage: start_prism.sh PORT LOGFILE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
node_dir="$here/../node/node_modules"
port=$1
log=$2
spec="$here/../node/github-openapi.prism.json"
if [ ! -s "$spec" ]; then
  python3 "$here/prism_openapi.py" "$node_dir/@octokit/openapi/generated/api.github.com.json" "$spec"
fi
"$node_dir/.bin/prism" mock -h 127.0.0.1 -p "$port" "$spec" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  if curl -fs -o /dev/null "http://127.0.0.1:$port/repos/o/r/issues/1"; then
    echo "$pid"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "prism exited; see $log" >&2
    exit 1
  fi
  sleep 0.5
done
kill "$pid" 2>/dev/null || true
echo "prism did not answer within 60 s; see $log" >&2
exit 1
