#!/usr/bin/env bash
# Benchmarks of Stock on this machine, loopback only. Results: printed, in target/bench/ (JSON and
# Markdown), and written into docs/BENCHMARKS.md between <!-- <scenario>:begin/end --> markers.
#
# Usage: scripts/bench.sh [SCENARIO...]      SCENARIO: search | sales | migrate | all (default: all)
#   search  catalog search with STOCK_BENCH_PRODUCTS (100,000) products: HTTP latency per kind of
#           term at concurrency 1 and 4, the same SQL through pgbench, EXPLAIN ANALYZE of misses.
#   sales   five-line sales at the counter with 1, 4 and 8 staff clients: the checkout request alone
#           (carts built first, measured apart) and whole sales in a loop (5 scans, the page,
#           checkout), five distinct products at random from a catalog of
#           STOCK_BENCH_SALES_CATALOG (5,000) and, as a second row, the same five hot products in
#           every sale; beside the checkout's SQL through pgbench; then an oversell race and a
#           check that stock = sum of movements, never negative, every sale whole and booked.
#   migrate `stock migrate` with STOCK_BENCH_SHOPS (1000) shops: nothing to apply, then one new
#           tenant migration in every shop, in a scratch database of its own (see
#           scripts/bench/migrate.sh for how the migration is injected without shipping it).
#   dashboard GET /dashboard as the owner with STOCK_BENCH_DASHBOARD_PRODUCTS (10,000) products and
#           STOCK_BENCH_DASHBOARD_SALES (50,000) sales, driven by wrk for a bounded time, beside
#           pgbench running the request's own transaction; page content checked; the ratio printed.
#   backup  `stock tenant backup` of one shop with 0 and with 1,000 other shops, beside
#           `pg_dump -n` of its schema (scripts/bench/backup.sh; STOCK_BENCH_BACKUP_* knobs there).
#
# Scale scenarios (not part of `all`; `scale` runs the five), in a kept database of their own,
# <bench database>_scale, with `--shops N` (default STOCK_BENCH_SCALE_SHOPS, 1000) shops:
#   shops   creates the shops through app_private.sign_up, a few large and many small, one
#           transaction each; skipped when present (scripts/bench/shops.sh)
#   random  GET /dashboard and GET /products under wrk, a random shop's session per request, against
#           the same page on one shop; pgbench with the request's transaction on random shops vs
#           one shop, and with connections bound to a share of the shops (scripts/bench/scale.py)
#   rls     the dashboard transaction through pgbench as the app's role (RLS) vs a bench-only
#           BYPASSRLS role on the same schema, created and dropped by the run
#   memory  server RSS and the PostgreSQL backends' memory (Pss) under random access, with and
#           without a pooled connection lifetime (STOCK_POOL_MAX_LIFETIME_SECONDS)
#   signup  POST /signup over HTTP (real form, CSRF) with the shops present: median and p95, first
#           without spare shops, then with spares made first (`stock tenant spares`), in one run
#   Knobs: STOCK_BENCH_SCALE_SECONDS (20) per wrk run, STOCK_BENCH_RANDOM_PG_SECONDS (40) and
#   STOCK_BENCH_SCALE_PG_SECONDS (15) per pgbench run of random and rls, STOCK_BENCH_MEMORY_SECONDS
#   (60), STOCK_BENCH_SCALE_CONNECTIONS (8), STOCK_BENCH_SIGNUPS (40), STOCK_BENCH_SCALE_FRESH=1
#   rebuilds the shops (more in scripts/bench/shops.sh and scale.sh). About 7 minutes for shops
#   (once), 6 for random, 2 for rls, 4 for memory, 1–2 for signup.
#
# Every run starts from a fresh database (dropped and recreated), builds the release binary, runs
# `stock migrate` and `stock demo`, then each scenario seeds what it needs, starts `stock serve`
# on 127.0.0.1, measures, and stops the server. The whole run stays under ~10 minutes once the
# release build is there (the build itself can take several minutes on 2 cores).
#
# Knobs (environment):
#   STOCK_BENCH_DATABASE_URL  superuser URL of the bench database, dropped at the start of every run
#                             (default postgres://postgres@127.0.0.1:5432/stock_bench; its name
#                             must contain "bench" unless STOCK_BENCH_ALLOW_DROP=1). When that
#                             server does not answer, the own cluster of scripts/lib.sh is used.
#   STOCK_BENCH_APP_URL       URL of the web app's login role for pgbench (default: the bench URL
#                             with user <prefix>_app and no password, fine for trust auth);
#                             sslmode=disable is added unless it sets sslmode (the server uses no TLS)
#   STOCK_BENCH_LISTEN        address of the server under test (default 127.0.0.1:18090)
#   STOCK_BENCH_ROLE_PREFIX   database role prefix (default stockbench: apart from dev and tests)
#   STOCK_BENCH_PRODUCTS      products to seed for `search` (default 100000)
#   STOCK_BENCH_REQUESTS      measured HTTP requests per kind of search (default 300)
#   STOCK_BENCH_SQL_REQUESTS  pgbench transactions per kind (default 300)
#   STOCK_BENCH_CONCURRENCY   clients of the second HTTP pass (default 4; 0 skips it)
#   STOCK_BENCH_TARGET_MS     the p95 target (default 20)
#   STOCK_BENCH_SALES_SECONDS     HTTP seconds per row of `sales` (default 20)
#   STOCK_BENCH_SALES_PG_SECONDS  pgbench seconds per row of `sales` (default 15)
#   STOCK_BENCH_SALES_LEVELS      client counts of `sales`, HTTP and pgbench (default 1,4,8)
#   STOCK_BENCH_SALES_PERSONS     staff persons per client for the checkout-alone rows (default 4)
#   STOCK_BENCH_SALES_CATALOG     catalog products the realistic sales draw from (default 5000)
#   STOCK_BENCH_SHOPS         shops for `migrate` (default 1000; STOCK_BENCH_SHOP_BATCH 50 per
#                             psql call, STOCK_BENCH_SHOP_WORKERS 2 connections)
#   STOCK_BENCH_DASHBOARD_PRODUCTS / _SALES  shop size of `dashboard` (default 10000 / 50000)
#   STOCK_BENCH_DASHBOARD_SECONDS / _PG_SECONDS  wrk and pgbench seconds (default 20 / 15)
#   STOCK_BENCH_DASHBOARD_CONNECTIONS  wrk connections and pgbench clients (default 8)
#   STOCK_BENCH_DASHBOARD_ROUNDS  wrk and pgbench runs in turn; ratios are medians of the rounds' (2)
#   STOCK_BENCH_DOC           page to update (default docs/BENCHMARKS.md; empty: leave it alone)
#   STOCK_BENCH_SKIP_BUILD=1  use target/release/stock as it is
#   STOCK_BENCH_BIN           measure this binary instead (e.g. a release build of a committed
#                             revision while the work tree is half-edited); implies no build
#   STOCK_BENCH_KEEP_DB=1     keep the seeded database of the previous run (skips drop, migrate
#                             and seeding when it already has the products; for quick re-runs)
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$STOCK_ROOT"
stock_install_step_trap

