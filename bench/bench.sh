#!/usr/bin/env bash
# bench/bench.sh - pgraft against PostgreSQL 15, on this machine, in one run (make bench).
#
#   bench/bench.sh [options]
#
# Starts, in a scratch directory, everything it measures:
#   pgraft-3    a three-node pgraft (`pgraft dev`, one process; or with --cluster serve three
#               `pgraft serve` processes); workloads go to its leader
#   pgraft-1    one `pgraft serve` node
#   pg-single   one PostgreSQL 15 server
#   pg-quorum   PostgreSQL 15 primary + hot standbys s1, s2 (streaming replication,
#               synchronous_standby_names = 'ANY 1 (s1, s2)', synchronous_commit = on:
#               a commit is durable on two of three nodes, as in a three-node Raft group)
# loads bench/sql/setup.sql into each, runs the workloads with pgbench (-M simple), the runs
# of every target interleaved (A B C D, then B C D A, ...) so that the machine's noise hits
# every target alike, then times a COPY FROM STDIN of --copy-rows rows into each. Prints
# Markdown tables of medians and ratios to stdout, progress to stderr, every run to a CSV,
# and stops and deletes everything it started (also on Ctrl-C or an error).
#
# Workloads (bench/sql/):
#   insert        autocommit upsert of one row into kv
#   transfer      BEGIN; 2 x UPDATE accounts; INSERT INTO history; COMMIT
#   mixed         90 % point_select, 10 % autocommit UPDATE accounts
#   point_select  SELECT one account by primary key, on the leader / primary
#   follower      point_select on a pgraft follower (of pgraft-3) and on a PostgreSQL hot
#                 standby (s1 of pg-quorum)
#
# Options (environment variable in brackets; the flag wins):
#   --quick              1 run x 5 s, clients 1,8, COPY once
#   --runs N             runs of every point, medians over them [BENCH_RUNS, 3]
#   --duration S         seconds of each pgbench run [BENCH_DURATION, 10]
#   --clients LIST       pgbench client counts [BENCH_CLIENTS, 1,8,32]
#   --workloads LIST     of the above [BENCH_WORKLOADS, insert,transfer,mixed,point_select,follower]
#   --targets LIST       of pgraft-3, pgraft-1, pg-single, pg-quorum [BENCH_TARGETS, all four]
#   --copy-rows N        rows of the COPY test; 0 skips it [BENCH_COPY_ROWS, 1000000]
#   --copy-chunk N       rows per COPY statement; 0 sends all rows in one COPY
#                        [BENCH_COPY_CHUNK, 10000] (a pgraft COPY is one log entry of at
#                        most 16 MiB today, so the rows go as several COPYs, on every target)
#   --copy-runs N        COPY runs per target [BENCH_COPY_RUNS, --runs]
#   --profile DIR        during each pgraft run, save the CPU profile of the node that
#                        serves it (/debug/pprof/profile; with --cluster serve also of a
#                        follower during writes to pgraft-3) and a goroutine profile every
#                        second (where sessions wait: pgraft sets no block or mutex profile
#                        rate), then `go tool pprof -top` of each and DIR/summary.md (CPU per
#                        committed transaction, top entries) [BENCH_PROFILE]
#   --cluster KIND       how pgraft-3 runs: dev (`pgraft dev`: three nodes in one process,
#                        so one profile covers all three) or serve (three `pgraft serve`
#                        processes with node TLS from `pgraft cert`: a profile per node)
#                        [BENCH_CLUSTER, dev]
#   --out FILE           every run as CSV [BENCH_OUT, ./bench-results.csv]
#   --pgraft BIN         pgraft binary to run instead of building ./cmd/pgraft [PGRAFT]
#   --port N             base port: pgraft-3 uses N+1..3 (PostgreSQL), N+11..13 (Raft),
#                        N+21..23 (HTTP); pgraft-1 N+31..33; PostgreSQL N+41..44 [BENCH_PORT, 56000]
#   --dir DIR            scratch directory (new or empty; deleted, or emptied, at the end)
#                        [BENCH_DIR, a new /tmp/pgraft-bench.XXXXXX]
#   --keep               leave the servers running and the scratch directory in place
#   -h, --help           this text
# Environment only: BENCH_GRACE (seconds a pgbench run may overrun before it is killed and
# counted as failed) [60]; BENCH_LOCK (a file held with flock around every measured run, so
# that benchmarks on one machine do not overlap; "none" turns it off) [/tmp/bench.lock];
# PG_BIN (PostgreSQL server binaries) [/usr/lib/postgresql/15/bin, else pg_config --bindir];
# PG_OS_USER (who runs PostgreSQL when this runs as root) [postgres].
#
# Needs: bash, pgbench and psql (15 or newer), PostgreSQL 15 server binaries, curl, awk,
# timeout, flock; go to build pgraft (unless --pgraft) and for --profile summaries.
# Exit status: 0 when every run succeeded, 1 when any failed (they are in the tables),
# 2 when the benchmark could not start.
set -euo pipefail

ME=bench.sh
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SQL="$HERE/sql"
ACCOUNTS=100000 # rows setup.sql puts into accounts

die() { echo "$ME: error: $*" >&2; exit 2; }
log() { echo "$ME: $(date -u +%H:%M:%S) $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; esac; }
is_pos() { is_uint "$1" && [ "$1" -gt 0 ]; }

# ---------------------------------------------------------------- options
QUICK=0
KEEP=0
RUNS="${BENCH_RUNS:-}"
DURATION="${BENCH_DURATION:-}"
CLIENTS_CSV="${BENCH_CLIENTS:-}"
WORKLOADS_CSV="${BENCH_WORKLOADS:-insert,transfer,mixed,point_select,follower}"
TARGETS_CSV="${BENCH_TARGETS:-pgraft-3,pgraft-1,pg-single,pg-quorum}"
COPY_ROWS="${BENCH_COPY_ROWS:-1000000}"
COPY_CHUNK="${BENCH_COPY_CHUNK:-10000}"
COPY_RUNS="${BENCH_COPY_RUNS:-}"
PROFILE="${BENCH_PROFILE:-}"
CLUSTER="${BENCH_CLUSTER:-dev}"
OUT="${BENCH_OUT:-./bench-results.csv}"
PGRAFT="${PGRAFT:-}"
PORT="${BENCH_PORT:-56000}"
DIR="${BENCH_DIR:-}"
GRACE="${BENCH_GRACE:-60}"
LOCK="${BENCH_LOCK:-/tmp/bench.lock}"
OS_USER="${PG_OS_USER:-postgres}"

while [ $# -gt 0 ]; do
	arg="$1"
	shift
	val=""
	case "$arg" in
	--*=*)
		val="${arg#*=}"
		arg="${arg%%=*}"
		set -- "$val" "$@"
		;;
	esac
	case "$arg" in
	--runs | --duration | --clients | --workloads | --targets | --copy-rows | --copy-chunk | --copy-runs | --profile | --cluster | --out | --pgraft | --port | --dir)
		[ $# -gt 0 ] && [ -n "$1" ] || die "$arg needs a value"
		val="$1"
		shift
		case "$arg" in
		--runs) RUNS="$val" ;;
		--duration) DURATION="$val" ;;
		--clients) CLIENTS_CSV="$val" ;;
		--workloads) WORKLOADS_CSV="$val" ;;
		--targets) TARGETS_CSV="$val" ;;
		--copy-rows) COPY_ROWS="$val" ;;
		--copy-chunk) COPY_CHUNK="$val" ;;
		--copy-runs) COPY_RUNS="$val" ;;
		--profile) PROFILE="$val" ;;
		--cluster) CLUSTER="$val" ;;
		--out) OUT="$val" ;;
		--pgraft) PGRAFT="$val" ;;
		--port) PORT="$val" ;;
		--dir) DIR="$val" ;;
		esac
		;;
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown argument: $arg (see --help)" ;;
	esac
