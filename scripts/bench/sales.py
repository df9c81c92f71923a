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

FINAL_CONSUMER = "select id from customers where is_final_consumer"
CUSTOMER_ACTIVE = "select is_final_consumer from customers where id = $1 and active"
INSERT_SALE = ("insert into sales (idempotency_key, customer_id, user_id, total, tendered, change, quote_id) "
               "values ($1, $2, $3, $4, $5, $6, $7) on conflict (idempotency_key) do nothing returning id")
INSERT_LINE = ("insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total) "
               "values ($1, $2, $3, $4, $5, $6, $7, $8)")
INSERT_PAYMENT = "insert into sale_payments (sale_id, method, amount) values ($1, $2, $3)"

SQL_FRAGMENTS = {
    "src/domain/sales.rs": [
        "select id, change from sales where idempotency_key = $1",
        "select id from customers where is_final_consumer",
        "select is_final_consumer from customers where id = $1 and active",
        "insert into sales (idempotency_key, customer_id, user_id, total, tendered, change, quote_id)",
        "values ($1, $2, $3, $4, $5, $6, $7) on conflict (idempotency_key) do nothing returning id",
        "insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)",
        "order.sort_by_key(|(_, l)| l.product_id);",
        "insert into sale_payments (sale_id, method, amount) values ($1, $2, $3)",
    ],
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
                problems.append(f"{rel} no longer contains: {frag}")
    return problems


def pgbench_script(n_lines):
    """One five-line cash sale as record_sale runs it, in one read-write transaction. The key is a
    fresh gen_random_uuid() per transaction; the sale id comes back through \\gset."""
    p = lambda sql, *names: _params(sql, names)  # noqa: E731
    body = [
        "begin;",
        sb.RESOLVE_AND_SET.replace("$1", ":th").replace("\n", " ") + ";",
        "select id as customer_id from customers where is_final_consumer \\gset",
        p(CUSTOMER_ACTIVE, ":customer_id") + ";",
        "select id, change from sales where idempotency_key = :key;",
        p(INSERT_SALE, "gen_random_uuid()", ":customer_id", ":user_id", ":total", ":total", "0", "null")
        + " as sale_id \\gset",
    ]
    # the key of the pre-check above is a constant that never exists: the lookup's cost, not its hit
    for i in range(1, n_lines + 1):
        body.append(p(INSERT_LINE, ":sale_id", str(i), f":p{i}", f":d{i}", "1", f":u{i}", "0", f":u{i}") + ";")
    body.append(p(INSERT_PAYMENT, ":sale_id", "'cash'", ":total") + ";")
    body.append("commit;")
    return "\n".join(body) + "\n"


def _params(sql, names):
    for i in range(len(names), 0, -1):  # $10 before $1
        sql = sql.replace(f"${i}", names[i - 1])
    return sql


STATEMENT_NAMES = ["begin", "session", "final consumer", "customer active", "key lookup", "insert sale",
                   "line 1", "line 2", "line 3", "line 4", "line 5", "payment", "commit"]

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

    def sale(self, codes):
        """5 scans, the page, checkout. Returns (timings dict in ms, error or None)."""
        t = {}
        t0 = time.perf_counter_ns()
        scans = []
        for code in codes:
            s0 = time.perf_counter_ns()
            status, resp, _ = self.post("/pos/scan", code=code)
            scans.append((time.perf_counter_ns() - s0) / 1e6)
            if status != 303 or resp.getheader("Location") != "/pos":
                return None, f"scan {code}: {status} -> {resp.getheader('Location')}"
        t["scans"] = scans
        p0 = time.perf_counter_ns()
        key, _ = self.key()
        t["page"] = (time.perf_counter_ns() - p0) / 1e6
        c0 = time.perf_counter_ns()
        status, resp, body = self.post("/pos/checkout", key=key, cash="", card="", transfer="", account="")
        t1 = time.perf_counter_ns()
        t["checkout"] = (t1 - c0) / 1e6
        t["sale"] = (t1 - t0) / 1e6
        loc = resp.getheader("Location") or ""
        if status != 303 or not re.fullmatch(r"/sales/[0-9]+", loc):
            return None, f"checkout: {status} -> {loc or '(no redirect: refused?)'}"
        t["sale_id"] = int(loc.rsplit("/", 1)[1])
        return t, None

    def close(self):
        self.c.close()


def run_level(cashiers, codes, seconds, warmup):
    """Every cashier sells in a loop until the deadline. Returns (samples, failures, wall s)."""
    samples, failures = [], []
    lock = threading.Lock()
    start = threading.Barrier(len(cashiers), timeout=300)
    deadline = [0.0]

    def worker(cs):
        local, bad = [], []
        for _ in range(warmup):
            _, why = cs.sale(codes)
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
            t, why = cs.sale(codes)
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
    cmd = ["pgbench", "-n", "-M", "extended", "-c", str(clients), "-j", str(clients), "-T", str(seconds), "-r",
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
    found = [float(m.group(1)) for m in (re.match(r"\s+([0-9.]+)\s", line) for line in stmts) if m]
    return {"clients": clients, "tps": tps, "n": n, "failed": failed, "latency": sb.summary(lat),
            "statements": dict(zip(STATEMENT_NAMES, found))}


# ----------------------------------------------------------------------------------------------
# ledger check


def ledger_check(admin, schema, product_ids, opening):
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
    ids = ",".join(str(int(i)) for i in product_ids)
    per_product = admin.rows(f"""
        select p.id, p.sku, p.stock,
               coalesce((select sum(quantity) from {schema}.sale_lines l where l.product_id = p.id), 0),
               coalesce((select -sum(quantity) from {schema}.stock_movements m
                          where m.product_id = p.id and m.kind = 'sale'), 0)
          from {schema}.products p where p.id in ({ids}) order by p.id""")
    bench = []
    for pid, sku, stock, sold, moved in per_product:
        bench.append({"id": int(pid), "sku": sku, "stock": stock, "sold": sold, "moved": moved,
                      "ok": Decimal(sold) == Decimal(moved) and Decimal(stock) == Decimal(opening) - Decimal(sold)})
    ok = int(mismatched) == 0 and int(negative) == 0 and int(not_whole) == 0 and all(b["ok"] for b in bench)
    return {"products": int(products), "stock_mismatched": int(mismatched), "stock_negative": int(negative),
            "sales": int(sales), "sales_not_whole": int(not_whole), "sale_lines": int(lines),
            "bench_products": bench, "ok": ok}


# ----------------------------------------------------------------------------------------------
# report


def f1(x):
    return sb.f1(x)


def render(r):
    m = r["machine"]
    L = []
    L.append(f"Run of {r['date']} (commit {m['commit']}; {m.get('build', '?')}): {m['nproc']} CPUs ({m['cpu']}), "
             f"{m['memory']} RAM, {m['postgres']} (shared_buffers {m['pg_settings'].get('shared_buffers', '?')}, "
             f"fsync {m['pg_settings'].get('fsync', '?')}); load average {m['loadavg'][0]:.2f} before the run, "
             f"{r['loadavg_end'][0]:.2f} after.")
    L.append("")
    L.append(f"A sale = 5 lines (one unit each of 5 products, total {r['sale_total']} in cash). HTTP: "
             f"{r['settings']['seconds']:g} s per level, each client a different staff person; SQL: the statements of "
             f"`record_sale` through pgbench as the app's login role, {r['settings']['pg_seconds']:g} s per level. "
             "Latencies in milliseconds.")
    L.append("")
    L.append("| clients | HTTP sales | HTTP sales/s | sale p50 | sale p95 | scan p50 | page p50 | checkout p50 | "
             "checkout p95 | checkout p99 | pgbench sales/s | pgbench p50 | pgbench p95 | HTTP/pgbench sales/s |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lv in r["levels"]:
        h, pg = lv["http"], lv.get("pgbench") or {}
        tps = pg.get("tps", float("nan"))
        pl = pg.get("latency", {})
        ratio = h["sales_per_s"] / tps if tps == tps and tps else float("nan")
        L.append(f"| {lv['clients']} | {h['n']} | **{h['sales_per_s']:.1f}** | {f1(h['sale']['p50'])} | "
                 f"{f1(h['sale']['p95'])} | {f1(h['scan']['p50'])} | {f1(h['page']['p50'])} | "
                 f"{f1(h['checkout']['p50'])} | {f1(h['checkout']['p95'])} | {f1(h['checkout']['p99'])} | "
                 f"**{tps:.0f}** | {f1(pl.get('p50', float('nan')))} | {f1(pl.get('p95', float('nan')))} | "
                 f"{ratio:.3f} |")
    L.append("")
    best = max(r["levels"], key=lambda lv: lv["http"]["sales_per_s"])
    best_pg = max((lv["pgbench"]["tps"] for lv in r["levels"] if lv.get("pgbench")), default=float("nan"))
    L.append(f"Against the later target of {r['target']:,} five-line sales per second: HTTP reaches "
             f"{best['http']['sales_per_s']:.0f}/s ({best['http']['sales_per_s'] / r['target']:.1%} of it, "
             f"{best['clients']} clients); the SQL alone reaches {best_pg:.0f}/s ({best_pg / r['target']:.1%}).")
    for lv in r["levels"]:
        st = (lv.get("pgbench") or {}).get("statements")
        if st:
            L.append("")
            L.append(f"Where the SQL time goes (pgbench per-statement mean, {lv['clients']} client"
                     f"{'' if lv['clients'] == 1 else 's'}, ms): " + ", ".join(f"{k} {v:.2f}" for k, v in st.items()) + ".")
    lc, ov = r["ledger"], r.get("oversell")
    L.append("")
    L.append(f"After the run ({lc['sales']:,} sales, {lc['sale_lines']:,} lines): stock = sum of movements for "
             f"{lc['products'] - lc['stock_mismatched']:,} of {lc['products']:,} products, "
             f"{lc['stock_negative']} with negative stock, {lc['sales_not_whole']} sales not whole "
             f"(lines = payments = total); units sold = units moved out for each of the five products: "
             f"**{'no stock oversold, ledger consistent' if lc['ok'] else 'LEDGER CHECK FAILED'}**.")
    if ov:
        L.append(f"Oversell race: {len(r['settings']['emails'])} clients tried {ov['attempts']} one-unit sales of a "
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
    ap.add_argument("--emails", required=True, help="comma-separated staff logins, one per client")
    ap.add_argument("--levels", default="1,4", help="HTTP and pgbench client counts")
    ap.add_argument("--seconds", type=float, default=30.0, help="HTTP seconds per level")
    ap.add_argument("--pg-seconds", type=int, default=20, help="pgbench seconds per level")
    ap.add_argument("--warmup", type=int, default=3, help="unmeasured sales per client first")
    ap.add_argument("--opening", default="1000000", help="opening stock of the five products")
    ap.add_argument("--oversell-attempts", type=int, default=5, help="per client (0: skip the race)")
    ap.add_argument("--target", type=int, default=1000, help="sales per second aimed at later")
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
    if max(levels) > len(emails):
        sys.exit(f"error: {max(levels)} clients need as many staff logins (got {len(emails)})")

    for p in check_sql_copy():
        print(f"warning: {p}\n  -> the pgbench figures may no longer be record_sale's SQL; update "
              "scripts/bench/sales.py", file=sys.stderr)
    machine = sb.machine_info(admin)
    machine["build"] = args.build
    if machine["loadavg"][0] > 0.5 * (machine["nproc"] or 1):
        print(f"warning: load average {machine['loadavg'][0]:.2f} on {machine['nproc']} CPUs: the numbers will be "
              "noisy", file=sys.stderr)

    prods = admin.rows(f"select id, barcode, name, price from {args.schema}.products "
                       "where sku like 'BENCH-SALE-%' order by id")
    if len(prods) != 5:
        sys.exit(f"error: expected the 5 BENCH-SALE-* products of seed_sales.sql, found {len(prods)}")
    scarce = admin.rows(f"select barcode from {args.schema}.products where sku = 'BENCH-SCARCE'")
    codes = [b for _, b, _, _ in prods]  # scanned in ascending id order (record_sale sorts by id anyway)
    total = sum(Decimal(p) for *_, p in prods)

    cashiers = [Cashier(host, port, e, args.password) for e in emails]
    for cs in cashiers:
        cs.clear()
    token = cashiers[0].c.cookies["stock_session"]
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    (user_id,) = admin.rows("select user_id from app.sessions where token_hash = decode(:'v1', 'hex')", token_hash)[0]

    levels_out, failures = [], []
    for n in levels:
        print(f"    HTTP, {n} client(s): five-line sales for {args.seconds:g} s")
        samples, fails, wall = run_level(cashiers[:n], codes, args.seconds, args.warmup)
        failures += fails
        http = {
            "n": len(samples), "wall_s": wall, "sales_per_s": len(samples) / wall if wall else float("nan"),
            "sale": sb.summary([t["sale"] for t in samples]),
            "scan": sb.summary([x for t in samples for x in t["scans"]]),
            "page": sb.summary([t["page"] for t in samples]),
            "checkout": sb.summary([t["checkout"] for t in samples]),
        }
        http["requests_per_s"] = http["n"] * 7 / wall if wall else float("nan")
        print(f"      {http['n']} sales in {wall:.1f} s = {http['sales_per_s']:.1f}/s; sale p50 {f1(http['sale']['p50'])} "
              f"p95 {f1(http['sale']['p95'])}; scan p50 {f1(http['scan']['p50'])}; page p50 {f1(http['page']['p50'])}; "
              f"checkout p50 {f1(http['checkout']['p50'])} p95 {f1(http['checkout']['p95'])} ms"
              + (f"; {len(fails)} FAILED" if fails else ""))
        levels_out.append({"clients": n, "http": http})

    defines = {"th": f"\\x{token_hash}", "user_id": user_id, "total": str(total),
               "key": "00000000-0000-0000-0000-000000000000"}
    for i, (pid, _, name, price) in enumerate(prods, 1):
        defines.update({f"p{i}": pid, f"d{i}": name, f"u{i}": price})
    with tempfile.TemporaryDirectory(prefix="stock-bench-") as wd:
        for lv in levels_out:
            n = lv["clients"]
            print(f"    SQL only (pgbench as the app role, staff session): {n} client(s) for {args.pg_seconds} s")
            pg = run_pgbench(args.app_url, pgbench_script(5), defines, n, args.pg_seconds, wd)
            lv["pgbench"] = pg
            print(f"      {pg['n']} sales, {pg['tps']:.0f}/s; p50 {f1(pg['latency']['p50'])} "
                  f"p95 {f1(pg['latency']['p95'])} ms" + (f"; {pg['failed']} failed" if pg["failed"] else ""))

    oversell = None
    if args.oversell_attempts > 0 and scarce:
        print(f"    oversell race: {len(cashiers)} clients x {args.oversell_attempts} one-unit sales of BENCH-SCARCE")
        oversell = oversell_check(cashiers, admin, args.schema, scarce[0][0], args.oversell_attempts)
        print(f"      stock {oversell['stock_before']} -> {oversell['stock_after']}: {oversell['sold']} sold, "
              f"{oversell['refused']} refused, {len(oversell['errors'])} errors: {'ok' if oversell['ok'] else 'WRONG'}")
    for cs in cashiers:
        cs.close()

    ledger = ledger_check(admin, args.schema, [p[0] for p in prods], args.opening)
    print(f"    ledger: {ledger['sales']} sales, stock mismatched {ledger['stock_mismatched']}, negative "
          f"{ledger['stock_negative']}, not whole {ledger['sales_not_whole']}: {'ok' if ledger['ok'] else 'FAILED'}")

    report = {
        "scenario": "sales",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "sale_total": str(total),
        "products": [{"id": p[0], "barcode": p[1], "name": p[2], "price": p[3]} for p in prods],
        "target": args.target,
        "levels": levels_out,
        "oversell": oversell,
        "ledger": ledger,
        "failures": failures,
        "loadavg_end": os.getloadavg(),
        "pgbench_script": pgbench_script(5),
        "settings": {"seconds": args.seconds, "pg_seconds": args.pg_seconds, "warmup": args.warmup,
                     "levels": levels, "emails": emails},
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