ALL_SCENARIOS=(search sales dashboard backup migrate)
SCALE_SCENARIOS=(shops random rls memory signup)

BENCH_DIR="$STOCK_ROOT/scripts/bench"
OUT_DIR="$STOCK_ROOT/target/bench"
LISTEN=${STOCK_BENCH_LISTEN:-127.0.0.1:18090}
PRODUCTS=${STOCK_BENCH_PRODUCTS:-100000}
REQUESTS=${STOCK_BENCH_REQUESTS:-300}
SQL_REQUESTS=${STOCK_BENCH_SQL_REQUESTS:-300}
CONCURRENCY=${STOCK_BENCH_CONCURRENCY:-4}
TARGET_MS=${STOCK_BENCH_TARGET_MS:-20}
SALES_SECONDS=${STOCK_BENCH_SALES_SECONDS:-20}
SALES_PG_SECONDS=${STOCK_BENCH_SALES_PG_SECONDS:-15}
SALES_LEVELS=${STOCK_BENCH_SALES_LEVELS:-1,4,8}
SALES_PERSONS=${STOCK_BENCH_SALES_PERSONS:-4}
SALES_CATALOG=${STOCK_BENCH_SALES_CATALOG:-5000}
SALES_OPENING=1000000
DOC=${STOCK_BENCH_DOC-$STOCK_ROOT/docs/BENCHMARKS.md}
export STOCK_ROLE_PREFIX=${STOCK_BENCH_ROLE_PREFIX:-stockbench}
export STOCK_DEMO_PASSWORD=${STOCK_DEMO_PASSWORD:-demo-password}
BIN=${STOCK_BENCH_BIN:-${CARGO_TARGET_DIR:-$STOCK_ROOT/target}/release/stock}
[[ -z ${STOCK_BENCH_BIN:-} ]] || STOCK_BENCH_SKIP_BUILD=1
SERVER_PID=""

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

