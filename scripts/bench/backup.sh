#!/usr/bin/env bash
# Per-shop backup benchmark, run by `scripts/bench.sh backup` (which sets up the database, the
# release binary and the demo shop, and exports what is read below).
#
# Measures `stock tenant backup demo` with 0 other shops, then with STOCK_BENCH_BACKUP_SHOPS
# (1,000) other shops in the database, and `pg_dump -Fc -n <schema>` of the same schema at both
# points. The design target: the backup's time must not grow with the other shops (ratio <= 1.2).
# Each figure is the median of STOCK_BENCH_BACKUP_RUNS (7) runs.
#
# Reads: BIN, BENCH_ADMIN_URL, DEMO_SCHEMA, DEMO_TENANT_ID, BENCH_DIR, OUT_DIR, DOC, BUILD_NOTE,
#        STOCK_BENCH_BACKUP_PRODUCTS (20000), STOCK_BENCH_BACKUP_SHOPS (1000), STOCK_BENCH_BACKUP_RUNS (7)
set -euo pipefail

PRODUCTS=${STOCK_BENCH_BACKUP_PRODUCTS:-20000}
SHOPS=${STOCK_BENCH_BACKUP_SHOPS:-1000}
RUNS=${STOCK_BENCH_BACKUP_RUNS:-7}
WORK="$OUT_DIR/backup"
mkdir -p "$WORK"

psql_admin() { PGOPTIONS='-c client_min_messages=warning' psql -X -v ON_ERROR_STOP=1 -d "$BENCH_ADMIN_URL" "$@"; }
info() { printf '    %s\n' "$*"; }

