#!/usr/bin/env python3
"""Five-line sale benchmark (scenario `sales` of scripts/bench.sh). Python 3 standard library only.

Against a running `stock serve` whose demo shop holds the five BENCH-SALE-* products of
seed_sales.sql (enough stock for the whole run) and staff users staff1..N@demo.test, it:
  1. logs every client in as its own staff person (one cart per person) and empties its cart;
  2. HTTP: each client sells in a loop for --seconds per level (concurrency 1, then 4): five
     POST /pos/scan (one unit of each product, by barcode), GET /pos (to read the cart's
     idempotency key, as the page does after the last scan), POST /pos/checkout with no payment
     fields (the total in cash); every response is checked (303 to /pos, 200 with the key, 303
     to /sales/<id>);
  3. SQL only: the statements of sales::record_sale for the same five-line cash sale (session
     lookup and set_config first, final consumer, insert into sales, five sale_lines in ascending
     product id, one sale_payments row, commit) through pgbench as the web app's login role with
     the staff session, --pg-seconds per level at 1 and 4 clients;
  4. an oversell check: 4 clients race to sell one unit each of BENCH-SCARCE (stock 10) 5 times
     each: exactly 10 sales must pass and the stock must end at 0;
  5. checks the ledger as the superuser: for every product stock = sum of its movements and
     stock >= 0; every sale whole (lines = payments = total); units sold = stock moved;
  6. prints a Markdown table, writes the raw numbers as JSON and rewrites the section between
     <!-- sales:begin --> and <!-- sales:end --> of docs/BENCHMARKS.md.

The SQL is a copy of src/domain/sales.rs (record_sale) and src/db/tx.rs (RESOLVE_AND_SET);
`check_sql_copy` warns when those sources no longer contain it.
"""

import argparse
import concurrent.futures
import datetime
import hashlib
import html
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import search as sb  # noqa: E402  (shared helpers: Client, login, Psql, summary, machine_info, update_doc)

ROOT = sb.ROOT

# ----------------------------------------------------------------------------------------------
# the SQL of sales::record_sale (copied from the sources; see check_sql_copy)

RECORD_SALE = """\
with c as (
    select id, is_final_consumer from customers
     where active and id = coalesce($2::bigint, (select f.id from customers f where f.is_final_consumer))
), s as (
    insert into sales (idempotency_key, customer_id, user_id, total, tendered, change, quote_id)
    select $1::uuid, c.id, $3::bigint, $4::numeric, $5::numeric, $6::numeric, $7::bigint from c
     where not (c.is_final_consumer and 'account' = any($15::text[]))
    on conflict (idempotency_key) do nothing
    returning id
), l as (
    insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
    select s.id, x.position, x.product_id, x.description, x.quantity, x.unit_price, x.discount, x.total
      from s cross join unnest($8::int[], $9::bigint[], $10::text[], $11::numeric[], $12::numeric[],
                               $13::numeric[], $14::numeric[])
           as x(position, product_id, description, quantity, unit_price, discount, total)
     order by x.product_id, x.position
), p as (
    insert into sale_payments (sale_id, method, amount)
    select s.id, y.method, y.amount from s cross join unnest($15::text[], $16::numeric[]) as y(method, amount)
), d as (
    delete from sale_drafts where id = $17::bigint and exists (select from s) returning user_id
), n as (
    insert into sale_drafts (user_id) select user_id from d
)
select (select id from s), (select is_final_consumer from c)"""

CURRENT_CART = """\
select d.id, d.idempotency_key, d.customer_id, c.name,
       l.id, l.product_id, p.sku, p.name, u.code, u.divisible, l.quantity, l.unit_price, l.discount,
       p.stock, p.track_stock
  from sale_drafts d
  left join customers c on c.id = d.customer_id
  left join (sale_draft_lines l join products p on p.id = l.product_id join units u on u.id = p.unit_id)
    on l.draft_id = d.id
 where d.user_id = $1
 order by l.id"""

SQL_FRAGMENTS = {
    "src/domain/sales.rs": [RECORD_SALE, CURRENT_CART,
                            "select id, change from sales where idempotency_key = $1"],
    "src/db/tx.rs": ["from app_private.resolve_session($1) s"],
}


def check_sql_copy():
    problems = []
    for rel, fragments in SQL_FRAGMENTS.items():
        try:
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                text = re.sub(r"\s+", " ", f.read())
        except OSError as e:
            problems.append(f"{rel}: {e}")
            continue
        for frag in fragments:
            if re.sub(r"\s+", " ", frag) not in text:
                problems.append(f"{rel} no longer contains: {frag[:80]}")
    return problems