done

if [ "$QUICK" = 1 ]; then
	RUNS="${RUNS:-1}" DURATION="${DURATION:-5}" CLIENTS_CSV="${CLIENTS_CSV:-1,8}"
else
	RUNS="${RUNS:-3}" DURATION="${DURATION:-10}" CLIENTS_CSV="${CLIENTS_CSV:-1,8,32}"
fi
COPY_RUNS="${COPY_RUNS:-$RUNS}"
is_pos "$RUNS" || die "--runs: a positive whole number"
is_pos "$DURATION" || die "--duration: a positive whole number of seconds"
is_pos "$COPY_RUNS" || die "--copy-runs: a positive whole number"
is_uint "$COPY_ROWS" || die "--copy-rows: a whole number"
is_uint "$COPY_CHUNK" || die "--copy-chunk: a whole number"
case "$CLUSTER" in dev | serve) ;; *) die "--cluster: dev or serve" ;; esac
is_pos "$GRACE" || die "BENCH_GRACE: a positive whole number"
is_pos "$PORT" && [ "$PORT" -le 65400 ] || die "--port: a port number below 65400"
IFS=, read -r -a CLIENTS <<<"$CLIENTS_CSV"
IFS=, read -r -a WORKLOADS <<<"$WORKLOADS_CSV"
IFS=, read -r -a TARGETS <<<"$TARGETS_CSV"
[ ${#CLIENTS[@]} -gt 0 ] && [ ${#WORKLOADS[@]} -gt 0 ] && [ ${#TARGETS[@]} -gt 0 ] ||
	die "--clients, --workloads and --targets need at least one value"
for c in "${CLIENTS[@]}"; do is_pos "$c" || die "bad client count '$c'"; done
for w in "${WORKLOADS[@]}"; do
	case "$w" in insert | transfer | mixed | point_select | follower) ;; *) die "unknown workload '$w'" ;; esac
done
HAVE_P3=0 HAVE_P1=0 HAVE_PGS=0 HAVE_PGQ=0
for t in "${TARGETS[@]}"; do
	case "$t" in
	pgraft-3) HAVE_P3=1 ;;
	pgraft-1) HAVE_P1=1 ;;
	pg-single) HAVE_PGS=1 ;;
	pg-quorum) HAVE_PGQ=1 ;;
	*) die "unknown target '$t' (pgraft-3, pgraft-1, pg-single, pg-quorum)" ;;
	esac
done

# The ports (see --port).
P3_PG=$((PORT + 1)) P3_RAFT=$((PORT + 11)) P3_HTTP=$((PORT + 21))
P1_PG=$((PORT + 31)) P1_RAFT=$((PORT + 32)) P1_HTTP=$((PORT + 33))
PGS_PORT=$((PORT + 41)) PGQ_PORT=$((PORT + 42)) PGQ_S1=$((PORT + 43)) PGQ_S2=$((PORT + 44))

# ---------------------------------------------------------------- tools
for c in pgbench psql curl awk sed sort timeout flock date; do
	command -v "$c" >/dev/null 2>&1 || die "missing command: $c"
done
PG_BIN="${PG_BIN:-}"
if [ -z "$PG_BIN" ]; then
	if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
		PG_BIN=/usr/lib/postgresql/15/bin
	elif command -v pg_config >/dev/null 2>&1; then
		PG_BIN="$(pg_config --bindir)"
	fi
fi
if [ "$HAVE_PGS$HAVE_PGQ" != 00 ]; then
	for b in initdb pg_ctl postgres pg_basebackup; do
		[ -x "$PG_BIN/$b" ] || die "no $b in '$PG_BIN': install PostgreSQL 15 (Debian: postgresql-15) or set PG_BIN"
	done
fi
AS_PG=()
if [ "$(id -u)" = 0 ]; then
	# PostgreSQL refuses to run as root.
	id "$OS_USER" >/dev/null 2>&1 || die "running as root: PostgreSQL needs an unprivileged user '$OS_USER' (PG_OS_USER)"
	AS_PG=(runuser -u "$OS_USER" --)
fi
NCPU="$(nproc 2>/dev/null || echo 2)"
PGBENCH_VERSION="$(pgbench --version)"

# ---------------------------------------------------------------- cleanup
# Everything started is recorded here and stopped by cleanup, on any exit.
PGRAFT_PIDS=() # "pid name"
PG_DIRS=()     # data directories of running PostgreSQL servers
MADE_DIR=0
CHILD=""

stop_all() {
	local e pid name i d
	for d in "${PG_DIRS[@]}"; do
		"${AS_PG[@]}" "$PG_BIN/pg_ctl" stop -D "$d" -m fast -w -t 60 >/dev/null 2>&1 ||
			"${AS_PG[@]}" "$PG_BIN/pg_ctl" stop -D "$d" -m immediate -w -t 30 >/dev/null 2>&1 ||
			log "warning: could not stop PostgreSQL in $d"
	done
	PG_DIRS=()
	for e in "${PGRAFT_PIDS[@]}"; do kill -TERM "${e%% *}" 2>/dev/null || true; done
	for e in "${PGRAFT_PIDS[@]}"; do
		pid="${e%% *}" name="${e#* }"
		for i in $(seq 1 300); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "warning: $name (pid $pid) still running 30 s after SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	PGRAFT_PIDS=()
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	exec >&7 2>&8
	if [ -n "$CHILD" ]; then
		kill -TERM "$CHILD" 2>/dev/null || true
		wait "$CHILD" 2>/dev/null || true
	fi
	if [ "$KEEP" = 1 ]; then
		log "--keep: servers left running, scratch in $DIR; to stop them:"
		for e in "${PGRAFT_PIDS[@]}"; do log "  kill ${e%% *}   # ${e#* }"; done
		for e in "${PG_DIRS[@]}"; do log "  ${AS_PG[*]} $PG_BIN/pg_ctl stop -D $e"; done
		exit "$rc"
	fi
	stop_all
	if [ "$MADE_DIR" = 1 ]; then
		rm -rf "$DIR"
	elif [ "$MADE_DIR" = 2 ]; then
		find "$DIR" -mindepth 1 -delete
	fi
	exit "$rc"
}
# fds 7 and 8 keep the script's own stdout and stderr: a trap can run inside a function
# whose output is redirected (run_bg ... >file), and must still report here.
exec 7>&1 8>&2
trap cleanup EXIT
trap 'exec >&7 2>&8; log interrupted; exit 130' INT TERM

