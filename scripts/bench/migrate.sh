# shellcheck shell=bash
# Scenario `migrate` of scripts/bench.sh (sourced by it; uses its BIN, BENCH_ADMIN_URL, OUT_DIR, DOC
# and the helpers of scripts/lib.sh). Measures `stock migrate` on an install with many shops:
#
#   1. a scratch database <bench database>_migrate, migrated, with STOCK_BENCH_SHOPS (1000) shops
#      made by app_private.create_tenant, the function sign-up uses, one transaction each, in
#      batches of STOCK_BENCH_SHOP_BATCH (50) per psql call on STOCK_BENCH_SHOP_WORKERS (2)
#      connections;
#   2. `stock migrate` with nothing to apply, three times (target: <= 5 s);
#   3. `stock migrate` applying one new tenant migration that adds a column to `products` in every
#      shop (target: <= 60 s), then once more with nothing to apply;
#   4. `stock policies check` over every shop (no target; the figure is recorded).
#
# How the new migration gets in (nothing of it ships in the product): the script registers it in
# app_private.tenant_migrations, the table `stock migrate` registers the binary's own migrations
# in and app_private.migrate_tenant reads, as the next version, and deletes the recorded checksum
# of the tenant policy templates. The binary then takes every shop as due, exactly as when a
# release changes the templates, and migrates each in its own transaction through
# app_private.migrate_tenant with its usual parallelism: the new migration, then the shop's
# policies re-applied. That is the per-shop work of a release that adds a tenant migration.
# The scratch database is dropped at the start of the next run (kept for inspection), or reused
# as it is with STOCK_BENCH_KEEP_DB=1 (each run then adds one more bench migration).

MIGRATE_SHOPS=${STOCK_BENCH_SHOPS:-1000}
MIGRATE_BATCH=${STOCK_BENCH_SHOP_BATCH:-50}
MIGRATE_WORKERS=${STOCK_BENCH_SHOP_WORKERS:-2}
MIGRATE_NOOP_TARGET_S=5
MIGRATE_APPLY_TARGET_S=60
MIGRATE_URL=""

# Seconds (with milliseconds) that a command takes; its output goes to $OUT_DIR/migrate-<label>.log.
bench_migrate_time() {
    local label=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    timeout 900 "$@" >"$OUT_DIR/migrate-$label.log" 2>&1 || {
        tail -n 20 "$OUT_DIR/migrate-$label.log" >&2
        stock_die "$label failed (log: $OUT_DIR/migrate-$label.log)"
    }
    t1=$(date +%s.%N)
    python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$t1"
}

bench_migrate_seed() {
    local db=${BENCH_ADMIN_URL%%\?*}
    db="${db##*/}_migrate"
    MIGRATE_URL=$(stock_pg_url_with_db "$BENCH_ADMIN_URL" "$db")
    mkdir -p "$OUT_DIR"
    if [[ ${STOCK_BENCH_KEEP_DB:-0} == 1 ]] &&
        [[ $(stock_psql -d "$MIGRATE_URL" -Atc "select count(*) from app.tenants" 2>/dev/null) == "$MIGRATE_SHOPS" ]]; then
        MIGRATE_SEED_S="kept from an earlier run"
        stock_info "STOCK_BENCH_KEEP_DB=1: keeping $db with its $MIGRATE_SHOPS shops"
        return 0
    fi
    stock_psql -d "$(stock_pg_url_with_db "$BENCH_ADMIN_URL" postgres)" -c "drop database if exists \"$db\" with (force)"
    DATABASE_URL=$MIGRATE_URL "$BIN" migrate >/dev/null
    local t0=$SECONDS w pids=() per=$(((MIGRATE_SHOPS + MIGRATE_WORKERS - 1) / MIGRATE_WORKERS))
    for ((w = 0; w < MIGRATE_WORKERS; w++)); do
        (
            local from=$((w * per + 1)) to=$(((w + 1) * per)) a b
            ((to <= MIGRATE_SHOPS)) || to=$MIGRATE_SHOPS
            for ((a = from; a <= to; a += MIGRATE_BATCH)); do
                b=$((a + MIGRATE_BATCH - 1))
                ((b <= to)) || b=$to
                # one transaction per shop (COMMIT in the loop): a shop takes ~100 locks while it
                # is created, and many in one transaction exhaust the shared lock table
                PGOPTIONS="-c client_min_messages=warning" timeout 600 psql -X -w -q -v ON_ERROR_STOP=1 \
                    -d "$MIGRATE_URL" -c "do \$\$ begin
                        for i in $a..$b loop
                            perform app_private.create_tenant('Bench shop ' || i, 'bench-' || i);
                            commit;
                        end loop;
                    end \$\$" </dev/null >/dev/null
            done
        ) &
        pids+=($!)
    done
    for w in "${pids[@]}"; do
        wait "$w" || stock_die "creating shops failed"
    done
    MIGRATE_SEED_S="$((SECONDS - t0)) s"
    local n
    n=$(stock_psql -d "$MIGRATE_URL" -Atc "select count(*) from app.tenants")
    [[ $n -eq $MIGRATE_SHOPS ]] || stock_die "expected $MIGRATE_SHOPS shops, found $n"
    stock_info "$n shops created in ${MIGRATE_SEED_S} (database $db)"
}

