#!/usr/bin/env python3
"""Dashboard benchmark (scenario `dashboard` of scripts/bench.sh). Python 3 standard library, wrk and
pgbench.

Against a running `stock serve` whose demo shop holds the products of seed_products.sql and the sales
of dashboard.seed.sql, it:
  1. logs in as the owner, GETs /dashboard once and checks the page: status 200, today's income,
     expenses and balance as the database computes them, the ten products furthest below their
     minimum and the ten latest sales;
  2. EXPLAIN ANALYZE of the dashboard statement in the owner's request context;
  3. HTTP: wrk drives GET /dashboard with the owner's session cookie on loopback for a bounded
     time; a Lua check counts every response that is not 200 or lacks today's income;
  4. SQL only: pgbench runs the request's own transaction (BEGIN READ ONLY, the session statement,
     the dashboard statement from dashboard.query.sql, COMMIT) as the app's login role, prepared,
     with the same number of clients: the database-only ceiling. Also the four statements the
     dashboard ran before it became one (for the record);
  5. prints the figures and the HTTP/pgbench ratio, writes JSON and Markdown to --out-dir and the
     section between <!-- dashboard:begin/end --> of --doc.
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import search as sb  # noqa: E402  (shared helpers: Psql, login, machine_info, update_doc)

ROOT = sb.ROOT
QUERY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboard.query.sql")

# The four statements of GET /dashboard before this benchmark (commit e526878), each prepared and
# closed per request by tokio-postgres (two round trips each): kept to show what one statement saved.
OLD_STATEMENTS = [
    "select coalesce(sum(amount) filter (where kind in ('sale', 'sale_void', 'sale_return', 'customer_payment', "
    "'other_income')), 0), coalesce(-sum(amount) filter (where kind in ('invoice_payment', 'other_expense')), 0) "
    "from money_ledger where at >= (select date_trunc('day', now() at time zone time_zone) at time zone time_zone "
    "from settings);",
    "select count(*) from products where active;",
    "select p.id, p.name, p.stock, p.min_stock, u.code from products p join units u on u.id = p.unit_id "
    "where p.active and p.track_stock and p.stock <= p.min_stock order by p.stock - p.min_stock, p.id limit 10;",
    "select s.id, s.created_at at time zone (select time_zone from settings), c.name, s.total, s.status = 'voided' "
    "from sales s join customers c on c.id = s.customer_id order by s.id desc limit 10;",
]

LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) marker = args[1]; bad = 0; checked = 0 end
function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 or not string.find(body, marker, 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b, c = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bad"); c = c + t:get("checked") end
  io.write(string.format("CHECK checked=%d bad=%d\n", c, b))
end
"""


def statements():
    """(owner statement, staff statement) from the bench's copy, checked against the app by a unit test."""
    with open(QUERY_FILE, encoding="utf-8") as f:
        text = f.read()
    parts = [p.strip() for p in re.split(r"^--.*$", text, flags=re.M) if p.strip()]
    if len(parts) != 2:
        raise RuntimeError(f"{QUERY_FILE}: expected two statements")
    return parts[0].rstrip(";"), parts[1].rstrip(";")


def money_es(d):
    """1234.5 -> 1.234,50 (the demo shop is Spanish)."""
    d = Decimal(d).quantize(Decimal("0.01"))
    sign = "-" if d < 0 else ""
    whole, frac = f"{abs(d):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{'.'.join(groups)},{frac}"


def context_sql(tenant_id, user_id, role, schema):
    return (f"select count(*) from (select set_config('app.tenant_id', '{int(tenant_id)}', true), "
            f"set_config('app.user_id', '{int(user_id)}', true), set_config('role', '{role}', true), "
            f"set_config('search_path', '{schema}, app', true)) ctx;")