# run_bg CMD...: run CMD and wait for it, such that Ctrl-C interrupts at once (bash runs a
# trap only after its foreground command ends, but `wait` returns on a signal).
run_bg() {
	local rc=0
	"$@" 7>&- 8>&- 9>&- &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=""
	return "$rc"
}

if [ "$LOCK" = none ]; then
	LOCK=""
else
	{ exec 9>>"$LOCK"; } 2>/dev/null || die "cannot open the lock file $LOCK (BENCH_LOCK=none turns it off)"
fi
lock() {
	[ -n "$LOCK" ] || return 0
	flock -n 9 && return 0
	log "waiting for $LOCK (another benchmark on this machine holds it)"
	flock -w 3600 9 || die "$LOCK still held after an hour"
}
unlock() { [ -z "$LOCK" ] || flock -u 9; }

port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- scratch
if [ -z "$DIR" ]; then
	DIR="$(mktemp -d /tmp/pgraft-bench.XXXXXX)"
	MADE_DIR=1
elif [ -e "$DIR" ]; then
	[ -d "$DIR" ] && [ -z "$(ls -A "$DIR")" ] || die "--dir $DIR is not an empty directory"
	MADE_DIR=2 # emptied again at the end
else
	mkdir -p "$DIR"
	MADE_DIR=1
fi
chmod 755 "$DIR" # PostgreSQL's user must reach its data directories
mkdir -p "$DIR/log"

used=()
[ "$HAVE_P3" = 0 ] || used+=("$P3_PG" $((P3_PG + 1)) $((P3_PG + 2)) "$P3_RAFT" $((P3_RAFT + 1)) $((P3_RAFT + 2)) "$P3_HTTP" $((P3_HTTP + 1)) $((P3_HTTP + 2)))
[ "$HAVE_P1" = 0 ] || used+=("$P1_PG" "$P1_RAFT" "$P1_HTTP")
[ "$HAVE_PGS" = 0 ] || used+=("$PGS_PORT")
[ "$HAVE_PGQ" = 0 ] || used+=("$PGQ_PORT" "$PGQ_S1" "$PGQ_S2")
for p in "${used[@]}"; do
	! port_open "$p" || die "127.0.0.1:$p is in use; choose other ports with --port"
done

# ---------------------------------------------------------------- pgraft
if [ "$HAVE_P3$HAVE_P1" != 00 ]; then
	if [ -z "$PGRAFT" ]; then
		command -v go >/dev/null 2>&1 || die "go is needed to build pgraft (or give --pgraft BIN)"
		log "building pgraft"
		(cd "$REPO" && go build -o "$DIR/pgraft" ./cmd/pgraft) || die "go build failed"
		PGRAFT="$DIR/pgraft"
	fi
	[ -x "$PGRAFT" ] || die "--pgraft $PGRAFT is not executable"
fi

wait_sql() { # wait_sql PORT NAME LOGFILE: until SELECT 1 answers (60 s at most)
	local i
	for i in $(seq 1 120); do
		if PGCONNECT_TIMEOUT=2 psql -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	tail -n 20 "$3" >&2 || true
	die "$2 does not answer on 127.0.0.1:$1 after 60 s (log above: $3)"
}

pprof_flag=()
[ -z "$PROFILE" ] || pprof_flag=(--pprof)
if [ "$HAVE_P3" = 1 ] && [ "$CLUSTER" = dev ]; then
	log "starting pgraft-3 (pgraft dev): PostgreSQL 127.0.0.1:$P3_PG-$((P3_PG + 2)), HTTP :$P3_HTTP-$((P3_HTTP + 2))"
	"$PGRAFT" dev --data-dir "$DIR/pgraft-3" --pg-port "$P3_PG" --raft-port "$P3_RAFT" --http-port "$P3_HTTP" \
		--log-level warn "${pprof_flag[@]}" >"$DIR/log/pgraft-3.log" 2>&1 7>&- 8>&- 9>&- &
	PGRAFT_PIDS+=("$! pgraft-3")
	for i in 0 1 2; do wait_sql $((P3_PG + i)) "pgraft-3 node $((i + 1))" "$DIR/log/pgraft-3.log"; done
elif [ "$HAVE_P3" = 1 ]; then
	log "starting pgraft-3 (3 x pgraft serve): PostgreSQL 127.0.0.1:$P3_PG-$((P3_PG + 2)), HTTP :$P3_HTTP-$((P3_HTTP + 2))"
	for i in 1 2 3; do
		"$PGRAFT" cert --dir "$DIR/tls" --node "node$i" --host 127.0.0.1 >"$DIR/log/cert.log" 2>&1 ||
			{ cat "$DIR/log/cert.log" >&2; die "pgraft cert failed"; }
	done
	for i in 1 2 3; do
		join=()
		[ "$i" = 1 ] || join=(--join "127.0.0.1:$P3_RAFT")
		"$PGRAFT" serve --node-id "node$i" --data-dir "$DIR/pgraft-3/node$i" --pg-addr "127.0.0.1:$((P3_PG + i - 1))" \
			--raft-addr "127.0.0.1:$((P3_RAFT + i - 1))" --http-addr "127.0.0.1:$((P3_HTTP + i - 1))" "${join[@]}" \
			--node-tls-cert "$DIR/tls/node$i.crt" --node-tls-key "$DIR/tls/node$i.key" --node-tls-ca "$DIR/tls/ca.crt" \
			--log-level warn --log-connections=false "${pprof_flag[@]}" >"$DIR/log/pgraft-3-node$i.log" 2>&1 7>&- 8>&- 9>&- &
		PGRAFT_PIDS+=("$! pgraft-3 node$i")
		wait_sql $((P3_PG + i - 1)) "pgraft-3 node$i" "$DIR/log/pgraft-3-node$i.log"
		if [ "$i" = 1 ]; then # node1 bootstraps; it must lead before the others join
			for k in $(seq 1 60); do
				[ "$(timeout 5 psql -X -q -At -h 127.0.0.1 -p "$P3_PG" -U postgres -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" != f ] || break
				sleep 0.5
			done
		fi
	done