def pgbench_script(hot):
    """The SQL of one checkout of a five-line cash sale, in one read-write transaction, in the app's
    round trips (BEGIN pipelined with the session statement; the wait shows under neither): the session
    statement, the cart read, record_sale's one statement (which also empties the cart). Each pgbench client is
    a different staff person (session token 'bench-pg-<client id>'), so no two clients share a cart.
    The key is a fresh gen_random_uuid() per transaction. hot: the five BENCH-SALE products in every
    sale; otherwise five distinct catalog products at random (one from each fifth of the catalog)."""
    if hot:
        pick = [f"\\set p{i} :h{i}\n\\set c{i} :hc{i}" for i in range(1, 6)]
    else:
        pick = ["\\set f :cat_n / 5"]
        for i in range(1, 6):
            pick.append(f"\\set p{i} :cat_first + {i - 1} * :f + random(0, :f - 1)")
            pick.append(f"\\set c{i} 10000 + ((:p{i} - :cat_first + 1) % 97) * 1050")
    pick.append("\\set tot :c1 + :c2 + :c3 + :c4 + :c5")
    money = lambda v: f"{v}::numeric / 100"  # noqa: E731
    arr = lambda xs: "array[" + ", ".join(xs) + "]"  # noqa: E731
    record = _params(RECORD_SALE, [
        "gen_random_uuid()", "null", "app.current_user_id()", money(":tot"), money(":tot"), "0", "null",
        arr([str(i) for i in range(1, 6)]), arr([f":p{i}" for i in range(1, 6)]),
        arr(["'Artículo de catálogo'"] * 5), arr(["1"] * 5), arr([money(f":c{i}") for i in range(1, 6)]),
        arr(["0"] * 5), arr([money(f":c{i}") for i in range(1, 6)]), "array['cash']", arr([money(":tot")]),
        "(select id from sale_drafts where user_id = app.current_user_id())",
    ])
    body = pick + [
        # BEGIN goes out with the session statement, as the app sends them (src/db/tx.rs)
        "\\startpipeline",
        "begin;",
        sb.RESOLVE_AND_SET.replace("$1", "sha256(('bench-pg-' || :client_id)::bytea)").replace("\n", " ") + ";",
        "\\endpipeline",
        _params(CURRENT_CART, ["app.current_user_id()"]).replace("\n", " ") + ";",
        record.replace("\n", " ") + ";",
        "commit;",
    ]
    return "\n".join(body) + "\n"


def _params(sql, names):
    for i in range(len(names), 0, -1):  # $10 before $1
        sql = sql.replace(f"${i}", names[i - 1])
    return sql


STATEMENT_NAMES = ["begin", "session", "cart", "record_sale", "commit"]

# ----------------------------------------------------------------------------------------------
# HTTP

CSRF_RE = re.compile(rb'name="csrf" value="([^"]*)"')
KEY_RE = re.compile(rb'name="key" value="([^"]*)"')
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Cashier:
    """One logged-in staff person at the counter, over one keep-alive connection."""

    def __init__(self, host, port, email, password):
        self.c = sb.Client(host, port)
        self.c.cookies = sb.login(host, port, email, password)
        self.email = email
        status, _, body = self.c.request("GET", "/pos")
        if status != 200:
            raise RuntimeError(f"{email}: GET /pos answered {status}")
        m = CSRF_RE.search(body)
        if not m:
            raise RuntimeError(f"{email}: GET /pos has no csrf input")
        self.csrf = html.unescape(m.group(1).decode())

    def post(self, path, **fields):
        body = urllib.parse.urlencode(dict(csrf=self.csrf, **fields))
        return self.c.request("POST", path, body=body, headers=FORM)

    def clear(self):
        status, resp, _ = self.post("/pos/clear")
        if status != 303:
            raise RuntimeError(f"{self.email}: POST /pos/clear answered {status}")

    def key(self):
        status, _, body = self.c.request("GET", "/pos")
        m = KEY_RE.search(body)
        if status != 200 or not m:
            raise RuntimeError(f"{self.email}: GET /pos answered {status} without the cart's key")
        return html.unescape(m.group(1).decode()), body

    def build(self, codes):
        """The cart: one scan per code, then the page (to read the cart's key, as the browser does
        after the last scan). Returns (timings dict in ms, key, error or None)."""
        t = {}
        t0 = time.perf_counter_ns()
        scans = []
        for code in codes:
            s0 = time.perf_counter_ns()
            status, resp, _ = self.post("/pos/scan", code=code)
            scans.append((time.perf_counter_ns() - s0) / 1e6)
            if status != 303 or resp.getheader("Location") != "/pos":
                return None, None, f"scan {code}: {status} -> {resp.getheader('Location')}"
        t["scans"] = scans
        p0 = time.perf_counter_ns()
        key, _ = self.key()
        t1 = time.perf_counter_ns()
        t["page"] = (t1 - p0) / 1e6
        t["build"] = (t1 - t0) / 1e6
        return t, key, None

    def checkout(self, key):
        """POST /pos/checkout with no payment fields (the total in cash). Returns (ms, sale id or
        None, error or None)."""
        c0 = time.perf_counter_ns()
        status, resp, _ = self.post("/pos/checkout", key=key, cash="", card="", transfer="", account="")
        ms = (time.perf_counter_ns() - c0) / 1e6
        loc = resp.getheader("Location") or ""
        if status != 303 or not re.fullmatch(r"/sales/[0-9]+", loc):
            return ms, None, f"checkout: {status} -> {loc or '(no redirect: refused?)'}"
        return ms, int(loc.rsplit("/", 1)[1]), None

    def sale(self, codes):
        """5 scans, the page, checkout. Returns (timings dict in ms, error or None)."""
        t0 = time.perf_counter_ns()
        t, key, why = self.build(codes)
        if why:
            return None, why
        ms, sale_id, why = self.checkout(key)
        if why:
            return None, why
        t["checkout"] = ms
        t["sale"] = (time.perf_counter_ns() - t0) / 1e6
        t["sale_id"] = sale_id
        return t, None

    def close(self):
        self.c.close()