# ---------------------------------------------------------------------------------------------
# arguments

scenarios=()
want_shops=""
for arg in "$@"; do
    if [[ $want_shops == next ]]; then
        [[ $arg =~ ^[1-9][0-9]{0,3}$ ]] || stock_die "--shops takes a number of shops from 1 to 9999"
        want_shops=$arg
        continue
    fi
    case $arg in
    -h | --help)
        usage
        exit 0
        ;;
    --shops) want_shops=next ;;
    --shops=*)
        want_shops=${arg#--shops=}
        [[ $want_shops =~ ^[1-9][0-9]{0,3}$ ]] || stock_die "--shops takes a number of shops from 1 to 9999"
        ;;
    all) scenarios+=("${ALL_SCENARIOS[@]}") ;;
    scale) scenarios+=("${SCALE_SCENARIOS[@]}") ;;
    *)
        found=0
        for s in "${ALL_SCENARIOS[@]}" "${SCALE_SCENARIOS[@]}"; do [[ $s == "$arg" ]] && found=1; done
        [[ $found == 1 ]] || stock_die "unknown scenario '$arg' (known: ${ALL_SCENARIOS[*]} all ${SCALE_SCENARIOS[*]} scale)"
        scenarios+=("$arg")
        ;;
    esac
done
[[ $want_shops != next ]] || stock_die "--shops needs a number"
[[ -z $want_shops ]] || export STOCK_BENCH_SCALE_SHOPS=$want_shops
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=("${ALL_SCENARIOS[@]}")

# ---------------------------------------------------------------------------------------------
# cleanup: stop what this script started

stock_on_exit_hook() {
    bench_stop_server
    if [[ ${STOCK_PG_OWN_STARTED:-0} == 1 ]]; then
        stock_pg_own_stop || true
    fi
}

bench_stop_server() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

# ---------------------------------------------------------------------------------------------
# shared steps

bench_require_tools() {
    stock_require_psql
    command -v python3 >/dev/null 2>&1 || stock_die "python3 not found (the load generator is scripts/bench/*.py)"
    if ! command -v pgbench >/dev/null 2>&1; then
        stock_info "pgbench not found: installing postgresql-contrib"
        stock_apt_install postgresql-contrib
    fi
    command -v pgbench >/dev/null 2>&1 || stock_die "pgbench still not found"
    if [[ ${STOCK_BENCH_SKIP_BUILD:-0} != 1 ]]; then
        # shellcheck disable=SC2119 # no components needed
        stock_require_cargo
    fi
}

