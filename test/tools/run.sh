#!/usr/bin/env bash
# Runs every migration-tool check in this directory against one
# PostgreSQL-wire server.
#   usage: test/tools/run.sh HOST PORT [django|alembic|knex|sequelize|golang-migrate ...]
# Exits 1 if any tool failed, 2 on bad usage. Dependencies come from
# test/tools/install.sh.
set -uo pipefail

if (($# < 2)); then
  echo "usage: $0 HOST PORT [django|alembic|knex|sequelize|golang-migrate ...]" >&2
  exit 2
fi
export PGHOST="$1" PGPORT="$2"
shift 2
tools=("$@")
((${#tools[@]})) || tools=(django alembic knex sequelize golang-migrate)
here="$(cd "$(dirname "$0")" && pwd)"
limit=(timeout --kill-after=10 "${CLIENT_TIMEOUT:-300}")

failed=0
for t in "${tools[@]}"; do
  echo "=== $t ($PGHOST:$PGPORT)"
  case "$t" in
    django | alembic) "${limit[@]}" /usr/bin/python3 "$here/$t/check.py" ;;
    knex | sequelize) "${limit[@]}" node "$here/node/${t}_check.js" ;;
    golang-migrate) "${limit[@]}" "$here/migrate/check.sh" ;;
    *)
      echo "unknown tool $t" >&2
      exit 2
      ;;
  esac || failed=1
done
exit $failed
