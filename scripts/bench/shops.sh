# shellcheck shell=bash
# Scenario `shops` of scripts/bench.sh (sourced by it; uses its BIN, BENCH_ADMIN_URL, OUT_DIR, DOC and
# the helpers of scripts/lib.sh), and the database the scale scenarios (random, rls, memory, signup)
# measure: <bench database>_scale with STOCK_BENCH_SCALE_SHOPS (1000, or `--shops N`) shops.
#
# Every shop goes through the real provisioning path, app_private.sign_up (the function POST /signup
# runs: owner, tenant row, schema with every tenant migration, policies, membership, session), one
# transaction per shop (a shop takes ~100 locks while it is created; many in one transaction
# exhaust max_locks_per_transaction), in batches of STOCK_BENCH_SCALE_BATCH (50) per psql call on
# STOCK_BENCH_SCALE_WORKERS (2) connections. Shops 1..STOCK_BENCH_SCALE_LARGE (3) are large
# (STOCK_BENCH_SCALE_LARGE_PRODUCTS 5000 products, STOCK_BENCH_SCALE_LARGE_SALES 20000 sales);
# the others small (20 to 60 products, 0 to 30 sales). Functions: scripts/bench/shops.seed.sql.
#
# The database is kept between runs: when it already holds the shops it is only migrated (a no-op
# unless the binary brings new migrations). A half-made set is completed (existing shops are
# skipped). STOCK_BENCH_SCALE_FRESH=1 drops it first. Creating 1,000 shops takes a few minutes.

SCALE_SHOPS=${STOCK_BENCH_SCALE_SHOPS:-1000}
SCALE_BATCH=${STOCK_BENCH_SCALE_BATCH:-50}
SCALE_WORKERS=${STOCK_BENCH_SCALE_WORKERS:-2}
SCALE_LARGE=${STOCK_BENCH_SCALE_LARGE:-3}
SCALE_LARGE_PRODUCTS=${STOCK_BENCH_SCALE_LARGE_PRODUCTS:-5000}
SCALE_LARGE_SALES=${STOCK_BENCH_SCALE_LARGE_SALES:-20000}
SCALE_URL=""
SCALE_SEED_NOTE=""

# Sets SCALE_URL (superuser URL of the scale database).
bench_scale_url() {
    local db=${BENCH_ADMIN_URL%%\?*}
    db="${db##*/}_scale"
    SCALE_URL=$(stock_pg_url_with_db "$BENCH_ADMIN_URL" "$db")
}

bench_scale_count() {
    stock_psql -d "$SCALE_URL" -Atc "select count(*) from app.tenants where slug like 'scale-%'" 2>/dev/null || echo 0
}