def run_level(cashiers, pick, seconds, warmup):
    """Every cashier sells in a loop until the deadline; pick(rng) gives the five codes of a sale.
    Returns (samples, failures, wall s)."""
    samples, failures = [], []
    lock = threading.Lock()
    start = threading.Barrier(len(cashiers), timeout=300)
    deadline = [0.0]

    def worker(cs):
        local, bad = [], []
        rng = random.Random(cs.email)
        for _ in range(warmup):
            _, why = cs.sale(pick(rng))
            if why:
                bad.append(why)
                cs.clear()
        start.wait()
        if deadline[0] == 0.0:
            with lock:
                if deadline[0] == 0.0:
                    deadline[0] = time.monotonic() + seconds
        t_begin = time.perf_counter()
        while time.monotonic() < deadline[0]:
            t, why = cs.sale(pick(rng))
            if why:
                bad.append(why)
                cs.clear()
                continue
            local.append(t)
        t_end = time.perf_counter()
        with lock:
            samples.extend(local)
            failures.extend(f"{cs.email}: {w}" for w in bad)
        return t_begin, t_end

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(cashiers)) as ex:
        spans = list(ex.map(worker, cashiers))
    wall = max(e for _, e in spans) - min(b for b, _ in spans)
    return samples, failures, wall


def run_burst(groups, pick, seconds):
    """Checkout alone: each round, every person of every group builds a five-line cart (phase 1,
    timed as cart building), then each group's client checks its persons' carts out one after the
    other, all groups at once (phase 2, timed as checkout). Rounds repeat until `seconds` of
    checkout time have passed. Returns a dict of rates and latencies."""
    builds, checkouts, failures = [], [], []
    build_s = checkout_s = 0.0
    sold = 0
    rngs = [random.Random(f"burst{i}") for i in range(len(groups))]

    def build(i):
        keys, bad = [], []
        for cs in groups[i]:
            t, key, why = cs.build(pick(rngs[i]))
            if why:
                bad.append(f"{cs.email}: {why}")
                cs.clear()
                continue
            builds.append(t["build"])
            keys.append((cs, key))
        return keys, bad

    def checkout(keys):
        done, bad = [], []
        for cs, key in keys:
            ms, sale_id, why = cs.checkout(key)
            if why:
                bad.append(f"{cs.email}: {why}")
                cs.clear()
                continue
            done.append(ms)
        return done, bad

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(groups)) as ex:
        while checkout_s < seconds:
            t0 = time.perf_counter()
            built = list(ex.map(build, range(len(groups))))
            t1 = time.perf_counter()
            out = list(ex.map(checkout, [k for k, _ in built]))
            t2 = time.perf_counter()
            build_s += t1 - t0
            checkout_s += t2 - t1
            for keys, bad in built:
                failures += bad
            for done, bad in out:
                checkouts.extend(done)
                sold += len(done)
                failures += bad
    return {"clients": len(groups), "persons": sum(len(g) for g in groups), "sales": sold,
            "carts_per_s": len(builds) / build_s if build_s else float("nan"),
            "checkouts_per_s": sold / checkout_s if checkout_s else float("nan"),
            "build": sb.summary(builds), "checkout": sb.summary(checkouts),
            "build_s": build_s, "checkout_s": checkout_s, "failures": failures}