fi
if [ "$HAVE_P1" = 1 ]; then
	log "starting pgraft-1 (pgraft serve): 127.0.0.1:$P1_PG, HTTP :$P1_HTTP"
	"$PGRAFT" serve --data-dir "$DIR/pgraft-1" --pg-addr "127.0.0.1:$P1_PG" --raft-addr "127.0.0.1:$P1_RAFT" \
		--http-addr "127.0.0.1:$P1_HTTP" --log-level warn --log-connections=false "${pprof_flag[@]}" \
		>"$DIR/log/pgraft-1.log" 2>&1 7>&- 8>&- 9>&- &
	PGRAFT_PIDS+=("$! pgraft-1")
	wait_sql "$P1_PG" pgraft-1 "$DIR/log/pgraft-1.log"
fi

# dev_roles: where pgraft-3's leader and a follower are now (leadership can move).
LEADER_PG="" LEADER_HTTP="" FOLLOWER_PG="" FOLLOWER_HTTP="" LEADER_MOVES=0
# Sets them only when it finds both; otherwise leaves them as they were and fails.
dev_roles() {
	local i role leader="" follower=""
	for i in 0 1 2; do
		# pgraft answers pg_is_in_recovery() false on the leader, true on a follower
		role="$(timeout 5 env PGCONNECT_TIMEOUT=3 psql -X -q -At -h 127.0.0.1 -p $((P3_PG + i)) -U postgres -d postgres \
			-c 'SELECT pg_is_in_recovery()' 2>/dev/null || true)"
		case "$role" in
		f) leader="$i" ;;
		t) [ -n "$follower" ] || follower="$i" ;;
		esac
	done
	[ -n "$leader" ] && [ -n "$follower" ] || return 1
	LEADER_PG=$((P3_PG + leader)) LEADER_HTTP=$((P3_HTTP + leader))
	FOLLOWER_PG=$((P3_PG + follower)) FOLLOWER_HTTP=$((P3_HTTP + follower))
}
if [ "$HAVE_P3" = 1 ]; then
	ok=0
	for i in $(seq 1 60); do
		if dev_roles; then ok=1 && break; else sleep 0.5; fi
	done
	[ "$ok" = 1 ] || die "pgraft-3 has no leader and follower after 30 s (see $DIR/log/pgraft-3*.log)"
	log "pgraft-3: leader on :$LEADER_PG, follower reads on :$FOLLOWER_PG"
fi

# ---------------------------------------------------------------- PostgreSQL
pg_conf() { # pg_conf PORT: the settings of every PostgreSQL node
	cat <<EOF

# bench.sh: durable, otherwise an untuned install's defaults
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = ''
max_connections = 100
fsync = on
synchronous_commit = on
full_page_writes = on
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
EOF
}
pg_init() { # pg_init NAME PORT
	local d="$DIR/pg/$1"
	"${AS_PG[@]}" "$PG_BIN/initdb" -D "$d" -U postgres --auth=trust -E UTF8 --locale=C --no-instructions \
		>"$DIR/log/initdb-$1.log" 2>&1 || {
		cat "$DIR/log/initdb-$1.log" >&2
		die "initdb $1 failed"
	}
	pg_conf "$2" | "${AS_PG[@]}" tee -a "$d/postgresql.conf" >/dev/null
}
pg_start() { # pg_start NAME PORT
	local d="$DIR/pg/$1"
	PG_DIRS+=("$d")
	"${AS_PG[@]}" "$PG_BIN/pg_ctl" start -D "$d" -l "$DIR/pg/$1.log" -w -t 120 >/dev/null 7>&- 8>&- 9>&- || {
		tail -n 20 "$DIR/pg/$1.log" >&2 || true
		die "PostgreSQL $1 did not start"
	}
	wait_sql "$2" "PostgreSQL $1" "$DIR/pg/$1.log"
}
pg_at() { PGCONNECT_TIMEOUT=5 psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2"; }

if [ "$HAVE_PGS$HAVE_PGQ" != 00 ]; then
	mkdir -p "$DIR/pg"
	[ ${#AS_PG[@]} = 0 ] || chown "$OS_USER:" "$DIR/pg"
fi
if [ "$HAVE_PGS" = 1 ]; then
	log "starting pg-single: PostgreSQL 127.0.0.1:$PGS_PORT"
	pg_init single "$PGS_PORT"
	pg_start single "$PGS_PORT"
fi
if [ "$HAVE_PGQ" = 1 ]; then
	log "starting pg-quorum: primary 127.0.0.1:$PGQ_PORT, hot standbys s1 :$PGQ_S1, s2 :$PGQ_S2"
	pg_init primary "$PGQ_PORT"
	pg_start primary "$PGQ_PORT"
	for s in s1 s2; do
		sport="$PGQ_S1"
		[ "$s" = s1 ] || sport="$PGQ_S2"
		pg_at "$PGQ_PORT" "SELECT pg_create_physical_replication_slot('$s')" >/dev/null
		"${AS_PG[@]}" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PGQ_PORT" -U postgres -D "$DIR/pg/$s" \
			-X stream -S "$s" -R --checkpoint=fast >"$DIR/log/basebackup-$s.log" 2>&1 || {
			cat "$DIR/log/basebackup-$s.log" >&2
			die "pg_basebackup for $s failed"
		}
		printf "port = %s\nprimary_conninfo = 'host=127.0.0.1 port=%s user=postgres application_name=%s'\nprimary_slot_name = '%s'\n" \
			"$sport" "$PGQ_PORT" "$s" "$s" | "${AS_PG[@]}" tee -a "$DIR/pg/$s/postgresql.auto.conf" >/dev/null
		pg_start "$s" "$sport"
	done
	# Synchronous only once both standbys stream (they were copied without it).
	pg_at "$PGQ_PORT" "ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (s1, s2)'" >/dev/null
	pg_at "$PGQ_PORT" "SELECT pg_reload_conf()" >/dev/null
	q=0
	for i in $(seq 1 120); do
		q="$(pg_at "$PGQ_PORT" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = 'quorum'" || echo 0)"
		[ "$q" = 2 ] && break
		sleep 0.5
	done
	[ "$q" = 2 ] || die "pg-quorum: the standbys are not streaming as quorum-synchronous after 60 s (logs in $DIR/pg)"
fi

# ---------------------------------------------------------------- targets
# A measured target: label, port (and HTTP port for a pgraft node, for profiles).
# pgraft-3's leader and follower are looked up again before each run.
target_port() { # target_port LABEL -> PostgreSQL port now
	case "$1" in
	pgraft-3) echo "$LEADER_PG" ;;
	pgraft-follower) echo "$FOLLOWER_PG" ;;
	pgraft-1) echo "$P1_PG" ;;
	pg-single) echo "$PGS_PORT" ;;
	pg-quorum) echo "$PGQ_PORT" ;;
	pg-standby) echo "$PGQ_S1" ;;
	esac
}
target_http() { # target_http LABEL -> the HTTP port whose profile covers it, or nothing
	case "$1" in
	pgraft-3) echo "$LEADER_HTTP" ;;
	pgraft-follower) echo "$FOLLOWER_HTTP" ;;
	pgraft-1) echo "$P1_HTTP" ;;
	esac
}
refresh_roles() { # before a run on pgraft-3: say so if leadership moved
	[ "$HAVE_P3" = 1 ] || return 0
	local was="$LEADER_PG" i ok=0
	for i in $(seq 1 20); do
		if dev_roles; then ok=1 && break; else sleep 0.5; fi
	done
	# Without a leader for 10 s, the run goes to the last one known (and likely fails).
	[ "$ok" = 1 ] || { log "warning: pgraft-3 has had no leader for 10 s"; return 0; }
	[ "$was" = "$LEADER_PG" ] || {
		LEADER_MOVES=$((LEADER_MOVES + 1))
		log "note: pgraft-3's leader moved from :$was to :$LEADER_PG"
	}
}