# median wall time in ms of running "$@" RUNS times
median_ms() {
    local times=() i t0 t1
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s%N)
        "$@" >/dev/null
        t1=$(date +%s%N)
        times+=($(((t1 - t0) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

other_shops() {
    psql_admin -Atc "select count(*) from app.tenants where slug like 'bench-other-%'"
}

have=$(psql_admin -Atc "select count(*) from \"$DEMO_SCHEMA\".products")
if ((have < PRODUCTS)); then
    psql_admin -q -v schema="$DEMO_SCHEMA" -v tenant_id="$DEMO_TENANT_ID" -v n="$((PRODUCTS - have))" \
        -f "$BENCH_DIR/seed_products.sql" >/dev/null
fi
rows=$(psql_admin -Atc "select (select count(*) from \"$DEMO_SCHEMA\".products) || ' products, '
                              || (select count(*) from \"$DEMO_SCHEMA\".stock_movements) || ' movements'")
info "demo shop: $rows"

# the same shop, with no other shops around: drop any left by an earlier run
if (($(other_shops) > 0)); then
    info "dropping the other shops of an earlier run"
    while (($(other_shops) > 0)); do
        psql_admin -qAt >/dev/null <<'SQL'
do $$
declare r record;
begin
    for r in select id, schema_name from app.tenants where slug like 'bench-other-%' order by id limit 10 loop
        execute format('drop schema if exists %I cascade', r.schema_name);
        delete from app.tenants where id = r.id;
    end loop;
end $$;
SQL
    done
fi

measure() {
    local label=$1
    psql_admin -qc "vacuum analyze" >/dev/null
    "$BIN" tenant backup demo -o "$WORK/warm.stockbak" >/dev/null # warm the caches
    local stock_ms dump_ms size dump_size
    stock_ms=$(median_ms "$BIN" tenant backup demo -o "$WORK/demo-$label.stockbak")
    dump_ms=$(median_ms pg_dump -Fc -n "$DEMO_SCHEMA" -f "$WORK/demo-$label.pgdump" "$BENCH_ADMIN_URL")
    size=$(stat -c %s "$WORK/demo-$label.stockbak")
    dump_size=$(stat -c %s "$WORK/demo-$label.pgdump")
    printf '%s %s %s %s %s\n' "$label" "$stock_ms" "$dump_ms" "$size" "$dump_size"
}

read -r _ s0 d0 size0 dsize0 < <(measure alone)
info "0 other shops: stock backup ${s0} ms, pg_dump -n ${d0} ms"

t0=$SECONDS
# two sessions at a time, 25 shops per transaction (each shop takes ~100 locks)
create_range() {
    local i batch=25
    for ((i = $1; i <= $2; i += batch)); do
        psql_admin -qAtc "select count(app_private.create_tenant('Bench other ' || g, 'bench-other-' || g))
                            from generate_series($i, least($((i + batch - 1)), $2)) g" >/dev/null
    done
}
half=$((SHOPS / 2))
create_range 1 "$half" &
first=$!
create_range "$((half + 1))" "$SHOPS"
wait "$first"
relations=$(psql_admin -Atc "select count(*) from pg_class")
info "created $SHOPS other shops in $((SECONDS - t0)) s ($relations relations in pg_class)"

read -r _ s1 d1 size1 dsize1 < <(measure crowded)
info "$SHOPS other shops: stock backup ${s1} ms, pg_dump -n ${d1} ms"

ratio=$(awk -v a="$s1" -v b="$s0" 'BEGIN {printf "%.2f", a / b}')
dump_ratio=$(awk -v a="$d1" -v b="$d0" 'BEGIN {printf "%.2f", a / b}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r <= 1.2) ? "within the 1.2 target" : "ABOVE the 1.2 target"}')
# the restore side, once, for scale
t0=$(date +%s%N)
"$BIN" tenant restore "$WORK/demo-crowded.stockbak" --as bench-restored >/dev/null
restore_ms=$((($(date +%s%N) - t0) / 1000000))
"$BIN" tenant drop bench-restored --yes >/dev/null

table=$(
    cat <<EOF
Last run: $(date -u +%Y-%m-%d), $(nproc) cores (shared with other builds), PostgreSQL $(psql_admin -Atc "show server_version" | cut -d' ' -f1), ${BUILD_NOTE:-release build}.
Shop: the demo shop with $rows; median of $RUNS runs each.

| other shops in the database | relations in pg_class | \`stock tenant backup\` | \`pg_dump -Fc -n $DEMO_SCHEMA\` | archive / dump size |
|---:|---:|---:|---:|---:|
| 0 | – | ${s0} ms | ${d0} ms | $((size0 / 1024)) KiB / $((dsize0 / 1024)) KiB |
| $SHOPS | $relations | ${s1} ms | ${d1} ms | $((size1 / 1024)) KiB / $((dsize1 / 1024)) KiB |
| ratio | | **${ratio}** ($verdict) | ${dump_ratio} | |

\`stock tenant restore --as\` of the same archive with $SHOPS other shops (verify, create the
schema, load with triggers off, read back and compare checksums, migrate, policies, audit): ${restore_ms} ms.
EOF
)
printf '\n%s\n\n' "$table"
printf '{"products_rows": "%s", "shops": %s, "stock_ms": [%s, %s], "pg_dump_ms": [%s, %s], "ratio": %s, "pg_dump_ratio": %s, "restore_ms": %s}\n' \
    "$rows" "$SHOPS" "$s0" "$s1" "$d0" "$d1" "$ratio" "$dump_ratio" "$restore_ms" >"$OUT_DIR/backup.json"

if [[ -n ${DOC:-} && -f $DOC ]]; then
    python3 - "$DOC" "$table" <<'PY'
import re, sys
path, body = sys.argv[1], sys.argv[2]
doc = open(path, encoding="utf-8").read()
block = "<!-- backup:begin -->\n" + body + "\n<!-- backup:end -->"
if "<!-- backup:begin -->" in doc:
    doc = re.sub(r"<!-- backup:begin -->.*?<!-- backup:end -->", lambda _: block, doc, flags=re.S)
else:
    doc = doc.rstrip("\n") + "\n\n## Per-shop backup\n\n" + block + "\n"
open(path, "w", encoding="utf-8").write(doc)
PY
    info "updated ${DOC##*/}"
fi