def oversell_check(cashiers, admin, schema, code, attempts):
    """All cashiers race for the scarce product: one unit per sale, `attempts` sales each."""
    (stock_before,) = admin.rows(f"select stock from {schema}.products where barcode = :'v1'", code)[0]
    sold, refused, other = [0], [0], []
    lock = threading.Lock()
    barrier = threading.Barrier(len(cashiers), timeout=300)

    def worker(cs):
        cs.clear()
        barrier.wait()
        for _ in range(attempts):
            t, why = cs.sale([code])
            with lock:
                if t:
                    sold[0] += 1
                elif re.match(r"checkout: (200|409|422) ", why):
                    refused[0] += 1  # the counter page again, with the not-enough-stock message
                else:
                    other.append(f"{cs.email}: {why}")
            if why:
                cs.clear()
        cs.clear()

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(cashiers)) as ex:
        list(ex.map(worker, cashiers))
    (stock_after,) = admin.rows(f"select stock from {schema}.products where barcode = :'v1'", code)[0]
    ok = (sold[0] == int(Decimal(stock_before)) and Decimal(stock_after) == 0 and not other
          and sold[0] + refused[0] == attempts * len(cashiers))
    return {"stock_before": stock_before, "stock_after": stock_after, "attempts": attempts * len(cashiers),
            "sold": sold[0], "refused": refused[0], "errors": other, "ok": ok}


# ----------------------------------------------------------------------------------------------
# pgbench


def run_pgbench(app_url, script_text, defines, clients, seconds, workdir):
    script = os.path.join(workdir, "sale.sql")
    with open(script, "w", encoding="utf-8") as f:
        f.write(script_text)
    for old in os.listdir(workdir):
        if old.startswith("pgb."):
            os.remove(os.path.join(workdir, old))
    # -M prepared: the app sends every statement of the checkout as a named prepared statement
    # (prepare_cached), so the database-only ceiling plans them once too
    cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients), "-T", str(seconds), "-r",
           "-f", script, "-l", "--log-prefix", os.path.join(workdir, "pgb")]
    for k, v in defines.items():
        cmd += ["-D", f"{k}={v}"]
    cmd.append(app_url)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, cwd=workdir)
    if r.returncode != 0:
        raise RuntimeError(f"pgbench failed ({clients} clients):\n{r.stderr[-3000:]}\n{r.stdout[-3000:]}")
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", r.stdout)
    tps = float(m.group(1)) if m else float("nan")
    m = re.search(r"number of transactions actually processed: ([0-9]+)", r.stdout)
    n = int(m.group(1)) if m else 0
    m = re.search(r"number of failed transactions: ([0-9]+)", r.stdout)
    failed = int(m.group(1)) if m else 0
    lat = []
    for name in os.listdir(workdir):
        if name.startswith("pgb."):
            with open(os.path.join(workdir, name)) as f:
                lat += [int(parts[2]) / 1000.0 for parts in (line.split() for line in f) if len(parts) >= 3]
    stmts = r.stdout.split("statement latencies in milliseconds", 1)[-1].splitlines()[1:]
    found = [float(m.group(1)) for m in (re.match(r"\s+([0-9.]+)\s+[0-9]+\s+(\S)", line) for line in stmts)
             if m and m.group(2) != "\\"]
    return {"clients": clients, "tps": tps, "n": n, "failed": failed, "latency": sb.summary(lat),
            "statements": dict(zip(STATEMENT_NAMES, found))}


# ----------------------------------------------------------------------------------------------
# ledger check


def vacuum(admin, schema):
    """Removes the dead rows the previous row left (cart lines deleted at every checkout, every
    stock update a new product row version): autovacuum does this on a normal server, but the
    cluster under test may run with it off, and then each row would be slowed by the ones
    before it."""
    admin.rows(f"vacuum {schema}.products, {schema}.sale_drafts, {schema}.sale_draft_lines")