def expected(admin, schema, tenant_id, user_id, role, owner_sql):
    """What the page must show, computed by the database in the owner's context."""
    sql = owner_sql.replace("$1::timestamptz", "now()")
    rows = admin.rows("begin;\n" + context_sql(tenant_id, user_id, role, schema) + "\n"
                      f"select part, id, a, b from ({sql}) d;\nrollback;")
    rows = [r for r in rows if len(r) == 4]
    money = next(r for r in rows if r[0] == "0")
    low = [int(r[1]) for r in rows if r[0] == "2"]
    latest = [int(r[1]) for r in rows if r[0] == "3"]
    active = next(int(r[1]) for r in rows if r[0] == "1")
    income, expenses = Decimal(money[2]), Decimal(money[3])
    return {"income": income, "expenses": expenses, "balance": income - expenses, "low": low, "latest": latest,
            "active": active}


def check_page(body, exp):
    problems = []
    for k in ("income", "expenses", "balance"):
        if money_es(exp[k]).encode() not in body:
            problems.append(f"today's {k} {money_es(exp[k])} not on the page")
    for pid in exp["low"]:
        if f'href="/products/{pid}"'.encode() not in body:
            problems.append(f"low-stock product {pid} missing")
    for sid in exp["latest"]:
        if f'href="/sales/{sid}"'.encode() not in body:
            problems.append(f"latest sale {sid} missing")
    if len(exp["low"]) != 10 or len(exp["latest"]) != 10:
        problems.append(f"expected 10 low and 10 latest, the database has {len(exp['low'])} and {len(exp['latest'])}")
    return problems


def explain(admin, schema, tenant_id, user_id, role, owner_sql):
    sql = owner_sql.replace("$1::timestamptz", "now()")
    out = admin.text("begin;\n" + context_sql(tenant_id, user_id, role, schema) + "\n"
                     f"explain (analyze, buffers, costs off) {sql};\nrollback;")
    m = re.search(r"Execution Time: ([0-9.]+) ms", out)
    return out, float(m.group(1)) if m else float("nan")


def run_wrk(url, cookie, marker, seconds, connections, threads, workdir):
    script = os.path.join(workdir, "check.lua")
    with open(script, "w", encoding="utf-8") as f:
        f.write(LUA)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", script,
           "-H", f"Cookie: stock_session={cookie}", url, "--", marker]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if r.returncode != 0:
        raise RuntimeError(f"wrk failed: {r.stderr}\n{r.stdout}")
    out = r.stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    total = int(re.search(r"([0-9]+) requests in", out).group(1))
    lat = {}
    for p in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+([0-9.]+)(us|ms|s)\s*$", out, flags=re.M)
        if m:
            v = float(m.group(1))
            lat[p] = v / 1000.0 if m.group(2) == "us" else v * 1000.0 if m.group(2) == "s" else v
    m = re.search(r"CHECK checked=([0-9]+) bad=([0-9]+)", out)
    checked, bad = (int(m.group(1)), int(m.group(2))) if m else (0, -1)
    m = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", out)
    non2xx = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "requests": total, "latency_ms": lat, "checked": checked, "bad": bad, "non2xx": non2xx,
            "socket_errors": m.group(1) if m else "", "raw": out}


def run_pgbench(app_url, script_text, defines, clients, threads, seconds, workdir, mode, name):
    script = os.path.join(workdir, f"{name}.sql")
    with open(script, "w", encoding="utf-8") as f:
        f.write(script_text)
    cmd = ["pgbench", "-n", "-M", mode, "-c", str(clients), "-j", str(threads), "-T", str(seconds), "-r", "-f", script]
    for k, v in defines.items():
        cmd += ["-D", f"{k}={v}"]
    cmd.append(app_url)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, cwd=workdir)
    if r.returncode != 0:
        raise RuntimeError(f"pgbench {name} failed:\n{r.stderr[-3000:]}\n{r.stdout[-3000:]}")
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", r.stdout)
    tps = float(m.group(1)) if m else float("nan")
    m = re.search(r"latency average = ([0-9.]+) ms", r.stdout)
    lat = float(m.group(1)) if m else float("nan")
    m = re.search(r"number of failed transactions: ([0-9]+)", r.stdout)
    failed = int(m.group(1)) if m else 0
    stmts = r.stdout.split("statement latencies in milliseconds", 1)[-1].splitlines()[1:]
    per = [float(m.group(1)) for m in (re.match(r"\s+([0-9.]+)\s", line) for line in stmts) if m]
    return {"tps": tps, "latency_avg_ms": lat, "failed": failed, "statements_ms": per}