WRITE_TARGETS=()  # workloads other than follower run on these
FOLLOW_TARGETS=() # follower runs on these
[ "$HAVE_P3" = 0 ] || { WRITE_TARGETS+=(pgraft-3) && FOLLOW_TARGETS+=(pgraft-follower); }
[ "$HAVE_P1" = 0 ] || WRITE_TARGETS+=(pgraft-1)
[ "$HAVE_PGS" = 0 ] || WRITE_TARGETS+=(pg-single)
[ "$HAVE_PGQ" = 0 ] || { WRITE_TARGETS+=(pg-quorum) && FOLLOW_TARGETS+=(pg-standby); }

psql_to() { # psql_to PORT TIMEOUT ARGS...
	local port="$1" limit="$2"
	shift 2
	run_bg timeout -k 5 "$limit" env PGCONNECT_TIMEOUT=10 psql -X -q -w -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}
count_accounts() { psql_to "$1" 30 -At -c 'SELECT count(*) FROM accounts' 2>/dev/null | tail -n 1 || true; }

for t in "${WRITE_TARGETS[@]}"; do
	port="$(target_port "$t")"
	log "$t: loading sql/setup.sql"
	psql_to "$port" 600 -f "$SQL/setup.sql" >"$DIR/log/setup-$t.log" 2>&1 || {
		cat "$DIR/log/setup-$t.log" >&2
		die "$t: setup.sql failed"
	}
	n="$(count_accounts "$port")"
	[ "$n" = "$ACCOUNTS" ] || die "$t: accounts has '$n' rows after setup.sql, not $ACCOUNTS"
done
for t in "${FOLLOW_TARGETS[@]}"; do # replicas: wait until the rows have arrived
	port="$(target_port "$t")" n=""
	for i in $(seq 1 120); do
		n="$(count_accounts "$port")"
		[ "$n" = "$ACCOUNTS" ] && break
		sleep 0.5
	done
	[ "$n" = "$ACCOUNTS" ] || die "$t: accounts has '$n' rows 60 s after setup, not $ACCOUNTS"
done

# ---------------------------------------------------------------- pgbench runs
RESULTS="$DIR/results.tsv" # kind target workload clients run status value latency count failed seconds error
: >"$RESULTS"
[ -z "$(dirname "$OUT")" ] || mkdir -p "$(dirname "$OUT")"
echo "started_utc,kind,target,port,workload,clients,jobs,duration_s,run,status,tps_or_rows_per_s,latency_avg_ms,transactions_or_rows,failed_transactions,loadavg_1m,error" >"$OUT"
if [ -n "$PROFILE" ]; then
	mkdir -p "$PROFILE"
	PROFILE="$(cd "$PROFILE" && pwd)"
fi

n_write=0
n_follow=0
for w in "${WORKLOADS[@]}"; do
	if [ "$w" = follower ]; then n_follow=$((n_follow + 1)); else n_write=$((n_write + 1)); fi