bench_migrate_run() {
    local i t noop=() version cols behind
    for i in 1 2 3; do
        t=$(DATABASE_URL=$MIGRATE_URL bench_migrate_time "noop-$i" "$BIN" migrate)
        noop+=("$t")
        stock_info "stock migrate, nothing to apply: $t s"
    done
    grep -q "shops migrated: 0;" "$OUT_DIR/migrate-noop-3.log" ||
        stock_die "a migrate with nothing to apply migrated shops: $(cat "$OUT_DIR/migrate-noop-3.log")"

    version=$(stock_psql -d "$MIGRATE_URL" -Atc "select max(version) + 1 from app_private.tenant_migrations")
    cat >"$OUT_DIR/migrate-inject.sql" <<'SQL'
insert into app_private.tenant_migrations (version, name, sql, checksum)
select :v, 'bench_add_column', s, encode(sha256(convert_to(s, 'UTF8')), 'hex')
  from (select format('alter table products add column bench_note_v%s text not null default %L', :v, '') as s) x;
delete from app_private.config where key = 'tenant_policies_checksum';
SQL
    stock_psql -d "$MIGRATE_URL" -v v="$version" -f "$OUT_DIR/migrate-inject.sql" >/dev/null
    MIGRATE_APPLY_S=$(DATABASE_URL=$MIGRATE_URL bench_migrate_time apply "$BIN" migrate)
    stock_info "stock migrate applying V$version to every shop: $MIGRATE_APPLY_S s ($(tail -n 1 "$OUT_DIR/migrate-apply.log"))"
    behind=$(stock_psql -d "$MIGRATE_URL" -Atc "select count(*) from app.tenants where schema_version <> $version")
    cols=$(stock_psql -d "$MIGRATE_URL" -Atc "select count(*) from information_schema.columns
                                               where table_name = 'products' and column_name = 'bench_note_v$version'")
    [[ $behind -eq 0 && $cols -eq $MIGRATE_SHOPS ]] ||
        stock_die "after the migration: $behind shop(s) not at V$version, the column in $cols of $MIGRATE_SHOPS shops"
    MIGRATE_AFTER_S=$(DATABASE_URL=$MIGRATE_URL bench_migrate_time noop-after "$BIN" migrate)
    stock_info "stock migrate again, nothing to apply: $MIGRATE_AFTER_S s"
    MIGRATE_CHECK_S=$(DATABASE_URL=$MIGRATE_URL bench_migrate_time check "$BIN" policies check)
    stock_info "stock policies check over $MIGRATE_SHOPS shops: $MIGRATE_CHECK_S s ($(tail -n 1 "$OUT_DIR/migrate-check.log"))"
    MIGRATE_NOOP=("${noop[@]}")
    bench_migrate_report
}

bench_migrate_report() {
    local load cpus pg verdict_noop verdict_apply worst section
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    cpus=$(nproc)
    pg=$(stock_psql -d "$MIGRATE_URL" -Atc "select setting from pg_settings where name = 'server_version'")
    worst=$(printf '%s\n' "${MIGRATE_NOOP[@]}" | sort -n | tail -n 1)
    verdict_noop=$(python3 -c "import sys; print('met' if float(sys.argv[1]) <= $MIGRATE_NOOP_TARGET_S else 'MISSED')" "$worst")
    verdict_apply=$(python3 -c "import sys; print('met' if float(sys.argv[1]) <= $MIGRATE_APPLY_TARGET_S else 'MISSED')" "$MIGRATE_APPLY_S")
    section=$(
        cat <<MD
Run of $(date -u '+%Y-%m-%d %H:%M') UTC (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(bench_build_note)), $MIGRATE_SHOPS shops, $cpus CPUs, PostgreSQL $pg, migrate parallelism ${STOCK_MIGRATE_PARALLELISM:-4} (default); load average $load after the run.

| step | time | target |
|---|---:|---|
| create $MIGRATE_SHOPS shops (create_tenant, $MIGRATE_WORKERS connections) | ${MIGRATE_SEED_S} | — |
| \`stock migrate\`, nothing to apply (3 runs) | ${MIGRATE_NOOP[*]} s | <= ${MIGRATE_NOOP_TARGET_S} s: $verdict_noop |
| \`stock migrate\`, one new tenant migration (add a column) in every shop | ${MIGRATE_APPLY_S} s | <= ${MIGRATE_APPLY_TARGET_S} s: $verdict_apply |
| \`stock migrate\` again, nothing to apply | ${MIGRATE_AFTER_S} s | <= ${MIGRATE_NOOP_TARGET_S} s |
| \`stock policies check\`, every shop | ${MIGRATE_CHECK_S} s | — |
MD
    )
    printf '\n%s\n' "$section"
    printf '%s\n' "$section" >"$OUT_DIR/migrate.md"
    if [[ -n $DOC ]]; then
        python3 - "$DOC" "$OUT_DIR/migrate.md" <<'PY'
import sys
path, section = sys.argv[1], open(sys.argv[2], encoding="utf-8").read().rstrip("\n")
begin, end = "<!-- migrate:begin -->", "<!-- migrate:end -->"
doc = open(path, encoding="utf-8").read()
if begin not in doc or end not in doc:
    doc = doc.rstrip("\n") + f"\n\n{begin}\n{end}\n"
head, rest = doc.split(begin, 1)
_, tail = rest.split(end, 1)
open(path, "w", encoding="utf-8").write(f"{head}{begin}\n{section}\n{end}{tail}")
PY
        stock_info "wrote the migrate section of ${DOC#"$STOCK_ROOT"/}"
    fi
}

scenario_migrate() {
    stock_step "migrate: $MIGRATE_SHOPS shops in a scratch database" bench_migrate_seed
    stock_step "migrate: measure" bench_migrate_run
}
