#!/usr/bin/env bash
# Installs what the client checks in this directory need, on Debian 12 as root:
# Debian's psycopg2, psycopg 3 and pgjdbc (for /usr/bin/python3 and java), the
# JDK and Node.js when they are missing, and node-postgres from package-lock.json.
# Idempotent: when everything is already there it installs nothing.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

pkgs=(python3 python3-psycopg2 python3-psycopg libpostgresql-jdbc-java)
command -v javac >/dev/null 2>&1 || pkgs+=(openjdk-17-jdk-headless)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  # Update the package lists only when apt does not know a package yet.
  for p in "${missing[@]}"; do
    if ! apt-cache show "$p" >/dev/null 2>&1; then
      apt-get update -q
      break
    fi
  done
  echo "install.sh: apt-get install ${missing[*]}"
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm ci only when node_modules does not hold the pinned pg already.
want="$(node -p "require('$here/node/package-lock.json').packages['node_modules/pg'].version")"
have="$(node -p "try { require('$here/node/node_modules/pg/package.json').version } catch (e) { '' }")"
if [[ "$want" != "$have" ]]; then
  echo "install.sh: npm ci (pg $want)"
  (cd "$here/node" && npm ci --no-audit --no-fund)
fi

/usr/bin/python3 -c 'import psycopg2, psycopg' 
test -r /usr/share/java/postgresql.jar
echo "install.sh: client dependencies present"
