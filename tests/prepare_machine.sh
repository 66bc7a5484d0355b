#!/usr/bin/env bash
# Makes sure what the tests need from the machine is there: Debian's Chromium for the browser
# tests, a running PostgreSQL on 127.0.0.1:5432 and a Redis on 127.0.0.1:6379 (the shared store
# of the abuse limits' counters). What cannot be done is said loudly; the test
# run then skips those tests locally and fails under CI.
set -uo pipefail

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

if ! command -v chromium >/dev/null 2>&1; then
  echo "prepare: installing Debian's chromium for the browser tests..."
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || echo "!!! prepare: could not install chromium: browser tests will not run !!!"
fi

if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "prepare: starting PostgreSQL..."
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start \
      || echo "!!! prepare: could not start PostgreSQL !!!"
    for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && break; sleep 1; done
  else
    echo "!!! prepare: PostgreSQL is not installed: PostgreSQL tests will not run !!!"
  fi
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "prepare: starting Redis..."
    redis-server --bind 127.0.0.1 --port 6379 --save "" --daemonize yes >/dev/null \
      || echo "!!! prepare: could not start Redis !!!"
    for _ in $(seq 1 10); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 1; done
  else
    echo "!!! prepare: Redis is not installed (apt-get install redis-server): its tests will not run !!!"
  fi
fi
exit 0
