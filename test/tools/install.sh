#!/usr/bin/env bash
# Installs what the migration-tool checks in this directory need, on Debian 12
# as root: Debian's Django, Alembic and SQLAlchemy (with psycopg2, for
# /usr/bin/python3), knex, Sequelize and Umzug from package-lock.json, and
# golang-migrate's CLI (built with go install into test/tools/bin).
# Idempotent: when everything is already there it installs nothing.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

pkgs=(python3 python3-psycopg2 python3-django python3-alembic python3-sqlalchemy)
missing=()
for p in "${pkgs[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  for p in "${missing[@]}"; do
    if ! apt-cache show "$p" >/dev/null 2>&1; then
      apt-get update -q
      break
    fi
  done
  echo "install.sh: apt-get install ${missing[*]}"
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm ci only when node_modules does not hold the pinned versions already.
current() {
  node -e '
    const pkgs = ["knex", "sequelize", "umzug", "pg"];
    const lock = require(process.argv[1] + "/package-lock.json");
    const want = pkgs.map((p) => lock.packages["node_modules/" + p].version);
    const have = pkgs.map((p) => {
      try { return require(process.argv[1] + "/node_modules/" + p + "/package.json").version; } catch (e) { return ""; }
    });
    process.exit(want.join() === have.join() ? 0 : 1);' "$here/node"
}
if ! current; then
  echo "install.sh: npm ci (test/tools/node)"
  (cd "$here/node" && npm ci --no-audit --no-fund)
fi

# golang-migrate's CLI with its lib/pq and pgx v5 drivers, pinned (a go
# install'd binary reports its version as "dev": a stamp file says which).
migrate_version=v4.20.1
if [[ ! -x "$here/bin/migrate" || "$(cat "$here/bin/migrate.version" 2>/dev/null)" != "$migrate_version" ]]; then
  echo "install.sh: go install golang-migrate $migrate_version"
  mkdir -p "$here/bin"
  GOBIN="$here/bin" go install -tags 'postgres pgx5' \
    "github.com/golang-migrate/migrate/v4/cmd/migrate@$migrate_version"
  echo "$migrate_version" >"$here/bin/migrate.version"
fi

/usr/bin/python3 -c 'import django, alembic, sqlalchemy, psycopg2'
echo "install.sh: migration-tool dependencies present"
