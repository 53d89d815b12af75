#!/usr/bin/env bash
# Installs what lxcbot's tests and demo need beyond Go: the Postgres server
# binaries (the tests start throwaway servers from /usr/lib/postgresql/*/bin),
# redis-server, and make. Quick and silent about changes when all is present.
# As root on a Debian-like machine it installs what is missing with apt-get;
# otherwise it prints what to install and exits non-zero.
set -euo pipefail

missing=()   # Debian package names

if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null ||
   ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
  missing+=(postgresql)
fi
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v make >/dev/null 2>&1 || missing+=(make)

if ! command -v go >/dev/null 2>&1; then
  echo "install-deps: go is not on PATH; install Go 1.26 or later from the Go project's release archive" >&2
  exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all present (postgres, redis-server, make)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing: ${missing[*]}" >&2
  echo "install-deps: on Debian or Ubuntu, as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  echo "install-deps: elsewhere, install the PostgreSQL server (initdb and postgres under /usr/lib/postgresql/<version>/bin), redis-server and make with your package manager" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: installed ${missing[*]}"