def ledger_check(admin, schema):
    (products, mismatched, negative) = admin.rows(f"""
        select count(*), count(*) filter (where p.stock <> coalesce(m.moved, 0)), count(*) filter (where p.stock < 0)
          from {schema}.products p
          left join (select product_id, sum(quantity) moved from {schema}.stock_movements group by product_id) m
            on m.product_id = p.id""")[0]
    (sales, not_whole, lines) = admin.rows(f"""
        select count(*),
               count(*) filter (where s.total <> coalesce(l.t, 0) or s.total <> coalesce(pay.a, 0)),
               coalesce(sum(l.n), 0)
          from {schema}.sales s
          left join (select sale_id, sum(total) t, count(*) n from {schema}.sale_lines group by sale_id) l
            on l.sale_id = s.id
          left join (select sale_id, sum(amount) a from {schema}.sale_payments group by sale_id) pay
            on pay.sale_id = s.id""")[0]
    # every bench product: units sold = units moved out by sales, stock = opening - sold
    (bench, bench_bad) = admin.rows(f"""
        select count(*), count(*) filter (where sold <> moved or stock <> opening - sold)
          from (select p.stock,
                       coalesce((select sum(quantity) from {schema}.sale_lines l where l.product_id = p.id), 0) sold,
                       coalesce((select -sum(quantity) from {schema}.stock_movements m
                                  where m.product_id = p.id and m.kind = 'sale'), 0) moved,
                       coalesce((select sum(quantity) from {schema}.stock_movements m
                                  where m.product_id = p.id and m.kind = 'opening'), 0) opening
                  from {schema}.products p where p.sku like 'BENCH-%') x""")[0]
    (money_bad,) = admin.rows(f"""
        select count(*) from {schema}.sales s
         where coalesce((select sum(amount) from {schema}.sale_payments p
                          where p.sale_id = s.id and p.method <> 'account'), 0)
            <> coalesce((select sum(amount) from {schema}.money_ledger m
                          where m.sale_id = s.id and m.kind = 'sale'), 0)""")[0]
    ok = int(mismatched) == 0 and int(negative) == 0 and int(not_whole) == 0 and int(bench_bad) == 0 \
        and int(money_bad) == 0
    return {"products": int(products), "stock_mismatched": int(mismatched), "stock_negative": int(negative),
            "sales": int(sales), "sales_not_whole": int(not_whole), "sale_lines": int(lines),
            "bench_products": int(bench), "bench_products_wrong": int(bench_bad), "money_not_booked": int(money_bad),
            "ok": ok}


# ----------------------------------------------------------------------------------------------
# report


def f1(x):
    return sb.f1(x)


