#!/usr/bin/env bash
# Checks the packaging files without Docker (which this machine cannot run):
# the Dockerfile with dockerfilelint (npm), the systemd unit with
# systemd-analyze verify, and the compose file's structure (every node has
# node TLS, a data volume, a health check on /readyz; the CA key is
# mounted by no node). Tools install into deploy/.lint (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
lint=deploy/.lint
if [ ! -x "$lint/node_modules/.bin/dockerfilelint" ] || [ ! -d "$lint/node_modules/yaml" ]; then
	mkdir -p "$lint"
	(cd "$lint" && npm install --silent --no-audit --no-fund --no-package-lock dockerfilelint@1.8.0 yaml@2 >/dev/null)
fi
"$lint/node_modules/.bin/dockerfilelint" Dockerfile

if command -v systemd-analyze >/dev/null; then
	# verify wants ExecStart to exist: check a copy that runs a built binary.
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	go build -o "$tmp/pgraft" ./cmd/pgraft
	sed "s|/usr/local/bin/pgraft|$tmp/pgraft|" deploy/pgraft.service >"$tmp/pgraft.service"
	out=$(systemd-analyze verify "$tmp/pgraft.service" 2>&1 || true)
	if [ -n "$out" ]; then
		echo "systemd-analyze verify deploy/pgraft.service:"
		echo "$out"
		exit 1
	fi
	echo "deploy/pgraft.service: systemd-analyze verify found nothing"
else
	echo "systemd-analyze not installed: deploy/pgraft.service not verified"
fi

NODE_PATH="$lint/node_modules" node - <<'JS'
const fs = require('fs');
const YAML = require('yaml');
const doc = YAML.parse(fs.readFileSync('deploy/compose.yaml', 'utf8'), { merge: true });
const fail = (m) => { console.error('deploy/compose.yaml: ' + m); process.exit(1); };
const nodes = Object.entries(doc.services).filter(([n]) => n.startsWith('node'));
if (nodes.length !== 3) fail(`want 3 nodes, have ${nodes.length}`);
for (const [name, s] of nodes) {
  const env = s.environment || {};
  for (const k of ['PGRAFT_NODE_TLS_CERT', 'PGRAFT_NODE_TLS_KEY', 'PGRAFT_NODE_TLS_CA', 'PGRAFT_RAFT_ADDR', 'PGRAFT_PASSWORD_FILE'])
    if (!env[k]) fail(`${name} lacks ${k}`);
  if (env.PGRAFT_INSECURE_NODE_TRAFFIC || env.PGRAFT_INSECURE) fail(`${name} runs insecure`);
  if (!(s.volumes || []).some((v) => v.endsWith(':/var/lib/pgraft'))) fail(`${name} has no data volume`);
  if ((s.volumes || []).some((v) => v.startsWith('ca:'))) fail(`${name} mounts the CA key`);
  if (!s.healthcheck || !s.healthcheck.test.join(' ').includes('/readyz')) fail(`${name} has no /readyz health check`);
  if (name !== 'node1' && !env.PGRAFT_JOIN) fail(`${name} joins no one`);
}
for (const v of Object.values(doc.services).flatMap((s) => s.volumes || []))
  if (!(v.split(':')[0] in doc.volumes)) fail(`volume ${v} is not declared`);
console.log('deploy/compose.yaml: 3 nodes with node TLS, data volumes and health checks');
JS