bench_shops_seed() {
    bench_scale_url
    mkdir -p "$OUT_DIR"
    local db=${SCALE_URL%%\?*} have
    db=${db##*/}
    if [[ ${STOCK_BENCH_SCALE_FRESH:-0} == 1 ]]; then
        stock_psql -d "$(stock_pg_url_with_db "$BENCH_ADMIN_URL" postgres)" -c "drop database if exists \"$db\" with (force)"
    fi
    # creates the database when missing; brings a kept one up to the binary's migrations
    DATABASE_URL=$SCALE_URL "$BIN" migrate >"$OUT_DIR/shops-migrate.log" 2>&1 || {
        tail -n 20 "$OUT_DIR/shops-migrate.log" >&2
        stock_die "stock migrate of $db failed"
    }
    DATABASE_URL=$SCALE_URL "$BIN" demo >/dev/null
    have=$(bench_scale_count)
    if ((have >= SCALE_SHOPS)); then
        SCALE_SEED_NOTE="kept: $have shops already in $db"
        stock_info "$SCALE_SEED_NOTE"
        SCALE_READY=1
        return 0
    fi
    stock_info "$db has $have of $SCALE_SHOPS bench shops: creating the rest"
    local t0=$SECONDS w pids=() per=$(((SCALE_SHOPS + SCALE_WORKERS - 1) / SCALE_WORKERS))
    for ((w = 0; w < SCALE_WORKERS; w++)); do
        (
            local from=$((w * per + 1)) to=$(((w + 1) * per)) a b
            ((to <= SCALE_SHOPS)) || to=$SCALE_SHOPS
            for ((a = from; a <= to; a += SCALE_BATCH)); do
                b=$((a + SCALE_BATCH - 1))
                ((b <= to)) || b=$to
                {
                    cat "$BENCH_DIR/shops.seed.sql"
                    # one transaction per shop: COMMIT inside the loop
                    cat <<SQL
do \$\$ begin
    for i in $a..$b loop
        if i <= $SCALE_LARGE then
            perform pg_temp.scale_shop(i, $SCALE_LARGE_PRODUCTS, $SCALE_LARGE_SALES);
        else
            perform pg_temp.scale_shop(i, 20 + (i * 7) % 41, (i * 11) % 31);
        end if;
        commit;
    end loop;
end \$\$;
SQL
                } | PGOPTIONS="-c client_min_messages=warning" timeout 900 psql -X -w -q -v ON_ERROR_STOP=1 \
                    -d "$SCALE_URL" >/dev/null
            done
        ) &
        pids+=($!)
    done
    for w in "${pids[@]}"; do
        wait "$w" || stock_die "creating shops failed"
    done
    # statistics for the large shops' tables (the small ones are left to autovacuum, like new shops)
    local schema
    for schema in $(stock_psql -d "$SCALE_URL" -Atc "select schema_name from app.tenants
                                                       where slug between 'scale-0001' and 'scale-$(printf %04d "$SCALE_LARGE")'"); do
        stock_psql -d "$SCALE_URL" -qc "vacuum (analyze) \"$schema\".products, \"$schema\".sales,
            \"$schema\".sale_lines, \"$schema\".sale_payments, \"$schema\".money_ledger, \"$schema\".stock_movements" >/dev/null
    done
    have=$(bench_scale_count)
    ((have >= SCALE_SHOPS)) || stock_die "expected $SCALE_SHOPS bench shops, found $have"
    SCALE_SEED_NOTE="$have shops created in $((SECONDS - t0)) s"
    stock_info "$SCALE_SEED_NOTE (database $db)"
    SCALE_READY=1
}

bench_shops_report() {
    local rels products sales load section
    rels=$(stock_psql -d "$SCALE_URL" -Atc "select count(*) from pg_class")
    products=$(stock_psql -d "$SCALE_URL" -Atc "select sum(n_live_tup) from pg_stat_user_tables where relname = 'products'")
    sales=$(stock_psql -d "$SCALE_URL" -Atc "select sum(n_live_tup) from pg_stat_user_tables where relname = 'sales'")
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    section=$(
        cat <<MD
Run of $(date -u '+%Y-%m-%d %H:%M') UTC (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(bench_build_note)), $(nproc) CPUs, $(stock_psql -d "$SCALE_URL" -Atc "show server_version"); load average $load after it (the bench's own processes included).

| what | value |
|---|---|
| bench shops (through \`app_private.sign_up\`, one transaction each, $SCALE_WORKERS connections) | $SCALE_SHOPS + the demo shop: $SCALE_SEED_NOTE |
| large shops | $SCALE_LARGE, each $SCALE_LARGE_PRODUCTS products and $SCALE_LARGE_SALES sales |
| small shops | 20–60 products, 0–30 sales |
| relations in pg_class | $rels |
| products / sales in all shops (pg_stat estimate) | ${products:-?} / ${sales:-?} |
MD
    )
    printf '\n%s\n' "$section"
    printf '%s\n' "$section" >"$OUT_DIR/shops.md"
    bench_write_section shops "$OUT_DIR/shops.md"
}

# Rewrites the section between <!-- name:begin/end --> of $DOC with the contents of a file.
bench_write_section() {
    [[ -n $DOC ]] || return 0
    python3 - "$DOC" "$1" "$2" <<'PY'
import sys
path, name, section = sys.argv[1], sys.argv[2], open(sys.argv[3], encoding="utf-8").read().rstrip("\n")
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
doc = open(path, encoding="utf-8").read()
if begin not in doc or end not in doc:
    doc = doc.rstrip("\n") + f"\n\n{begin}\n{end}\n"
head, rest = doc.split(begin, 1)
_, tail = rest.split(end, 1)
open(path, "w", encoding="utf-8").write(f"{head}{begin}\n{section}\n{end}{tail}")
PY
    stock_info "wrote the $1 section of ${DOC#"$STOCK_ROOT"/}"
}

scenario_shops() {
    stock_step "shops: $SCALE_SHOPS shops in the scale database" bench_shops_seed
    bench_shops_report
}