done
N_TOTAL=$((RUNS * ${#CLIENTS[@]} * (n_write * ${#WRITE_TARGETS[@]} + n_follow * ${#FOLLOW_TARGETS[@]})))
est=$((N_TOTAL * (DURATION + 2)))
[ "$COPY_ROWS" = 0 ] || est=$((est + COPY_RUNS * ${#WRITE_TARGETS[@]} * (COPY_ROWS / 50000 + 2)))
log "$N_TOTAL pgbench runs of $DURATION s$([ "$COPY_ROWS" = 0 ] || echo ", then COPY"): about $(((est + 59) / 60)) min"
T_START="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
LOAD_START="$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || true)"
n_done=0
any_failed=0

csv_line() { # csv_line FIELDS... (the last, the error, is quoted)
	local n=$# i=0 f line=""
	for f in "$@"; do
		i=$((i + 1))
		if [ "$i" = "$n" ]; then f="\"${f//\"/\"\"}\""; fi
		line="$line${line:+,}$f"
	done
	echo "$line" >>"$OUT"
}
first_error() { # the most telling line of a failed tool's output
	local l
	l="$(grep -m 1 -E 'ERROR|FATAL|error|abort|could not|timed out' "$1" || true)"
	[ -n "$l" ] || l="$(grep -v '^[[:space:]]*$' "$1" | tail -n 1 || true)"
	printf '%s' "$l" | tr '\t\r\n,' '    ' | cut -c 1-200
}

scripts_for() { # pgbench -f arguments of a workload
	case "$1" in
	insert | transfer | point_select) echo "-f $SQL/$1.sql" ;;
	follower) echo "-f $SQL/point_select.sql" ;;
	mixed) echo "-f $SQL/point_select.sql@9 -f $SQL/update.sql@1" ;;
	esac
}

sample_goroutines() { # sample_goroutines HTTP PREFIX SECONDS: a goroutine profile each second
	local i
	for i in $(seq 1 "$3"); do
		sleep 1
		curl -s -f -m 5 -o "$2.goroutine.$i.pb" "http://127.0.0.1:$1/debug/pprof/goroutine" || rm -f "$2.goroutine.$i.pb"
	done
}

run_one() { # run_one TARGET WORKLOAD CLIENTS RUN
	local t="$1" w="$2" c="$3" r="$4" j="$NCPU" rc=0 status=failed tps="" lat="" txns="" ftx="" err=""
	local port http out started load prof="" ppid="" fprof="" fpid="" gpid=""
	[ "$j" -le "$c" ] || j="$c"
	case "$t" in pgraft-3 | pgraft-follower) refresh_roles ;; esac
	port="$(target_port "$t")" http="$(target_http "$t")"
	out="$DIR/log/pgbench.out"
	started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	load="$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || true)"
	n_done=$((n_done + 1))
	lock
	if [ -n "$PROFILE" ] && [ -n "$http" ]; then
		# The CPU profile of the process serving this run, over all but its last second.
		local secs=$((DURATION > 2 ? DURATION - 1 : 1))
		prof="$PROFILE/$t-$w-c$c-run$r.cpu.pprof"
		curl -s -f -m $((secs + 30)) -o "$prof" "http://127.0.0.1:$http/debug/pprof/profile?seconds=$secs" 7>&- 8>&- 9>&- &
		ppid=$!
		if [ "$t" = pgraft-3 ] && [ "$CLUSTER" = serve ]; then # and a follower, replicating these writes
			fprof="$PROFILE/$t-$w-c$c-run$r.follower.cpu.pprof"
			curl -s -f -m $((secs + 30)) -o "$fprof" "http://127.0.0.1:$FOLLOWER_HTTP/debug/pprof/profile?seconds=$secs" 7>&- 8>&- 9>&- &
			fpid=$!
		fi
		sample_goroutines "$http" "${prof%.cpu.pprof}" "$secs" 7>&- 8>&- 9>&- &
		gpid=$!
	fi
	# shellcheck disable=SC2046 # scripts_for is split into its -f arguments on purpose
	run_bg timeout -k 10 $((DURATION + GRACE)) pgbench -n -M simple -c "$c" -j "$j" -T "$DURATION" \
		-h 127.0.0.1 -p "$port" -U postgres $(scripts_for "$w") postgres >"$out" 2>&1 || rc=$?
	if [ -n "$ppid" ]; then
		wait "$ppid" || { log "warning: no profile from :$http for this run"; rm -f "$prof"; }
	fi
	if [ -n "$fpid" ]; then
		wait "$fpid" || { log "warning: no profile from the follower :$FOLLOWER_HTTP for this run"; rm -f "$fprof"; }
	fi
	[ -z "$gpid" ] || wait "$gpid" || true
	unlock
	tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out" | tail -n 1)"
	lat="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out" | tail -n 1)"
	txns="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out" | tail -n 1)"
	ftx="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out" | tail -n 1)"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		err="timed out: still running $((DURATION + GRACE)) s after it started"
	elif [ "$rc" != 0 ]; then
		err="pgbench exit $rc: $(first_error "$out")"
	elif [ -z "$tps" ] || [ "${txns:-0}" = 0 ]; then
		err="no transaction completed: $(first_error "$out")"
	else
		status=ok
	fi
	if [ "$status" = ok ]; then
		log "[$n_done/$N_TOTAL] $t $w -c $c run $r: $(printf '%.0f' "$tps") tps, $lat ms$([ "${ftx:-0}" = 0 ] || echo ", $ftx failed transactions")"
	else
		any_failed=1
		tps="" lat=""
		log "[$n_done/$N_TOTAL] $t $w -c $c run $r: FAILED: $err"
		tail -n 5 "$out" | sed 's/^/    /' >&2 || true
	fi
	[ -z "$prof" ] || [ ! -s "$prof" ] || printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$prof" "$t" "$w" "$c" "$txns" "$tps" >>"$DIR/profiles.tsv"
	[ -z "$fprof" ] || [ ! -s "$fprof" ] || printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$fprof" "$t (a follower)" "$w" "$c" "$txns" "$tps" >>"$DIR/profiles.tsv"
	csv_line "$started" pgbench "$t" "$port" "$w" "$c" "$j" "$DURATION" "$r" "$status" "$tps" "$lat" "$txns" "$ftx" "$load" "$err"
	printf 'pgbench\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$w" "$c" "$r" "$status" "$tps" "$lat" "$txns" "${ftx:-0}" "$DURATION" "$err" >>"$RESULTS"
}

