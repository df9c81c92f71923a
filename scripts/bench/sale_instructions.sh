#!/usr/bin/env bash
# PostgreSQL instructions per checkout, counted by callgrind instead of timed (issue 8).
#
# On this shared VM a timing of the checkout drifts by 10-20 % between runs minutes apart, more
# than most changes to the sale path move it. callgrind counts the instructions the backend
# executes, which do not depend on how busy the machine is: alternating two versions of the sale
# path, each version's counts stayed within about 1 % (docs/BENCHMARKS.md, "Sales", ninth session).
# Instructions are not time (a cache miss or a WAL flush costs no instructions), so this
# compares versions of the SQL; the throughput figures stay those of `scripts/bench.sh sales`.
#
# Usage: scripts/bench/sale_instructions.sh [RUNS]      (RUNS: 3 by default)
#
# Needs the database a `scripts/bench.sh sales` run leaves (the next bench run drops it) and the
# pgbench script it wrote to target/bench/sales.json. The script:
#   1. copies that database and the cluster's roles into a scratch cluster of its own (initdb in
#      a temporary directory, port STOCK_BENCH_CG_PORT, default 5440), started normally;
#   2. restarts it under `valgrind --tool=callgrind --trace-children=yes`, one output file per
#      process (autovacuum off, so no other backend comes and goes);
#   3. runs the checkout's SQL (BEGIN with the session statement, the cart read, record_sale's
#      statement, COMMIT) through pgbench as the app's login role at one client, 20 and then 220
#      transactions, each pgbench run on a connection of its own, and prints
#      (I(220) - I(20)) / 200: the backend's instructions per checkout without its start-up,
#      after one such run set aside (the first differs by up to 4 %), with a fixed random seed;
#   4. stops the cluster and removes it.
# About 20 s per run under valgrind, plus the copy (about 30 s for the bench database).
# Consecutive runs agree within about 0.5 %.
#
# Knobs: STOCK_BENCH_DATABASE_URL (the bench database, as in scripts/bench.sh),
# STOCK_BENCH_ROLE_PREFIX (stockbench), STOCK_BENCH_CG_PORT (5440), STOCK_BENCH_CG_KEEP=1 keeps
# the scratch cluster running afterwards (to try a change on it: connect to the port and run the
# script's pgbench line by hand).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib.sh
source "$ROOT/scripts/lib.sh"

RUNS=${1:-3}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || stock_die "RUNS must be a positive number, got '$RUNS'"
SRC_URL=${STOCK_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/stock_bench}
PREFIX=${STOCK_BENCH_ROLE_PREFIX:-stockbench}
PORT=${STOCK_BENCH_CG_PORT:-5440}
JSON=$ROOT/target/bench/sales.json

for tool in valgrind pgbench pg_dump pg_restore pg_dumpall psql python3; do
    command -v "$tool" >/dev/null 2>&1 || stock_die "$tool not found (valgrind and postgresql-client are Debian packages)"
done
[[ -f $JSON ]] || stock_die "$JSON not found: run scripts/bench.sh sales first"
BIN=$(_stock_pg_bindir) || stock_die "no PostgreSQL server binaries under /usr/lib/postgresql"
DB=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).path.lstrip("/"))' "$SRC_URL")
[[ -n $DB ]] || stock_die "STOCK_BENCH_DATABASE_URL names no database: $SRC_URL"
psql "$SRC_URL" -Atc "select 1 from app.tenants where slug = 'demo'" 2>/dev/null | grep -q 1 ||
    stock_die "$SRC_URL holds no bench data: run scripts/bench.sh sales first"
_stock_port_busy "$PORT" && stock_die "port $PORT is taken (set STOCK_BENCH_CG_PORT)"

