# shellcheck shell=bash
# Scenarios random, rls, memory and signup of scripts/bench.sh (sourced by it, after
# scripts/bench/shops.sh). All run against the scale database of the `shops` scenario (made or
# completed first when needed) and drive scripts/bench/scale.py; see its docstring for what each
# measures and checks.
#
# Knobs: STOCK_BENCH_SCALE_SECONDS (20) per measured wrk run, after STOCK_BENCH_SCALE_WARMUP (20)
# seconds of random warm-up per page; STOCK_BENCH_SCALE_PG_SECONDS (15) per pgbench run of `rls`
# and STOCK_BENCH_RANDOM_PG_SECONDS (40) of `random` (new pgbench connections start with cold
# catalog caches: the second half of each run is reported as the warm figure);
# STOCK_BENCH_SCALE_CONNECTIONS (8) wrk connections and pgbench clients;
# STOCK_BENCH_MEMORY_SECONDS (60) per memory run and STOCK_BENCH_MEMORY_LIFETIME (20) the
# connection lifetime of its second run; STOCK_BENCH_SIGNUPS (40).

SCALE_SECONDS=${STOCK_BENCH_SCALE_SECONDS:-20}
SCALE_PG_SECONDS=${STOCK_BENCH_SCALE_PG_SECONDS:-15}
SCALE_CONNECTIONS=${STOCK_BENCH_SCALE_CONNECTIONS:-8}
MEMORY_SECONDS=${STOCK_BENCH_MEMORY_SECONDS:-60}
MEMORY_LIFETIME=${STOCK_BENCH_MEMORY_LIFETIME:-20}
SCALE_READY=0

bench_scale_ready() {
    [[ $SCALE_READY == 1 ]] && return 0
    command -v wrk >/dev/null 2>&1 || stock_apt_install wrk
    command -v wrk >/dev/null 2>&1 || stock_die "wrk not found (apt-get install -y wrk)"
    stock_step "scale database with $SCALE_SHOPS shops" bench_shops_seed
    SCALE_READY=1
}

# Starts `stock serve` on the scale database; extra VAR=value arguments go to its environment.
bench_scale_start_server() {
    local saved=$DATABASE_URL
    export DATABASE_URL=$SCALE_URL
    if [[ $# -gt 0 ]]; then
        local kv
        for kv in "$@"; do export "${kv?}"; done
    fi
    bench_start_server
    export DATABASE_URL=$saved
    if [[ $# -gt 0 ]]; then
        for kv in "$@"; do unset "${kv%%=*}"; done
    fi
}

# scale.py with the arguments every command takes.
bench_scale_py() {
    local app_url
    app_url=$(BENCH_ADMIN_URL=$SCALE_URL bench_app_url)
    timeout 900 python3 "$BENCH_DIR/scale.py" "$@" \
        --base-url "http://$LISTEN" \
        --admin-url "$SCALE_URL" \
        --app-url "$app_url" \
        --role-prefix "$STOCK_ROLE_PREFIX" \
        --shops "$SCALE_SHOPS" \
        --connections "$SCALE_CONNECTIONS" \
        --out-dir "$OUT_DIR" \
        --build "$(bench_build_note)"
}

bench_random_run() {
    bench_scale_start_server
    bench_scale_py random --seconds "$SCALE_SECONDS" --pg-seconds "${STOCK_BENCH_RANDOM_PG_SECONDS:-40}" \
        --warmup "${STOCK_BENCH_SCALE_WARMUP:-20}" \
        --server-pid "$SERVER_PID" --doc "$DOC"
    bench_stop_server
}

scenario_random() {
    bench_scale_ready
    stock_step "random: one shop against random shops" bench_random_run
}

bench_rls_run() {
    bench_scale_py rls --pg-seconds "$SCALE_PG_SECONDS" --doc "$DOC"
}

scenario_rls() {
    bench_scale_ready
    stock_step "rls: with and without row level security" bench_rls_run
}

bench_memory_run() {
    local slot=$1 label=$2
    shift 2
    bench_scale_start_server "$@"
    bench_scale_py memory --slot "$slot" --label "$label" --seconds "$MEMORY_SECONDS" --server-pid "$SERVER_PID"
    bench_stop_server
}

scenario_memory() {
    bench_scale_ready
    stock_step "memory: no connection lifetime" bench_memory_run off "no lifetime, no use limit" \
        STOCK_POOL_MAX_LIFETIME_SECONDS=0 STOCK_POOL_MAX_USES=0
    stock_step "memory: connection lifetime ${MEMORY_LIFETIME} s" bench_memory_run lifetime \
        "lifetime ${MEMORY_LIFETIME} s" STOCK_POOL_MAX_LIFETIME_SECONDS="$MEMORY_LIFETIME" STOCK_POOL_MAX_USES=0
    stock_step "memory: 500 uses per connection" bench_memory_run uses "500 uses per connection" \
        STOCK_POOL_MAX_LIFETIME_SECONDS=0 STOCK_POOL_MAX_USES=500
    python3 "$BENCH_DIR/scale.py" memory-report --slots off,lifetime,uses --out-dir "$OUT_DIR" --doc "$DOC"
}

# Two passes in one run: without spares (the schema made in the request), then with
# STOCK_BENCH_SIGNUPS + 2 spares made first by `stock tenant spares`, so every sign-up claims one.
bench_signup_run() {
    local n=${STOCK_BENCH_SIGNUPS:-40} t0 note
    bench_scale_start_server STOCK_SPARE_SHOPS=0
    bench_scale_py signup --slot none --signups "$n"
    bench_stop_server
    t0=$(date +%s.%N)
    DATABASE_URL=$SCALE_URL "$BIN" tenant spares --keep "$((n + 2))" >"$OUT_DIR/signup-spares.log" 2>&1 || {
        tail -n 20 "$OUT_DIR/signup-spares.log" >&2
        stock_die "stock tenant spares failed"
    }
    note="$(tail -n 1 "$OUT_DIR/signup-spares.log" | sed 's/^spare shops: //'), $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }') with the process start"
    bench_scale_start_server STOCK_SPARE_SHOPS=2
    bench_scale_py signup --slot spares --signups "$n" --label "$note" --doc "$DOC"
    bench_stop_server
}

scenario_signup() {
    bench_scale_ready
    stock_step "signup: POST /signup with the shops present" bench_signup_run
}