def merge_rounds(rounds):
    """The rounds as one run: throughputs are medians; counts of responses and failures add up;
    latencies are the first round's."""
    http = dict(rounds[0]["http"])
    http["rps"] = statistics.median(x["http"]["rps"] for x in rounds)
    for k in ("checked", "bad", "non2xx"):
        http[k] = sum(x["http"][k] for x in rounds)
    merged = [http]
    for name in ("pgbench", "pgbench_pipelined"):
        pg = dict(rounds[0][name])
        pg["tps"] = statistics.median(x[name]["tps"] for x in rounds)
        pg["latency_avg_ms"] = statistics.median(x[name]["latency_avg_ms"] for x in rounds)
        pg["failed"] = sum(x[name]["failed"] for x in rounds)
        merged.append(pg)
    return merged


def render(r):
    m = r["machine"]
    h, pg, old = r["http"], r["pgbench"], r.get("pgbench_old") or {}
    L = []
    L.append(f"Run of {r['date']} (commit {m['commit']}; {m.get('build', '?')}): {m['nproc']} CPUs ({m['cpu']}), "
             f"{m['memory']} RAM, {m['postgres']} (shared_buffers {m['pg_settings'].get('shared_buffers', '?')}); "
             f"load average {m['loadavg'][0]:.2f} before the run, {r['loadavg_end'][0]:.2f} after. "
             "This VM's speed drifts from minute to minute (the load average includes the bench's own "
             "processes): absolute figures are noisy; the ratios below were measured in the same run, minutes apart.")
    L.append("")
    L.append(f"Shop: {r['products']:,} products ({r['active']:,} active), {r['sales']:,} sales "
             f"({r['today_sales']:,} of them today), {r['ledger']:,} money ledger rows. GET /dashboard as the owner "
             f"(today's money, active products, 10 furthest below minimum, 10 latest sales); wrk "
             f"{r['settings']['threads']} thread(s), {r['settings']['connections']} connections, "
             f"{r['settings']['seconds']} s; pgbench {r['settings']['connections']} clients, {r['settings']['pg_seconds']} s, "
             "`-M prepared`, as the app's login role.")
    L.append("")
    L.append("| what | requests or transactions/s | latency | checked |")
    L.append("|---|---:|---|---|")
    lat = h["latency_ms"]
    L.append(f"| HTTP GET /dashboard (wrk) | **{h['rps']:.0f}** | p50 {sb.f1(lat.get('50', float('nan')))} ms, "
             f"p90 {sb.f1(lat.get('90', float('nan')))} ms, p99 {sb.f1(lat.get('99', float('nan')))} ms | "
             f"{h['checked']:,} responses, {h['bad']} wrong, {h['non2xx']} non-2xx |")
    L.append(f"| pgbench: the request's transaction (4 statements) | **{pg['tps']:.0f}** | avg "
             f"{pg['latency_avg_ms']:.2f} ms | {pg['failed']} failed |")
    piped = r.get("pgbench_pipelined") or {}
    if piped:
        L.append(f"| pgbench: the same 4 statements, BEGIN pipelined with the session statement (the app "
                 f"also sends the page's statement in that flush, which pgbench -M prepared cannot) | **{piped['tps']:.0f}** | avg {piped['latency_avg_ms']:.2f} ms | {piped['failed']} failed |")
    if old:
        L.append(f"| pgbench: the old dashboard SQL (session + 4 queries, 7 statements) | {old['tps']:.0f} | avg "
                 f"{old['latency_avg_ms']:.2f} ms | {old['failed']} failed |")
    L.append("")
    if len(r.get("rounds", [])) > 1:
        L.append(f"{len(r['rounds'])} rounds in turn (wrk, pgbench, pgbench with BEGIN pipelined); figures are "
                 "medians, ratios the medians of each round's own: " + "; ".join(
                     f"round {i + 1}: {x['http_rps']:.0f} / {x['pgbench_tps']:.0f} / {x['pgbench_pipelined_tps']:.0f}"
                     for i, x in enumerate(r["rounds"])) + ".")
        L.append("")
    L.append(f"HTTP / pgbench = **{r['ratio']:.2f}** (the web layer's share of the database-only ceiling). "
             + (f"HTTP / pgbench with BEGIN pipelined = **{r['ratio_pipelined']:.2f}**. " if piped else "")
             + f"Target: {r['target']:,} requests/s: {'met' if h['rps'] >= r['target'] else '**not met**'} in this run.")
    L.append("")
    L.append(f"EXPLAIN ANALYZE of the dashboard statement in the owner's context: {r['explain_ms']:.2f} ms execution "
             "(plan in the JSON).")
    if pg.get("statements_ms"):
        names = ["begin", "session", "dashboard", "commit"]
        L.append("pgbench per-statement mean (ms): " +
                 ", ".join(f"{n} {v:.3f}" for n, v in zip(names, pg["statements_ms"])) + ".")
    if r["page_problems"]:
        L.append("")
        L.append("**The page check failed**: " + "; ".join(r["page_problems"]))
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--admin-url", required=True)
    ap.add_argument("--app-url", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--tenant-id", required=True)
    ap.add_argument("--shop-role", required=True)
    ap.add_argument("--email", default="owner@demo.test")
    ap.add_argument("--password", required=True)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--pg-seconds", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=2,
                    help="wrk, pgbench and pipelined pgbench this many times in turn; the ratios are "
                         "the medians of the rounds' own ratios (the machine's speed drifts between runs)")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--target", type=int, default=2000)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--doc", default="")
    ap.add_argument("--build", default="")
    args = ap.parse_args()

    admin = sb.Psql(args.admin_url)
    host, port = re.match(r"https?://([^:/]+):([0-9]+)", args.base_url).groups()
    owner_sql, _staff_sql = statements()
    started = datetime.datetime.now(datetime.timezone.utc)
    machine = sb.machine_info(admin)
    machine["build"] = args.build

    cookies = sb.login(host, int(port), args.email, args.password)
    token = cookies["stock_session"]
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    (user_id,) = admin.rows("select user_id from app.sessions where token_hash = decode(:'v1', 'hex')", token_hash)[0]

    s = args.schema
    (products, active, sales, ledger, today_sales) = admin.rows(
        f"select (select count(*) from {s}.products), (select count(*) from {s}.products where active), "
        f"(select count(*) from {s}.sales), (select count(*) from {s}.money_ledger), "
        f"(select count(*) from {s}.sales, {s}.settings st where created_at >= "
        f"((now() at time zone st.time_zone)::date::timestamp at time zone st.time_zone))")[0]

    # 1. the page is right
    c = sb.Client(host, int(port))
    c.cookies = cookies
    status, _, body = c.request("GET", "/dashboard")
    c.close()
    exp = expected(admin, s, args.tenant_id, user_id, args.shop_role, owner_sql)
    problems = [] if status == 200 else [f"GET /dashboard answered {status}"]
    problems += check_page(body, exp)
    print(f"==> page check: {'ok' if not problems else '; '.join(problems)}", flush=True)

    # 2. the plan
    plan, explain_ms = explain(admin, s, args.tenant_id, user_id, args.shop_role, owner_sql)
    print(f"==> EXPLAIN ANALYZE: {explain_ms:.2f} ms", flush=True)

    with tempfile.TemporaryDirectory() as wd:
        # 3. and 4. HTTP, then pgbench with the same transaction, then the same statements with
        # BEGIN pipelined with the session statement (pgbench still waits for its COMMIT, which the
        # app does not for READ ONLY), `--rounds` times in turn. The app also sends the page's
        # statement in that flush (src/db/tx.rs, http/hints.rs); pgbench -M prepared cannot: it
        # prepares a pipeline's statements before running any, before search_path names the shop
        # ("prepared statement does not exist"), so its fewest round trips are these
        marker = money_es(exp["income"])
        resolve = sb.RESOLVE_AND_SET.replace("$1", ":th").replace("\n", " ")
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        script = "\n".join(["begin read only;", resolve + ";", owner_sql.replace("$1", ":now") + ";", "commit;"]) + "\n"
        piped_script = "\n".join(["\\startpipeline", "begin read only;", resolve + ";", "\\endpipeline",
                                   owner_sql.replace("$1", ":now") + ";", "commit;"]) + "\n"
        defines = {"th": f"\\x{token_hash}", "now": now}
        rounds = []
        for i in range(max(1, args.rounds)):
            h = run_wrk(f"{args.base_url}/dashboard", token, marker, args.seconds, args.connections, args.threads, wd)
            print(f"==> round {i + 1}: wrk {h['rps']:.0f} requests/s, {h['checked']} checked, {h['bad']} wrong",
                  flush=True)
            p1 = run_pgbench(args.app_url, script, defines, args.connections, args.threads, args.pg_seconds, wd,
                             "prepared", "dashboard")
            p2 = run_pgbench(args.app_url, piped_script, defines, args.connections, args.threads, args.pg_seconds,
                             wd, "prepared", "dashboard_pipelined")
            print(f"==> round {i + 1}: pgbench {p1['tps']:.0f}, with BEGIN pipelined {p2['tps']:.0f} "
                  "transactions/s", flush=True)
            rounds.append({"http": h, "pgbench": p1, "pgbench_pipelined": p2})
        http, pg, piped = merge_rounds(rounds)
        old_script = "\n".join(["begin read only;", resolve + ";"] + OLD_STATEMENTS + ["commit;"]) + "\n"
        old = run_pgbench(args.app_url, old_script, {"th": f"\\x{token_hash}"}, args.connections, args.threads,
                          args.pg_seconds, wd, "extended", "dashboard_old")
        print(f"==> pgbench (old SQL): {old['tps']:.0f} transactions/s", flush=True)

    report = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "settings": {"seconds": args.seconds, "pg_seconds": args.pg_seconds, "connections": args.connections,
                     "threads": args.threads},
        "products": int(products), "active": int(active), "sales": int(sales), "ledger": int(ledger),
        "today_sales": int(today_sales),
        "expected": {k: str(v) if isinstance(v, Decimal) else v for k, v in exp.items()},
        "page_problems": problems,
        "explain_ms": explain_ms, "explain": plan,
        "http": {k: v for k, v in http.items() if k != "raw"}, "wrk_output": http["raw"],
        "pgbench": pg, "pgbench_old": old, "pgbench_pipelined": piped,
        "rounds": [{"http_rps": x["http"]["rps"], "pgbench_tps": x["pgbench"]["tps"],
                    "pgbench_pipelined_tps": x["pgbench_pipelined"]["tps"]} for x in rounds],
        "ratio": statistics.median(x["http"]["rps"] / x["pgbench"]["tps"] for x in rounds),
        "ratio_pipelined": statistics.median(x["http"]["rps"] / x["pgbench_pipelined"]["tps"] for x in rounds),
        "target": args.target,
        "loadavg_end": os.getloadavg(),
    }
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "dashboard.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, default=str)
    section = render(report)
    with open(os.path.join(args.out_dir, "dashboard.md"), "w", encoding="utf-8") as f:
        f.write(section + "\n")
    print()
    print(section)
    if args.doc:
        sb.update_doc(args.doc, section, name="dashboard")
        print(f"\n==> {os.path.relpath(args.doc, ROOT)} updated (dashboard section)")
    ok = (not problems and http["bad"] == 0 and http["non2xx"] == 0 and pg["failed"] == 0
          and piped["failed"] == 0)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