for r in $(seq 1 "$RUNS"); do
	for w in "${WORKLOADS[@]}"; do
		if [ "$w" = follower ]; then list=("${FOLLOW_TARGETS[@]}"); else list=("${WRITE_TARGETS[@]}"); fi
		nt=${#list[@]}
		[ "$nt" -gt 0 ] || continue
		for c in "${CLIENTS[@]}"; do
			for k in $(seq 0 $((nt - 1))); do
				run_one "${list[$(((k + r - 1) % nt))]}" "$w" "$c" "$r"
			done
		done
	done
done

# ---------------------------------------------------------------- COPY
# COPY_ROWS rows of (id BIGINT, v TEXT) in PostgreSQL's text format, sent with psql's \copy
# (COPY ... FROM STDIN) in chunks of COPY_CHUNK rows, one session; rows/s over the whole.
copy_one() { # copy_one TARGET RUN
	local t="$1" r="$2" port rc=0 status=failed t0 t1 secs="" rate="" n="" err="" started load
	case "$t" in pgraft-3) refresh_roles ;; esac
	port="$(target_port "$t")"
	started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	load="$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || true)"
	if psql_to "$port" 60 -c 'DROP TABLE IF EXISTS copy_rows' -c 'CREATE TABLE copy_rows (id BIGINT PRIMARY KEY, v TEXT NOT NULL)' >"$DIR/log/copy.out" 2>&1; then
		lock
		t0="$(date +%s%N)"
		psql_to "$port" 1800 -f "$DIR/copy/script.sql" >"$DIR/log/copy.out" 2>&1 || rc=$?
		t1="$(date +%s%N)"
		unlock
		n="$(psql_to "$port" 60 -At -c 'SELECT count(*) FROM copy_rows' 2>/dev/null | tail -n 1 || true)"
		secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
		if [ "$rc" != 0 ]; then
			err="psql exit $rc: $(first_error "$DIR/log/copy.out")"
		elif [ "$n" != "$COPY_ROWS" ]; then
			err="copy_rows has '$n' rows, not $COPY_ROWS"
		else
			status=ok
			rate="$(awk -v n="$COPY_ROWS" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')"
		fi
	else
		err="CREATE TABLE copy_rows failed: $(first_error "$DIR/log/copy.out")"
	fi
	if [ "$status" = ok ]; then
		log "COPY $t run $r: $COPY_ROWS rows in $secs s, $rate rows/s"
	else
		any_failed=1
		log "COPY $t run $r: FAILED: $err"
	fi
	csv_line "$started" copy "$t" "$port" copy 1 1 "$secs" "$r" "$status" "$rate" "" "$n" "" "$load" "$err"
	printf 'copy\t%s\tcopy\t1\t%s\t%s\t%s\t\t%s\t0\t%s\t%s\n' "$t" "$r" "$status" "$rate" "$n" "$secs" "$err" >>"$RESULTS"
	# Leave the tables small for whatever comes next.
	psql_to "$port" 120 -c 'DROP TABLE copy_rows' >/dev/null 2>&1 || true
}
N_COPY=0
if [ "$COPY_ROWS" -gt 0 ] && [ ${#WRITE_TARGETS[@]} -gt 0 ]; then
	mkdir -p "$DIR/copy"
	awk -v n="$COPY_ROWS" 'BEGIN { for (i = 1; i <= n; i++) printf "%d\trow-%d\n", i, i }' >"$DIR/copy/rows.tsv"
	if [ "$COPY_CHUNK" = 0 ] || [ "$COPY_CHUNK" -ge "$COPY_ROWS" ]; then
		echo "\\copy copy_rows FROM '$DIR/copy/rows.tsv'" >"$DIR/copy/script.sql"
		N_COPY=1
	else
		(cd "$DIR/copy" && split -l "$COPY_CHUNK" -d -a 5 rows.tsv chunk. && rm rows.tsv)
		for f in "$DIR"/copy/chunk.*; do echo "\\copy copy_rows FROM '$f'"; done >"$DIR/copy/script.sql"
		N_COPY="$(wc -l <"$DIR/copy/script.sql")"
	fi
	log "COPY: $COPY_ROWS rows as $N_COPY COPY statement(s), $COPY_RUNS run(s) per target"
	for r in $(seq 1 "$COPY_RUNS"); do
		nt=${#WRITE_TARGETS[@]}
		for k in $(seq 0 $((nt - 1))); do
			copy_one "${WRITE_TARGETS[$(((k + r - 1) % nt))]}" "$r"
		done
	done
fi
T_END="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
LOAD_END="$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || true)"

# ---------------------------------------------------------------- profiles
if [ -n "$PROFILE" ] && [ -s "$DIR/profiles.tsv" ]; then
	if command -v go >/dev/null 2>&1; then
		log "profiles: go tool pprof -top of each, summary in $PROFILE/summary.md"
		{
			echo "# CPU profiles ($T_START to $T_END)"
			echo
			echo "CPU seconds of the whole pgraft process (pgraft-3 with --cluster dev: all three nodes) over"
			echo "the profiled seconds of each run, divided by the transactions pgbench completed in the"
			echo "whole run (the profile covers all but the run's last second, so this is a slight"
			echo "underestimate). Top entries: \`go tool pprof -top\`, flat."
			while IFS=$'\t' read -r prof t w c txns tps; do
				top="${prof%.cpu.pprof}.top.txt"
				go tool pprof -top -nodecount=40 "$prof" >"$top" 2>/dev/null || continue
				go tool pprof -top -cum -nodecount=60 "$prof" >"${prof%.cpu.pprof}.cum.txt" 2>/dev/null || true
				total="$(sed -n 's/.*Total samples = \([0-9.]*\)\(m*s\) .*/\1 \2/p' "$top" | awk '{ print ($2 == "ms") ? $1 / 1000 : $1 }')"
				dur="$(sed -n 's/^Duration: \([0-9.]*\)s.*/\1/p' "$top")"
				echo
				echo "## $t, $w, $c clients: $(printf '%.0f' "${tps:-0}") tps"
				echo
				if [ -n "$total" ] && [ -n "$dur" ] && [ "${txns:-0}" -gt 0 ]; then
					awk -v cpu="$total" -v d="$dur" -v n="$txns" -v D="$DURATION" 'BEGIN {
						printf "CPU %.2f s over %.1f s (%.0f%% of one core); %.0f µs CPU per transaction\n", cpu, d, 100 * cpu / d, 1e6 * cpu / (n * d / D) }'
				fi
				echo
				echo '```'
				sed -n '/flat%/,$p' "$top" | head -n 21
				echo '```'
				set -- "${prof%.cpu.pprof}".goroutine.*.pb
				if [ -e "$1" ]; then
					# Goroutines on the stack of each pgraft function, over all samples: where the
					# sessions and the replication spend their wall time, running or waiting.
					g="${prof%.cpu.pprof}.goroutines.txt"
					go tool pprof -top -cum -show='pgraft/pgraft' -nodecount=40 "$@" >"$g" 2>/dev/null || true
					echo
					echo "Goroutines per pgraft function, cumulative, $# samples (1/s):"
					echo
					echo '```'
					sed -n '/flat%/,$p' "$g" | head -n 21
					echo '```'
				fi
			done <"$DIR/profiles.tsv"
		} >"$PROFILE/summary.md"
	else
		log "profiles saved in $PROFILE (go not found: no -top summaries)"
	fi
fi

# ---------------------------------------------------------------- report
label() {
	case "$1" in
	pgraft-3) echo "pgraft 3 nodes" ;;
	pgraft-1) echo "pgraft 1 node" ;;
	pg-single) echo "PG single" ;;
	pg-quorum) echo "PG quorum" ;;
	esac
}
echo "## pgraft vs PostgreSQL 15: pgbench"
echo
echo "$PGBENCH_VERSION, \`-M simple\`, $DURATION s per run, median (min–max) of $RUNS interleaved run(s), -j min(clients, $NCPU);"
echo "$NCPU CPUs, $T_START to $T_END, load average $LOAD_START at the start, $LOAD_END at the end."
echo "tps per target; ÷ = median tps of that pgraft target / median tps of PostgreSQL (same run)."
if [ "$HAVE_P3" = 1 ] && [ "$CLUSTER" = dev ]; then
	echo "pgraft 3 nodes: \`pgraft dev\` (three nodes in one process, node TLS), workloads on the leader."
elif [ "$HAVE_P3" = 1 ]; then
	echo "pgraft 3 nodes: three \`pgraft serve\` processes (node TLS), workloads on the leader."
fi
[ "$HAVE_PGQ" = 0 ] || echo "PG quorum: primary + 2 hot standbys, synchronous_standby_names = 'ANY 1 (s1, s2)', synchronous_commit = on."
echo
awk -F '\t' -v WL="$WORKLOADS_CSV" -v CL="$CLIENTS_CSV" -v P3="$HAVE_P3" -v P1="$HAVE_P1" -v PGS="$HAVE_PGS" -v PGQ="$HAVE_PGQ" \
	-v COPYROWS="$COPY_ROWS" -v NCOPY="$N_COPY" -v CHUNK="$COPY_CHUNK" '
