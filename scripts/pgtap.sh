#!/usr/bin/env bash
# Runs the pgTAP suite (tests/pgtap/*.sql) with pg_prove: RLS forced, the policies of every table,
# role privileges, and what each role can actually do in one shop (against a second shop).
#
# Usage: scripts/pgtap.sh [--database URL --shop ID [--other ID]] [FILE...]
#   (default)        a scratch database stock_pgtap_<pid> on the test server (as scripts/test.sh
#                    finds it), migrated by `stock migrate` (debug build, roles stockpgtap_*), with
#                    two shops; dropped afterwards.
#   --database URL   a superuser URL of an existing, migrated database (nothing is left behind:
#                    every file runs in one transaction that is rolled back, pgTAP included);
#                    --shop is the shop under test, --other a second shop (default: any other).
#                    Role prefix from STOCK_ROLE_PREFIX (default stock).
#   FILE...          run only these files (default: all of tests/pgtap/*.sql)
# Knobs: STOCK_PGTAP_BIN (a stock binary to migrate with; default target/debug/stock, built),
# STOCK_SKIP_PGTAP=1 (do not install pgTAP / pg_prove).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$STOCK_ROOT"
stock_install_step_trap

DB_URL=""
SHOP=""
OTHER=""
FILES=()
SCRATCH_DB=""
ADMIN_URL=""

while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    --database) DB_URL=${2:?--database needs a URL}; shift 2 ;;
    --shop) SHOP=${2:?--shop needs an id}; shift 2 ;;
    --other) OTHER=${2:?--other needs an id}; shift 2 ;;
    -*) stock_die "unknown option $1 (see --help)" ;;
    *) FILES+=("$1"); shift ;;
    esac
done
[[ ${#FILES[@]} -gt 0 ]] || FILES=(tests/pgtap/*.sql)
[[ -z $SHOP || $SHOP =~ ^[0-9]+$ ]] || stock_die "--shop takes a shop id (a number), not '$SHOP'"
[[ -z $OTHER || $OTHER =~ ^[0-9]+$ ]] || stock_die "--other takes a shop id (a number), not '$OTHER'"

stock_on_exit_hook() {
    if [[ -n $SCRATCH_DB ]]; then
        stock_psql -d "$ADMIN_URL" -c "drop database if exists \"$SCRATCH_DB\" with (force)" >/dev/null 2>&1 || true
    fi
    if [[ ${STOCK_PG_OWN_STARTED:-0} == 1 && ${STOCK_PG_KEEP:-0} != 1 ]]; then
        stock_pg_own_stop || true
    fi
}

scratch_database() {
    stock_pg_bootstrap_test
    ADMIN_URL=$STOCK_TEST_ADMIN_URL
    local bin=${STOCK_PGTAP_BIN:-${CARGO_TARGET_DIR:-$STOCK_ROOT/target}/debug/stock}
    if [[ -z ${STOCK_PGTAP_BIN:-} ]]; then
        stock_require_cargo
        cargo build --quiet --bin stock
    fi
    SCRATCH_DB="stock_pgtap_$$"
    DB_URL=$(stock_pg_url_with_db "$ADMIN_URL" "$SCRATCH_DB")
    export STOCK_ROLE_PREFIX=stockpgtap
    DATABASE_URL=$DB_URL "$bin" migrate >/dev/null
    SHOP=$(PGOPTIONS="-c client_min_messages=warning" stock_psql -d "$DB_URL" -Atc "select app_private.create_tenant('pgTAP A', app_private.unique_slug('pgtap-a'))")
    OTHER=$(PGOPTIONS="-c client_min_messages=warning" stock_psql -d "$DB_URL" -Atc "select app_private.create_tenant('pgTAP B', app_private.unique_slug('pgtap-b'))")
    stock_info "scratch database $SCRATCH_DB: shops $SHOP and $OTHER"
}

existing_database() {
    stock_pg_is_superuser "$DB_URL" || stock_die "--database must be a superuser login (pgTAP is installed, then rolled back)"
    ADMIN_URL=$DB_URL
    export STOCK_ROLE_PREFIX=${STOCK_ROLE_PREFIX:-stock}
    [[ -n $SHOP ]] || stock_die "--database needs --shop ID"
    [[ -n $OTHER ]] || OTHER=$(stock_psql -d "$DB_URL" -Atc "select min(id) from app.tenants where id <> $SHOP")
    [[ -n $OTHER ]] || stock_die "the database needs a second shop to test isolation against"
}

run_suite() {
    local schema other_schema
    schema=$(stock_psql -d "$DB_URL" -Atc "select schema_name from app.tenants where id = $SHOP")
    other_schema=$(stock_psql -d "$DB_URL" -Atc "select schema_name from app.tenants where id = $OTHER")
    [[ -n $schema ]] || stock_die "no shop with id $SHOP"
    [[ -n $other_schema ]] || stock_die "no shop with id $OTHER"
    stock_info "shop $SHOP ($schema) against shop $OTHER ($other_schema), roles ${STOCK_ROLE_PREFIX}_*"
    pg_prove --dbname "$DB_URL" \
        --set "prefix=$STOCK_ROLE_PREFIX" --set "schema=$schema" --set "tenant_id=$SHOP" \
        --set "other_schema=$other_schema" --set "other_id=$OTHER" "${FILES[@]}"
}

stock_step "tools" stock_require_psql
if [[ -z $DB_URL ]]; then
    stock_step "scratch database with two shops" scratch_database
else
    stock_step "database" existing_database
fi
stock_step "pgTAP and pg_prove" stock_ensure_pgtap "$ADMIN_URL"
stock_step "pg_prove tests/pgtap" run_suite
printf '\n==> pgTAP suite passed.\n'
