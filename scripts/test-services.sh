#!/usr/bin/env bash
# Make sure what the test suite needs is installed and running: system packages (when root),
# PostgreSQL and Redis on 127.0.0.1. Idempotent; prints what it did.
set -euo pipefail

need_pkgs=()
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
command -v msgfmt >/dev/null 2>&1 || need_pkgs+=(gettext)
command -v pg_dump >/dev/null 2>&1 || need_pkgs+=(postgresql-client)
command -v redis-server >/dev/null 2>&1 || need_pkgs+=(redis-server)
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || need_pkgs+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list >/dev/null 2>&1 || need_pkgs+=(fontconfig)
fc-list 2>/dev/null | grep -qi dejavu || need_pkgs+=(fonts-dejavu-core)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "installing system packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "missing system packages (run as root to install): ${need_pkgs[*]}" >&2
  fi
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL"
  if ls /etc/postgresql >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }

if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 20); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.5; done
fi
(exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
echo "services ready: PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379"
