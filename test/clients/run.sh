#!/usr/bin/env bash
# Runs every client check in this directory against one PostgreSQL-wire server.
#   usage: test/clients/run.sh HOST PORT [CLIENT...]
# CLIENT is any of psycopg2 psycopg3 jdbc node (default: all). Each client's
# output is printed as it runs; the last lines summarise them. Exits 1 if any
# client failed, 2 on bad usage. Dependencies come from test/clients/install.sh.
set -uo pipefail

if (($# < 2)); then
  echo "usage: $0 HOST PORT [psycopg2|psycopg3|jdbc|node ...]" >&2
  exit 2
fi
export PGHOST="$1" PGPORT="$2"
shift 2
clients=("$@")
((${#clients[@]})) || clients=(psycopg2 psycopg3 jdbc node)

here="$(cd "$(dirname "$0")" && pwd)"
jar="${PGJDBC_JAR:-/usr/share/java/postgresql.jar}"
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT

# A hung server must not hang the run: each client gets CLIENT_TIMEOUT seconds.
limit=(timeout --kill-after=10 "${CLIENT_TIMEOUT:-300}")

run_client() {
  case "$1" in
    psycopg2) "${limit[@]}" /usr/bin/python3 "$here/python/test_psycopg2.py" ;;
    psycopg3) "${limit[@]}" /usr/bin/python3 "$here/python/test_psycopg3.py" ;;
    jdbc)
      javac -d "$classes" -cp "$jar" "$here/java/ClientTest.java" &&
        "${limit[@]}" java -cp "$classes:$jar" ClientTest
      ;;
    node) "${limit[@]}" node "$here/node/client_test.js" ;;
    *)
      echo "unknown client $1" >&2
      return 2
      ;;
  esac
}

summary=()
failed=0
for c in "${clients[@]}"; do
  echo "=== $c ($PGHOST:$PGPORT)"
  start=$SECONDS
  if run_client "$c"; then
    summary+=("PASS $c ($((SECONDS - start))s)")
  else
    summary+=("FAIL $c ($((SECONDS - start))s)")
    failed=1
  fi
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
npass="$(printf '%s\n' "${summary[@]}" | grep -c '^PASS' || true)"
echo "clients: $npass passed, $((${#summary[@]} - npass)) failed"
exit "$failed"