def render(r):
    m = r["machine"]
    L = []
    L.append(f"Run of {r['date']} (commit {m['commit']}; {m.get('build', '?')}): {m['nproc']} CPUs ({m['cpu']}), "
             f"{m['memory']} RAM, {m['postgres']} (shared_buffers {m['pg_settings'].get('shared_buffers', '?')}, "
             f"fsync {m['pg_settings'].get('fsync', '?')}, synchronous_commit on, autovacuum {m.get('autovacuum', '?')}; "
             "the sale tables are vacuumed before every row); load average "
             f"{m['loadavg'][0]:.2f} before the run, {r['loadavg_end'][0]:.2f} after"
             + (" (**compare ratios of this run, not absolute figures**: the load average includes the bench's "
                "own processes, and this VM's speed drifts)." if max(m['loadavg'][0], r['loadavg_end'][0]) > 0.5 * (m['nproc'] or 1) else "."))
    L.append("")
    st = r["settings"]
    L.append(f"A sale = 5 lines, one unit each of 5 distinct products, paid in cash. **Catalog**: 5 distinct products "
             f"drawn at random from {r['catalog']:,} for every sale; **hot**: the same 5 products in every sale (all "
             f"sales queue on the same 5 row locks). Each HTTP client is a different staff person. HTTP "
             f"{st['seconds']:g} s per row, pgbench {st['pg_seconds']:g} s. Latencies in milliseconds.")
    L.append("")
    L.append("**Recording a sale = the checkout request** (`POST /pos/checkout` of a five-line cart). Cart "
             "building (5 × `POST /pos/scan` + `GET /pos`) is measured apart:")
    L.append("")
    L.append("| clients | staff persons | sales | **checkouts/s** | checkout p50 | checkout p95 | carts built/s | "
             "build p50 | pgbench checkouts/s (same SQL) | pgbench p50 | HTTP/pgbench |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lv in r["levels"]:
        b, pg = lv.get("burst"), lv.get("pgbench_catalog") or {}
        if not b:
            continue
        tps = pg.get("tps", float("nan"))
        L.append(f"| {lv['clients']} | {b['persons']} | {b['sales']} | **{b['checkouts_per_s']:.0f}** | "
                 f"{f1(b['checkout']['p50'])} | {f1(b['checkout']['p95'])} | {b['carts_per_s']:.0f} | "
                 f"{f1(b['build']['p50'])} | {tps:.0f} | {f1(pg.get('latency', {}).get('p50', float('nan')))} | "
                 f"{b['checkouts_per_s'] / tps if tps == tps and tps else float('nan'):.2f} |")
    L.append("")
    L.append("The whole sale at the counter, one client per staff person selling in a loop (5 scans, the page, "
             "checkout: 7 requests):")
    L.append("")
    L.append("| products | clients | HTTP sales | complete sales/s | sale p50 | sale p95 | scan p50 | page p50 | "
             "checkout p50 | checkout p95 | pgbench checkouts/s | pgbench p50 | pgbench p95 |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind in ("catalog", "hot"):
        for lv in r["levels"]:
            h, pg = lv.get(f"http_{kind}"), lv.get(f"pgbench_{kind}") or {}
            if not h:
                continue
            pl = pg.get("latency", {})
            L.append(f"| {kind} | {lv['clients']} | {h['n']} | **{h['sales_per_s']:.1f}** | {f1(h['sale']['p50'])} | "
                     f"{f1(h['sale']['p95'])} | {f1(h['scan']['p50'])} | {f1(h['page']['p50'])} | "
                     f"{f1(h['checkout']['p50'])} | {f1(h['checkout']['p95'])} | "
                     f"**{pg.get('tps', float('nan')):.0f}** | {f1(pl.get('p50', float('nan')))} | "
                     f"{f1(pl.get('p95', float('nan')))} |")
    best_b = max((lv["burst"]["checkouts_per_s"] for lv in r["levels"] if lv.get("burst")), default=float("nan"))
    best_pg = max((lv["pgbench_catalog"]["tps"] for lv in r["levels"] if lv.get("pgbench_catalog")),
                  default=float("nan"))
    L.append("")
    L.append(f"Against the target of {r['target']:,} five-line sales per second: checkout over HTTP reaches "
             f"{best_b:.0f}/s ({best_b / r['target']:.1%}); the same SQL through pgbench {best_pg:.0f}/s "
             f"({best_pg / r['target']:.1%}).")
    for kind in ("catalog", "hot"):
        for lv in r["levels"]:
            stt = (lv.get(f"pgbench_{kind}") or {}).get("statements")
            if stt:
                L.append("")
                L.append(f"pgbench per-statement mean ({kind}, {lv['clients']} client"
                         f"{'' if lv['clients'] == 1 else 's'}, ms): "
                         + ", ".join(f"{k} {v:.2f}" for k, v in stt.items()) + ".")
    lc, ov = r["ledger"], r.get("oversell")
    L.append("")
    L.append(f"After the run ({lc['sales']:,} sales, {lc['sale_lines']:,} lines): stock = sum of movements for "
             f"{lc['products'] - lc['stock_mismatched']:,} of {lc['products']:,} products, "
             f"{lc['stock_negative']} with negative stock, {lc['sales_not_whole']} sales not whole "
             f"(lines = payments = total), {lc['money_not_booked']} sales whose cash, card and transfer payments differ from the money ledger; "
             f"for {lc['bench_products']:,} bench products units sold = units moved out and stock = opening − sold "
             f"({lc['bench_products_wrong']} wrong): "
             f"**{'no stock oversold, ledger consistent' if lc['ok'] else 'LEDGER CHECK FAILED'}**.")
    if ov:
        L.append(f"Oversell race: {ov['clients']} clients tried {ov['attempts']} one-unit sales of a "
                 f"product with stock {ov['stock_before']}: {ov['sold']} sold, {ov['refused']} refused for stock, "
                 f"stock after {ov['stock_after']} ({'as it must' if ov['ok'] else '**WRONG**'}).")
    if r["failures"]:
        L.append("")
        L.append(f"**{len(r['failures'])} sales failed** (see the JSON): the numbers above do not count.")
    return "\n".join(L)


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--admin-url", required=True)
    ap.add_argument("--app-url", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--password", default=os.environ.get("STOCK_DEMO_PASSWORD", "demo-password"))
    ap.add_argument("--emails", required=True, help="comma-separated staff logins (clients x persons per client)")
    ap.add_argument("--levels", default="1,4,8", help="HTTP and pgbench client counts")
    ap.add_argument("--persons-per-client", type=int, default=4, help="carts each client checks out per round")
    ap.add_argument("--seconds", type=float, default=20.0, help="HTTP seconds per row")
    ap.add_argument("--pg-seconds", type=int, default=15, help="pgbench seconds per row")
    ap.add_argument("--warmup", type=int, default=3, help="unmeasured sales per client first")
    ap.add_argument("--oversell-attempts", type=int, default=5, help="per client (0: skip the race)")
    ap.add_argument("--target", type=int, default=1000, help="sales per second aimed at (issue 8)")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "target", "bench"))
    ap.add_argument("--doc", default=os.path.join(ROOT, "docs", "BENCHMARKS.md"), help="'' to leave it")
    ap.add_argument("--build", default="release build of the work tree")
    args = ap.parse_args()

    started = time.monotonic()
    os.makedirs(args.out_dir, exist_ok=True)
    u = urllib.parse.urlparse(args.base_url)
    host, port = u.hostname, u.port or 80
    admin = sb.Psql(args.admin_url)
    emails = [e for e in args.emails.split(",") if e]
    levels = [int(x) for x in args.levels.split(",") if x]
    ppc = args.persons_per_client
    if max(levels) * ppc > len(emails):
        sys.exit(f"error: {max(levels)} clients x {ppc} persons need as many staff logins (got {len(emails)})")

    for p in check_sql_copy():
        print(f"warning: {p}\n  -> the pgbench figures may no longer be the checkout's SQL; update "
              "scripts/bench/sales.py", file=sys.stderr)
    machine = sb.machine_info(admin)
    machine["build"] = args.build
    (autovacuum,) = admin.rows("show autovacuum")[0]
    machine["autovacuum"] = autovacuum
    if machine["loadavg"][0] > 0.5 * (machine["nproc"] or 1):
        print(f"warning: load average {machine['loadavg'][0]:.2f} on {machine['nproc']} CPUs: the numbers will be "
              "noisy", file=sys.stderr)

    hot = admin.rows(f"select id, barcode, price from {args.schema}.products where sku like 'BENCH-SALE-%' order by id")
    if len(hot) != 5:
        sys.exit(f"error: expected the 5 BENCH-SALE-* products of seed_sales.sql, found {len(hot)}")
    catalog = admin.rows(f"select id, barcode from {args.schema}.products where sku like 'BENCH-CAT-%' order by id")
    if len(catalog) < 50:
        sys.exit("error: the BENCH-CAT-* catalog of seed_sales.sql is missing")
    cat_first, cat_n = int(catalog[0][0]), len(catalog)
    if int(catalog[-1][0]) != cat_first + cat_n - 1:
        sys.exit("error: the catalog's ids are not contiguous (seed into a fresh shop)")
    scarce = admin.rows(f"select barcode from {args.schema}.products where sku = 'BENCH-SCARCE'")
    hot_codes = [b for _, b, _ in hot]
    cat_codes = [b for _, b in catalog]
    picks = {"catalog": lambda rng: rng.sample(cat_codes, 5), "hot": lambda rng: list(hot_codes)}

    cashiers = [Cashier(host, port, e, args.password) for e in emails]
    for cs in cashiers:
        cs.clear()
    # one session per pgbench client, each a different staff person ('bench-pg-<client id>')
    for i, e in enumerate(emails[:max(levels)]):
        admin.rows("insert into app.sessions (token_hash, user_id, tenant_id, expires_at) "
                   "select sha256(convert_to('bench-pg-' || :'v1', 'UTF8')), u.id, t.id, now() + interval '1 day' "
                   "from app.users u, app.tenants t where u.email = :'v2' and t.schema_name = :'v3' "
                   "on conflict (token_hash) do nothing returning 1", str(i), e, args.schema)

    levels_out, failures = [], []
    for n in levels:
        lv = {"clients": n}
        for kind in ("catalog", "hot"):
            vacuum(admin, args.schema)
            print(f"    HTTP, {n} client(s), {kind} products: whole sales in a loop for {args.seconds:g} s")
            samples, fails, wall = run_level(cashiers[:n], picks[kind], args.seconds, args.warmup)
            failures += fails
            http = {
                "n": len(samples), "wall_s": wall, "sales_per_s": len(samples) / wall if wall else float("nan"),
                "sale": sb.summary([t["sale"] for t in samples]),
                "scan": sb.summary([x for t in samples for x in t["scans"]]),
                "page": sb.summary([t["page"] for t in samples]),
                "checkout": sb.summary([t["checkout"] for t in samples]),
            }
            print(f"      {http['n']} sales = {http['sales_per_s']:.1f}/s; sale p50 {f1(http['sale']['p50'])}; "
                  f"scan p50 {f1(http['scan']['p50'])}; checkout p50 {f1(http['checkout']['p50'])} p95 "
                  f"{f1(http['checkout']['p95'])} ms" + (f"; {len(fails)} FAILED" if fails else ""))
            lv[f"http_{kind}"] = http
        groups = [cashiers[i * ppc:(i + 1) * ppc] for i in range(n)]
        print(f"    HTTP, {n} client(s) x {ppc} persons: carts built, then checkout alone, for {args.seconds:g} s "
              "of checkout")
        vacuum(admin, args.schema)
        b = run_burst(groups, picks["catalog"], args.seconds)
        failures += b.pop("failures")
        print(f"      {b['sales']} checkouts = {b['checkouts_per_s']:.0f}/s (p50 {f1(b['checkout']['p50'])} ms); "
              f"carts built {b['carts_per_s']:.0f}/s")
        lv["burst"] = b
        levels_out.append(lv)

    defines = {"cat_first": cat_first, "cat_n": cat_n}
    for i, (pid, _, price) in enumerate(hot, 1):
        defines.update({f"h{i}": pid, f"hc{i}": int(Decimal(price) * 100)})
    with tempfile.TemporaryDirectory(prefix="stock-bench-") as wd:
        for lv in levels_out:
            n = lv["clients"]
            for kind in ("catalog", "hot"):
                print(f"    SQL only (pgbench as the app role, {n} staff session(s), {kind}): {args.pg_seconds} s")
                vacuum(admin, args.schema)
                pg = run_pgbench(args.app_url, pgbench_script(kind == "hot"), defines, n, args.pg_seconds, wd)
                lv[f"pgbench_{kind}"] = pg
                print(f"      {pg['n']} sales, {pg['tps']:.0f}/s; p50 {f1(pg['latency']['p50'])} "
                      f"p95 {f1(pg['latency']['p95'])} ms" + (f"; {pg['failed']} failed" if pg["failed"] else ""))

    oversell = None
    racers = cashiers[:max(levels)]
    if args.oversell_attempts > 0 and scarce:
        print(f"    oversell race: {len(racers)} clients x {args.oversell_attempts} one-unit sales of BENCH-SCARCE")
        oversell = oversell_check(racers, admin, args.schema, scarce[0][0], args.oversell_attempts)
        oversell["clients"] = len(racers)
        print(f"      stock {oversell['stock_before']} -> {oversell['stock_after']}: {oversell['sold']} sold, "
              f"{oversell['refused']} refused, {len(oversell['errors'])} errors: {'ok' if oversell['ok'] else 'WRONG'}")
    for cs in cashiers:
        cs.close()

    ledger = ledger_check(admin, args.schema)
    print(f"    ledger: {ledger['sales']} sales, stock mismatched {ledger['stock_mismatched']}, negative "
          f"{ledger['stock_negative']}, not whole {ledger['sales_not_whole']}, bench products wrong "
          f"{ledger['bench_products_wrong']}, money not booked {ledger['money_not_booked']}: "
          f"{'ok' if ledger['ok'] else 'FAILED'}")

    report = {
        "scenario": "sales",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "catalog": cat_n,
        "hot_products": [{"id": p[0], "barcode": p[1], "price": p[2]} for p in hot],
        "target": args.target,
        "levels": levels_out,
        "oversell": oversell,
        "ledger": ledger,
        "failures": failures,
        "loadavg_end": os.getloadavg(),
        "pgbench_script_catalog": pgbench_script(False),
        "pgbench_script_hot": pgbench_script(True),
        "settings": {"seconds": args.seconds, "pg_seconds": args.pg_seconds, "warmup": args.warmup,
                     "levels": levels, "persons_per_client": ppc, "emails": emails},
    }
    table = render(report)
    with open(os.path.join(args.out_dir, "sales.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1, ensure_ascii=False)
    with open(os.path.join(args.out_dir, "sales.md"), "w", encoding="utf-8") as f:
        f.write(table + "\n")
    print()
    print(table)
    if args.doc:
        sb.update_doc(args.doc, table, name="sales")
        print(f"\n    wrote the sales section of {os.path.relpath(args.doc, ROOT)}")
    print(f"    raw numbers: {os.path.relpath(os.path.join(args.out_dir, 'sales.json'), ROOT)} "
          f"({time.monotonic() - started:.0f} s)")
    bad = []
    if failures:
        for f in failures[:20]:
            print(f"    failed sale: {f}", file=sys.stderr)
        bad.append(f"{len(failures)} failed sales")
    if not ledger["ok"]:
        bad.append("the ledger check failed")
    if oversell and not oversell["ok"]:
        bad.append("the oversell race went wrong: " + "; ".join(oversell["errors"][:5]))
    if bad:
        sys.exit("error: " + ", ".join(bad))


if __name__ == "__main__":
    main()