function sortv(list, v,   n, i, j, t) { # numbers of list into v[1..n], ascending
	n = split(list, v, " ")
	for (i = 2; i <= n; i++) { t = v[i] + 0; j = i - 1
		while (j >= 1 && v[j] + 0 > t) { v[j + 1] = v[j]; j-- }
		v[j + 1] = t }
	return n
}
function median(list,   v, n) {
	n = sortv(list, v)
	if (n == 0) return ""
	return (n % 2) ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
}
function commas(x,   s, r) { # 12345.6 -> 12,346
	s = sprintf("%.0f", x); r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return s r
}
function cell(k,   v, n, m, s) {
	n = sortv(T[k], v)
	if (n == 0) return (k in total) ? "FAILED" : "–"
	m = median(T[k]); s = commas(m)
	if (n > 1) s = s " (" commas(v[1]) "–" commas(v[n]) ")"
	if (nfail[k] > 0) s = s " **" nfail[k] " failed**"
	return s
}
function ratio(a, b,   x, y) {
	x = median(T[a]); y = median(T[b])
	if (x == "" || y == "" || y == 0) return "–"
	return sprintf("%.2f", x / y)
}
{
	k = $1 SUBSEP $3 SUBSEP $4 SUBSEP $2 # kind, workload, clients, target
	total[k]++
	if ($6 == "ok") T[k] = T[k] " " $7
	else { nfail[k]++; if (!(k in err)) err[k] = $2 " " $3 " -c " $4 ": " $12 }
	if ($1 == "copy" && $6 == "ok") S[k] = S[k] " " $11
}
END {
	nw = split(WL, W, ","); nc = split(CL, C, ",")
	hdr = "| workload | clients |"; sep = "|---|---:|"
	if (P3) { hdr = hdr " pgraft 3 nodes |"; sep = sep "---:|"; if (PGQ) { hdr = hdr " ÷ PG quorum |"; sep = sep "---:|" } }
	if (P1) { hdr = hdr " pgraft 1 node |"; sep = sep "---:|"
		if (PGQ) { hdr = hdr " ÷ PG quorum |"; sep = sep "---:|" }
		if (PGS) { hdr = hdr " ÷ PG single |"; sep = sep "---:|" } }
	if (PGS) { hdr = hdr " PG single |"; sep = sep "---:|" }
	if (PGQ) { hdr = hdr " PG quorum |"; sep = sep "---:|" }
	rows = 0
	for (a = 1; a <= nw; a++) {
		if (W[a] == "follower") continue
		if (!rows++) { print hdr; print sep }
		for (b = 1; b <= nc; b++) {
			p = "pgbench" SUBSEP W[a] SUBSEP C[b] SUBSEP
			line = "| " W[a] " | " C[b] " |"
			if (P3) { line = line " " cell(p "pgraft-3") " |"; if (PGQ) line = line " " ratio(p "pgraft-3", p "pg-quorum") " |" }
			if (P1) { line = line " " cell(p "pgraft-1") " |"
				if (PGQ) line = line " " ratio(p "pgraft-1", p "pg-quorum") " |"
				if (PGS) line = line " " ratio(p "pgraft-1", p "pg-single") " |" }
			if (PGS) line = line " " cell(p "pg-single") " |"
			if (PGQ) line = line " " cell(p "pg-quorum") " |"
			print line
		}
	}
	for (a = 1; a <= nw; a++) {
		if (W[a] != "follower" || !(P3 || PGQ)) continue
		print ""
		print "Reads on a replica (point_select on a pgraft follower of the 3 nodes, and on hot standby s1 of PG quorum):"
		print ""
		print "| workload | clients | pgraft follower | PG standby | ÷ PG standby |"
		print "|---|---:|---:|---:|---:|"
		for (b = 1; b <= nc; b++) {
			p = "pgbench" SUBSEP "follower" SUBSEP C[b] SUBSEP
			print "| point_select (replica) | " C[b] " | " cell(p "pgraft-follower") " | " cell(p "pg-standby") " | " ratio(p "pgraft-follower", p "pg-standby") " |"
		}
	}
	if (COPYROWS > 0) {
		print ""
		printf "COPY FROM STDIN of %s rows (id BIGINT PRIMARY KEY, v TEXT; ~15 bytes each) with psql \\copy, ", commas(COPYROWS)
		if (NCOPY > 1) printf "sent as %d COPY statements of %s rows (one pgraft log entry holds at most 16 MiB today); ", NCOPY, commas(CHUNK)
		else printf "as one COPY statement; "
		print "rows/s over the whole load, median (min–max) of the runs:"
		print ""
		print "| target | rows/s | seconds | ÷ PG quorum | ÷ PG single |"
		print "|---|---:|---:|---:|---:|"
		split("pgraft-3 pgraft-1 pg-single pg-quorum", L, " ")
		split("pgraft 3 nodes,pgraft 1 node,PG single,PG quorum", N, ",")
		for (i = 1; i <= 4; i++) {
			k = "copy" SUBSEP "copy" SUBSEP 1 SUBSEP L[i]
			if (!(k in total)) continue
			q = "copy" SUBSEP "copy" SUBSEP 1 SUBSEP "pg-quorum"; s = "copy" SUBSEP "copy" SUBSEP 1 SUBSEP "pg-single"
			sec = median(S[k])
			print "| " N[i] " | " cell(k) " | " (sec == "" ? "–" : sprintf("%.2f", sec)) " | " ratio(k, q) " | " ratio(k, s) " |"
		}
	}
	nf = 0 # failures in table order
	nt = split("pgraft-3 pgraft-follower pgraft-1 pg-single pg-quorum pg-standby", TT, " ")
	W[nw + 1] = "copy"
	for (a = 1; a <= nw + 1; a++) for (b = 1; b <= nc + 1; b++) for (t = 1; t <= nt; t++) {
		k = (W[a] == "copy" ? "copy" : "pgbench") SUBSEP W[a] SUBSEP (b > nc ? 1 : C[b]) SUBSEP TT[t]
		if (!(k in err) || (k in shown)) continue
		shown[k] = 1
		if (!nf++) { print ""; print "Failed runs (the first error of each point):" }
		print "- " err[k]
	}
}' "$RESULTS"
echo
if [ "$LEADER_MOVES" -gt 0 ]; then
	echo "pgraft 3 nodes: the leader moved $LEADER_MOVES time(s) during the benchmark (the runs followed it; writes in flight then fail)."
	echo
fi
echo "Every run: $OUT${PROFILE:+; profiles: $PROFILE (summary.md)}"
if [ "$any_failed" = 1 ]; then
	log "some runs failed (see the tables and $OUT)"
	exit 1
fi
exit 0
