#!/usr/bin/env bash
# golang-migrate's CLI against a PostgreSQL-wire server, with both of its
# PostgreSQL drivers (postgres: lib/pq; pgx5: pgx v5): up, use, down -all,
# up again. Each migration file is one multi-statement query, as migrate
# sends it. Reads PGHOST/PGPORT/PGUSER/PGPASSWORD; the CLI comes from
# test/tools/install.sh (test/tools/bin/migrate). Prints ok/not ok lines;
# exit 1 on a failure.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
migrate="${MIGRATE:-$here/../bin/migrate}"
user="${PGUSER:-postgres}"
auth="$user"
[[ -n "${PGPASSWORD:-}" ]] && auth="$user:$PGPASSWORD"
psql=(psql -X -q -v ON_ERROR_STOP=1 -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5433}" -U "$user" -d "${PGDATABASE:-postgres}" -At)
passed=0
failed=0
check() {
  local name="$1"
  shift
  local out
  if out="$("$@" 2>&1)"; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name: $(echo "$out" | tail -3 | tr '\n' ' ')"
  fi
}
want() { # want EXPECTED SQL: the query's output must be EXPECTED
  local got
  got="$("${psql[@]}" -c "$2")" || return 1
  [[ "$got" == "$1" ]] || { echo "$2: got '$got', want '$1'"; return 1; }
}
use() {
  "${psql[@]}" -c "INSERT INTO gm_accounts (email) VALUES ('g@example.com')" &&
    "${psql[@]}" -c "INSERT INTO gm_transfers (account_id, amount, note) SELECT id, 12.50, 'first' FROM gm_accounts" &&
    want anonymous "SELECT name FROM gm_accounts" &&
    want 12.50 "SELECT amount FROM gm_transfers" &&
    ! "${psql[@]}" -c "INSERT INTO gm_transfers (account_id, amount) VALUES (1, 0)" 2>/dev/null &&
    "${psql[@]}" -c "DELETE FROM gm_accounts" &&
    want 0 "SELECT count(*) FROM gm_transfers"
}
clean() {
  "${psql[@]}" -c "DROP TABLE IF EXISTS gm_transfers; DROP TABLE IF EXISTS gm_accounts; DROP TABLE IF EXISTS schema_migrations"
}
for driver in postgres pgx5; do
  db="$driver://$auth@${PGHOST:-127.0.0.1}:${PGPORT:-5433}/${PGDATABASE:-postgres}?sslmode=disable"
  check "$driver: clean" clean
  check "$driver: up" "$migrate" -path "$here/migrations" -database "$db" up
  check "$driver: version" want "2|f" "SELECT version, dirty FROM schema_migrations"
  check "$driver: use the tables" use
  check "$driver: down -all" "$migrate" -path "$here/migrations" -database "$db" down -all
  check "$driver: tables gone" want 0 "SELECT count(*) FROM pg_class WHERE relname LIKE 'gm\_%'"
  check "$driver: up again" "$migrate" -path "$here/migrations" -database "$db" up
done
echo "$passed passed, $failed failed"
((failed == 0))