# Exports DATABASE_URL (superuser, bench database) and BENCH_ADMIN_URL (same).
bench_postgres() {
    local url=${STOCK_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/stock_bench}
    local db=${url%%\?*}
    db=${db##*/}
    if [[ $db != *bench* && ${STOCK_BENCH_ALLOW_DROP:-0} != 1 ]]; then
        stock_die "the bench database '$db' is dropped at every run; use a name containing 'bench' (or STOCK_BENCH_ALLOW_DROP=1)"
    fi
    DATABASE_URL=$url stock_pg_bootstrap_dev
    # on the fallback to the own cluster, DATABASE_URL names its `stock` database: use ours
    DATABASE_URL=$(stock_pg_url_with_db "$DATABASE_URL" "$db")
    export DATABASE_URL
    stock_pg_is_superuser "$(stock_pg_url_with_db "$DATABASE_URL" postgres)" ||
        stock_die "$(_stock_pg_redact "$DATABASE_URL") is not a superuser login (needed to seed past row level security)"
    BENCH_ADMIN_URL=$DATABASE_URL
    stock_info "bench database: $(_stock_pg_redact "$DATABASE_URL") (roles ${STOCK_ROLE_PREFIX}_*)"
}

bench_build() {
    if [[ ${STOCK_BENCH_SKIP_BUILD:-0} == 1 ]]; then
        [[ -x $BIN ]] || stock_die "STOCK_BENCH_SKIP_BUILD=1 but $BIN is missing"
        stock_info "no build: using $BIN as it is"
        return 0
    fi
    cargo build --release --bin stock
}

bench_has_demo_products() {
    local schema n
    schema=$(stock_psql -d "$BENCH_ADMIN_URL" -Atc "select schema_name from app.tenants where slug = 'demo'" \
        2>/dev/null) || return 1
    [[ -n $schema ]] || return 1
    n=$(stock_psql -d "$BENCH_ADMIN_URL" -Atc "select count(*) from \"$schema\".products") || return 1
    [[ $n -ge $1 ]]
}

bench_fresh_database() {
    local db=${BENCH_ADMIN_URL%%\?*}
    db=${db##*/}
    if [[ ${STOCK_BENCH_KEEP_DB:-0} == 1 ]] && bench_has_demo_products "$PRODUCTS"; then
        stock_info "STOCK_BENCH_KEEP_DB=1: keeping database $db as it is"
        BENCH_KEPT_DB=1
        return 0
    fi
    BENCH_KEPT_DB=0
    stock_psql -d "$(stock_pg_url_with_db "$BENCH_ADMIN_URL" postgres)" -c "drop database if exists \"$db\" with (force)"
    "$BIN" migrate
    "$BIN" demo >/dev/null
    stock_info "database $db created; demo shop ready"
}

# Sets DEMO_TENANT_ID and DEMO_SCHEMA.
bench_demo_shop() {
    local row
    row=$(stock_psql -d "$BENCH_ADMIN_URL" -Atc "select id, schema_name from app.tenants where slug = 'demo'")
    [[ -n $row ]] || stock_die "no demo shop in the bench database"
    DEMO_TENANT_ID=${row%%|*}
    DEMO_SCHEMA=${row#*|}
}

bench_start_server() {
    local host=${LISTEN%:*} port=${LISTEN##*:}
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
        stock_die "something already listens on $LISTEN; stop it or set STOCK_BENCH_LISTEN"
    fi
    mkdir -p "$OUT_DIR"
    STOCK_LISTEN=$LISTEN "$BIN" serve >"$OUT_DIR/server.log" 2>&1 &
    SERVER_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        if python3 - "$host" "$port" <<'PY' 2>/dev/null; then
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=1)
c.request("GET", "/health")
sys.exit(0 if c.getresponse().status == 200 else 1)
PY
            stock_info "stock serve is up on $LISTEN (pid $SERVER_PID, log $OUT_DIR/server.log)"
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || {
            tail -n 20 "$OUT_DIR/server.log" >&2
            stock_die "stock serve exited (log: $OUT_DIR/server.log)"
        }
        sleep 0.2
    done
    stock_die "stock serve did not answer /health on $LISTEN within 20 s"
}

# The web app's login role, for pgbench: the admin URL with another user (trust/peer setups) or
# STOCK_BENCH_APP_URL when set. Without TLS (`sslmode=disable` unless the URL sets sslmode): the
# server's pool connects without it (tokio-postgres `NoTls`), and libpq's default `prefer` would
# make the database-only ceiling encrypt every result the server gets in the clear (6 % of the
# checkout's SQL throughput, measured in the seventh session).
bench_app_url() {
    python3 - "$BENCH_ADMIN_URL" "${STOCK_ROLE_PREFIX}_app" "${STOCK_BENCH_APP_URL:-}" <<'PY'
import sys, urllib.parse
admin, user, given = sys.argv[1:4]
if given:
    u = urllib.parse.urlsplit(given)
    netloc = u.netloc
else:
    u = urllib.parse.urlsplit(admin)
    netloc = f"{user}@" + u.hostname + (f":{u.port}" if u.port else "")
query = u.query
if "sslmode" not in urllib.parse.parse_qs(query):
    query = (query + "&" if query else "") + "sslmode=disable"
print(urllib.parse.urlunsplit((u.scheme, netloc, u.path, query, "")))
PY
}

bench_build_note() {
    if [[ -n ${STOCK_BENCH_BIN:-} ]]; then
        printf 'binary %s\n' "$STOCK_BENCH_BIN"
    else
        printf 'release build of the work tree\n'
    fi
}

# ---------------------------------------------------------------------------------------------
# scenario: search

bench_search_seed() {
    if [[ ${BENCH_KEPT_DB:-0} == 1 ]]; then
        stock_info "kept database: not seeding"
        return 0
    fi
    local t0=$SECONDS
    stock_psql -d "$BENCH_ADMIN_URL" -v schema="$DEMO_SCHEMA" -v tenant_id="$DEMO_TENANT_ID" \
        -v n="$PRODUCTS" -f "$BENCH_DIR/seed_products.sql" >/dev/null
    local n
    n=$(stock_psql -d "$BENCH_ADMIN_URL" -Atc "select count(*) from \"$DEMO_SCHEMA\".products")
    stock_info "seeded: $n products in $DEMO_SCHEMA ($((SECONDS - t0)) s)"
}

bench_search_run() {
    local app_url
    app_url=$(bench_app_url)
    bench_start_server
    timeout 600 python3 "$BENCH_DIR/search.py" \
        --base-url "http://$LISTEN" \
        --admin-url "$BENCH_ADMIN_URL" \
        --app-url "$app_url" \
        --schema "$DEMO_SCHEMA" \
        --tenant-id "$DEMO_TENANT_ID" \
        --shop-role "${STOCK_ROLE_PREFIX}_shop_owner" \
        --password "$STOCK_DEMO_PASSWORD" \
        --requests "$REQUESTS" \
        --sql-requests "$SQL_REQUESTS" \
        --concurrency "$CONCURRENCY" \
        --target-ms "$TARGET_MS" \
        --out-dir "$OUT_DIR" \
        --doc "$DOC" \
        --build "$(bench_build_note)"
    bench_stop_server
}

scenario_search() {
    stock_step "search: seed $PRODUCTS products" bench_search_seed
    stock_step "search: measure" bench_search_run
}

# ---------------------------------------------------------------------------------------------
# scenario: sales

# Sets SALES_EMAILS: SALES_PERSONS staff logins per client of the largest level.
bench_sales_seed() {
    stock_psql -d "$BENCH_ADMIN_URL" -v schema="$DEMO_SCHEMA" -v tenant_id="$DEMO_TENANT_ID" \
        -v stock="$SALES_OPENING" -v scarce=10 -v catalog="$SALES_CATALOG" -f "$BENCH_DIR/seed_sales.sql" >/dev/null
    local n=0 i emails=() levels=()
    IFS=, read -ra levels <<<"$SALES_LEVELS"
    for i in "${levels[@]}"; do
        if ((i > n)); then n=$i; fi
    done
    n=$((n * SALES_PERSONS))
    for ((i = 1; i <= n; i++)); do
        STOCK_USER_PASSWORD=$STOCK_DEMO_PASSWORD "$BIN" user add --shop demo --email "staff$i@demo.test" \
            --name "Staff$i" --role staff >/dev/null
        emails+=("staff$i@demo.test")
    done
    SALES_EMAILS=$(IFS=,; printf '%s' "${emails[*]}")
    stock_info "seeded: $SALES_CATALOG catalog products and 5 hot ones with $SALES_OPENING units each, BENCH-SCARCE with 10; $n staff logins"
}

bench_sales_run() {
    local app_url
    app_url=$(bench_app_url)
    bench_start_server
    timeout 900 python3 "$BENCH_DIR/sales.py" \
        --base-url "http://$LISTEN" \
        --admin-url "$BENCH_ADMIN_URL" \
        --app-url "$app_url" \
        --schema "$DEMO_SCHEMA" \
        --password "$STOCK_DEMO_PASSWORD" \
        --emails "$SALES_EMAILS" \
        --levels "$SALES_LEVELS" \
        --seconds "$SALES_SECONDS" \
        --pg-seconds "$SALES_PG_SECONDS" \
        --persons-per-client "$SALES_PERSONS" \
        --out-dir "$OUT_DIR" \
        --doc "$DOC" \
        --build "$(bench_build_note)"
    bench_stop_server
}

scenario_sales() {
    stock_step "sales: seed products and staff" bench_sales_seed
    stock_step "sales: measure" bench_sales_run
}

# shellcheck source=scripts/bench/migrate.sh
source "$BENCH_DIR/migrate.sh"

# ---------------------------------------------------------------------------------------------
# scenario: dashboard

bench_dashboard_seed() {
    local want=${STOCK_BENCH_DASHBOARD_PRODUCTS:-10000} sales=${STOCK_BENCH_DASHBOARD_SALES:-50000} n t0=$SECONDS
    command -v wrk >/dev/null 2>&1 || stock_apt_install wrk
    command -v wrk >/dev/null 2>&1 || stock_die "wrk not found (apt-get install -y wrk)"
    n=$(stock_psql -d "$BENCH_ADMIN_URL" -Atc "select count(*) from \"$DEMO_SCHEMA\".products")
    if ((n < want)); then
        stock_psql -d "$BENCH_ADMIN_URL" -v schema="$DEMO_SCHEMA" -v tenant_id="$DEMO_TENANT_ID" \
            -v n="$((want - n))" -f "$BENCH_DIR/seed_products.sql" >/dev/null
    fi
    stock_psql -d "$BENCH_ADMIN_URL" -v schema="$DEMO_SCHEMA" -v tenant_id="$DEMO_TENANT_ID" \
        -v sales="$sales" -f "$BENCH_DIR/dashboard.seed.sql" >/dev/null
    stock_info "seeded: $(stock_psql -d "$BENCH_ADMIN_URL" -Atc "select (select count(*) from \"$DEMO_SCHEMA\".products) || ' products, ' || (select count(*) from \"$DEMO_SCHEMA\".sales) || ' sales'") ($((SECONDS - t0)) s)"
}

bench_dashboard_run() {
    local app_url
    app_url=$(bench_app_url)
    bench_start_server
    timeout 900 python3 "$BENCH_DIR/dashboard.py" \
        --base-url "http://$LISTEN" \
        --admin-url "$BENCH_ADMIN_URL" \
        --app-url "$app_url" \
        --schema "$DEMO_SCHEMA" \
        --tenant-id "$DEMO_TENANT_ID" \
        --shop-role "${STOCK_ROLE_PREFIX}_shop_owner" \
        --password "$STOCK_DEMO_PASSWORD" \
        --seconds "${STOCK_BENCH_DASHBOARD_SECONDS:-20}" \
        --pg-seconds "${STOCK_BENCH_DASHBOARD_PG_SECONDS:-15}" \
        --rounds "${STOCK_BENCH_DASHBOARD_ROUNDS:-2}" \
        --connections "${STOCK_BENCH_DASHBOARD_CONNECTIONS:-8}" \
        --out-dir "$OUT_DIR" \
        --doc "$DOC" \
        --build "$(bench_build_note)"
    bench_stop_server
}

scenario_dashboard() {
    stock_step "dashboard: seed products and sales" bench_dashboard_seed
    stock_step "dashboard: measure" bench_dashboard_run
}

# ---------------------------------------------------------------------------------------------
# scenario: backup

scenario_backup() {
    stock_step "backup: measure" env BIN="$BIN" BENCH_ADMIN_URL="$BENCH_ADMIN_URL" DEMO_SCHEMA="$DEMO_SCHEMA" \
        DEMO_TENANT_ID="$DEMO_TENANT_ID" BENCH_DIR="$BENCH_DIR" OUT_DIR="$OUT_DIR" DOC="$DOC" \
        BUILD_NOTE="$(bench_build_note)" bash "$BENCH_DIR/backup.sh"
}

# ---------------------------------------------------------------------------------------------
# scale scenarios: shops, random, rls, memory, signup

# shellcheck source=scripts/bench/shops.sh
source "$BENCH_DIR/shops.sh"
# shellcheck source=scripts/bench/scale.sh
source "$BENCH_DIR/scale.sh"

# ---------------------------------------------------------------------------------------------

started=$SECONDS
stock_step "tools" bench_require_tools
stock_step "PostgreSQL" bench_postgres
stock_step "cargo build --release" bench_build
needs_demo=0
for s in "${scenarios[@]}"; do
    case $s in
    migrate | shops | random | rls | memory | signup) ;;
    *) needs_demo=1 ;;
    esac
done
if [[ $needs_demo == 1 ]]; then
    stock_step "fresh bench database" bench_fresh_database
    bench_demo_shop
fi
for s in "${scenarios[@]}"; do
    "scenario_$s"
done
printf '\n==> benchmarks done in %s s: %s (results in %s)\n' "$((SECONDS - started))" "${scenarios[*]}" \
    "${OUT_DIR#"$STOCK_ROOT"/}"
