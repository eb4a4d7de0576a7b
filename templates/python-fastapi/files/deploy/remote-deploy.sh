#!/bin/sh
# Runs on the host, in the stack's deploy/ folder (deploy/deploy.yml copies it there):
#   sh remote-deploy.sh TAG       deploy image tag TAG; if the app is not healthy in time,
#                                 go back to the tag that ran before and fail
#   sh remote-deploy.sh rollback  go back to the previous successfully deployed tag
# The tag that runs is kept in .deploy/current, every successful one in .deploy/history, and
# written into .env as APP_TAG (compose.yaml's image tag).
set -eu
cd "$(dirname "$0")"
mkdir -p .deploy
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-180}

set_tag() {
  echo "$1" > .deploy/current
  touch .env
  { grep -v '^APP_TAG=' .env || true; echo "APP_TAG=$1"; } > .env.next
  chmod 600 .env.next
  mv .env.next .env
}

# Waits until the app's container reports healthy (its compose health check: /healthz, which
# also queries the database); fails after HEALTH_TIMEOUT seconds.
wait_healthy() {
  deadline=$(( $(date +%s) + HEALTH_TIMEOUT ))
  while :; do
    cid=$(docker compose ps -q app || true)
    if [ -n "$cid" ]; then
      state=$(docker inspect --format '{{.State.Health.Status}}' "$cid" || echo unknown)
      [ "$state" = healthy ] && return 0
    fi
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 2
  done
}

run_tag() {
  set_tag "$1"
  docker compose pull && docker compose up -d --remove-orphans && wait_healthy
}

target=${1:?usage: remote-deploy.sh TAG | rollback}
previous=$(cat .deploy/current 2>/dev/null || true)
if [ "$target" = rollback ]; then
  target=$(grep -v "^${previous}\$" .deploy/history 2>/dev/null | tail -n 1 || true)
  [ -n "$target" ] || { echo "remote-deploy: no earlier deploy to roll back to" >&2; exit 1; }
fi

if run_tag "$target"; then
  echo "$target" >> .deploy/history
  echo "remote-deploy: $target is up and healthy"
  exit 0
fi

echo "remote-deploy: $target did not become healthy within ${HEALTH_TIMEOUT}s; the app's last log lines:" >&2
docker compose logs --tail 50 app >&2 || true
if [ -n "$previous" ] && [ "$previous" != "$target" ]; then
  echo "remote-deploy: rolling back to $previous" >&2
  if run_tag "$previous"; then
    echo "remote-deploy: rolled back to $previous, which is healthy" >&2
  else
    echo "remote-deploy: $previous is not healthy either: look at 'docker compose ps' and the logs" >&2
  fi
fi
exit 1