WORK=$(mktemp -d /tmp/stock-cg.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/data" "$WORK/cg"
if [[ $(id -u) -eq 0 ]]; then chown -R postgres:postgres "$WORK"; fi
ADMIN_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
URL="postgres://postgres@127.0.0.1:$PORT/$DB"
APP_URL="postgres://${PREFIX}_app@127.0.0.1:$PORT/$DB?sslmode=disable"

stop_cluster() {
    _stock_pg_run "$BIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null 2>&1 || true
}
cleanup() {
    if [[ ${STOCK_BENCH_CG_KEEP:-0} == 1 ]]; then
        stock_info "kept: the scratch cluster runs on port $PORT ($WORK)"
        return
    fi
    stop_cluster
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_ready() {
    for _ in $(seq 1 240); do
        psql "$ADMIN_URL" -Atc 'select 1' >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    stock_die "the scratch cluster did not start (see $WORK/server.log)"
}

stock_log "copying $DB into a scratch cluster on port $PORT"
_stock_pg_run "$BIN/initdb" -D "$WORK/data" -A trust -U postgres >/dev/null
_stock_pg_run "$BIN/pg_ctl" -D "$WORK/data" -o "-p $PORT -k $WORK -c autovacuum=off" -l "$WORK/server.log" -w start >/dev/null
# the roles (the postgres role itself already exists: that one error is expected)
pg_dumpall -d "$SRC_URL" --roles-only | psql "$ADMIN_URL" -q -v ON_ERROR_STOP=0 >/dev/null 2>&1 || true
psql "$ADMIN_URL" -qc "create database \"$DB\""
pg_dump -Fc "$SRC_URL" | pg_restore -d "$URL" 2>"$WORK/restore.log" || true
# a restore that missed the objects would make every count meaningless
psql "$URL" -Atc "select count(*) from app.tenants" >/dev/null
psql "$URL" -qc "vacuum analyze"
stop_cluster

stock_log "starting it under callgrind"
_stock_pg_run bash -c "nohup valgrind --tool=callgrind --trace-children=yes \
    --callgrind-out-file='$WORK/cg/cg.%p' '$BIN/postgres' -D '$WORK/data' -p $PORT -k '$WORK' \
    -c autovacuum=off -c max_connections=20 >'$WORK/server.log' 2>&1 &"
wait_ready

SCRIPT=$WORK/checkout.sql
python3 -c 'import json, sys; sys.stdout.write(json.load(open(sys.argv[1]))["pgbench_script_catalog"])' "$JSON" >"$SCRIPT"
SCHEMA=$(psql "$URL" -Atc "select schema_name from app.tenants where slug = 'demo'")
CATALOG=$(psql "$URL" -Atc "select min(id) || ' ' || count(*) from \"$SCHEMA\".products where sku like 'BENCH-CAT-%'")
read -r CAT_FIRST CAT_N <<<"$CATALOG"
[[ ${CAT_N:-0} -gt 50 ]] || stock_die "the BENCH-CAT-* catalog of the sales bench is missing"

# instructions of the backends that served one pgbench run of N checkouts
count() {
    local before after f ir total=0
    before=$(ls "$WORK/cg")
    pgbench -n -M prepared --random-seed=20261127 -c 1 -j 1 -t "$1" -D "cat_first=$CAT_FIRST" -D "cat_n=$CAT_N" -f "$SCRIPT" "$APP_URL" \
        >"$WORK/pgbench.log" 2>&1 || { tail -n 5 "$WORK/pgbench.log" >&2; stock_die "pgbench failed"; }
    # callgrind writes a backend's file when it exits, just after pgbench disconnects
    for _ in $(seq 1 50); do
        after=$(ls "$WORK/cg")
        [[ $after != "$before" ]] && break
        sleep 0.2
    done
    sleep 1
    after=$(ls "$WORK/cg")
    for f in $(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after")); do
        ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$WORK/cg/$f")
        total=$((total + ${ir:-0}))
    done
    printf '%s\n' "$total"
}

stock_log "the checkout's SQL through pgbench at one client: $RUNS run(s) of 20 and 220 checkouts"
# the first run after the copy differs from the next ones by up to 4 % (both ways were seen), so
# one run is made and set aside first
count 20 >/dev/null
count 220 >/dev/null
results=()
for i in $(seq 1 "$RUNS"); do
    a=$(count 20)
    b=$(count 220)
    per=$(((b - a) / 200))
    results+=("$per")
    stock_info "run $i: $per instructions per checkout"
done
printf '%s\n' "${results[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "    median: %d instructions per checkout (%d runs)\n", v[int((NR + 1) / 2)], NR }'
