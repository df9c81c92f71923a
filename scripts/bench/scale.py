#!/usr/bin/env python3
"""Scale benchmarks with many shops (scenarios random, rls, memory, signup of scripts/bench.sh).
Python 3 standard library, wrk and pgbench. The shops come from scripts/bench/shops.sh: shop i has
slug scale-<i:04>, name "Tienda <i:04>" and an owner whose session cookie is scale_token(i).

  random  the page check of every shop, then wrk on GET /dashboard and GET /products with one shop's
          session against a random shop's session per request (the Lua script keeps the expected
          shop per request and checks each response names it: one connection per wrk thread, so
          responses come back in request order); then pgbench with the request's own transaction
          (BEGIN READ ONLY, session statement, dashboard statement, COMMIT) on one shop, on random
          shops, and on random shops with each pgbench connection bound to its own share of the
          shops (what shop-affine connection selection would give). Server RSS and the app
          backends' memory are sampled during the random runs.
  rls     pgbench with the dashboard transaction as the app's login role switched to the shop owner
          role (row level security) against the same with a bench-only BYPASSRLS role that is
          granted the owner role's privileges, created and dropped by the run.
  memory  one run of random dashboard load while sampling the server's RSS and the PostgreSQL
          backends' Pss and private memory (/proc/<pid>/smaps_rollup); `memory-report` puts the
          runs (with and without a connection lifetime) in one table.
  signup  GET /signup then POST /signup (the real form with its CSRF token), N times in a row;
          every answer checked (303 to /dashboard, a session cookie, the dashboard names the new
          shop); then app_private.sign_up alone through psql, rolled back, for the database part.
          Two passes (--slot none, then --slot spares after spare shops were made): the second
          renders both, and which sign-ups claimed a spare.

Each writes target/bench/<name>.json and .md and its section of docs/BENCHMARKS.md.
"""

import argparse
import datetime
import hashlib
import html
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import search as sb  # noqa: E402  (Psql, Client, machine_info, update_doc)

ROOT = sb.ROOT
HERE = os.path.dirname(os.path.abspath(__file__))
TX_RS = os.path.join(ROOT, "src", "db", "tx.rs")
QUERY_FILE = os.path.join(HERE, "dashboard.query.sql")


def scale_token(i):
    """The session cookie of bench shop i's owner (pg_temp.scale_token in shops.seed.sql)."""
    return f"scale-bench-shop-{i}-".ljust(43, "x")


def shop_name(i):
    return f"Tienda {i:04d}"


def resolve_and_set():
    """The session statement exactly as the app runs it, read from src/db/tx.rs."""
    with open(TX_RS, encoding="utf-8") as f:
        src = f.read()
    m = re.search(r'const RESOLVE_AND_SET: &str = "\\\n(.*?)";', src, flags=re.S)
    if not m:
        raise RuntimeError("src/db/tx.rs: RESOLVE_AND_SET not found")
    return m.group(1)


def dashboard_sql():
    """The owner's dashboard statement (dashboard.query.sql, kept equal to the app by a unit test)."""
    with open(QUERY_FILE, encoding="utf-8") as f:
        text = f.read()
    parts = [p.strip() for p in re.split(r"^--.*$", text, flags=re.M) if p.strip()]
    return parts[0].rstrip(";")


def one_line(sql):
    return " ".join(sql.split())


def token_expr(var):
    """SQL for the token hash of shop :var, the same expression in every variant of a comparison."""
    return f"sha256(convert_to(rpad('scale-bench-shop-' || :{var} || '-', 43, 'x'), 'UTF8'))"


def dashboard_tx(pick, role_stmt=None, qualify=None):
    """A pgbench script: the dashboard request's transaction for the shop `pick` chooses; with
    `qualify`, the dashboard statement names that schema instead of relying on search_path."""
    lines = [pick, "begin read only;", one_line(resolve_and_set()).replace("$1", token_expr("i")) + ";"]
    if role_stmt:
        lines.append(role_stmt)
    dash = one_line(dashboard_sql()).replace("$1", ":now")
    if qualify:
        dash = re.sub(r"\b(from|join) (settings|money_ledger|products|units|sales|customers)\b",
                      lambda m: f'{m.group(1)} "{qualify}".{m.group(2)}', dash)
    lines += [dash + ";", "commit;"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# measuring tools


def run_pgbench(app_url, script_text, clients, seconds, workdir, name, now, files=None):
    if files is None:
        script = os.path.join(workdir, f"{name}.sql")
        with open(script, "w", encoding="utf-8") as f:
            f.write(script_text)
        files = [script]
    cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds),
           "-P", "5", "-r", "-D", f"now={now}"]
    for script in files:
        cmd += ["-f", script]
    cmd.append(app_url)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, cwd=workdir)
    if r.returncode != 0:
        raise RuntimeError(f"pgbench {name} failed:\n{r.stderr[-3000:]}\n{r.stdout[-3000:]}")
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", r.stdout)
    tps = float(m.group(1)) if m else float("nan")
    m = re.search(r"number of failed transactions: ([0-9]+)", r.stdout)
    failed = int(m.group(1)) if m else 0
    progress = [float(x) for x in re.findall(r"^progress: [0-9.]+ s, ([0-9.]+) tps", r.stderr, flags=re.M)]
    # new connections start with cold catalog caches: the second half of the run is the warm figure
    half = progress[len(progress) // 2:]
    warm = statistics.mean(half) if half else tps
    stmts = r.stdout.split("statement latencies in milliseconds", 1)[-1].splitlines()[1:]
    per = [float(m.group(1)) for m in (re.match(r"\s+([0-9.]+)\s", line) for line in stmts) if m]
    return {"tps": tps, "tps_warm": warm, "progress": progress, "failed": failed, "statements_ms": per}


LUA = r"""
-- one connection per thread: responses come back in the order of the requests
local threads = {}
function setup(thread) thread:set("id", #threads + 1); table.insert(threads, thread) end
function init(args)
  local path, file = args[1], args[2]
  marker = args[3]
  cookies, names = {}, {}
  for line in io.lines(file) do
    local c, n = line:match("^(%S+)\t(.+)$")
    if c then table.insert(cookies, c); table.insert(names, n) end
  end
  math.randomseed(os.time() * 1000 + id * 7919)
  queue, head, tail = {}, 1, 0
  bad, checked, wrong_shop = 0, 0, 0
  req_path = path
end
function request()
  local k = math.random(#cookies)
  tail = tail + 1
  queue[tail] = names[k]
  return wrk.format("GET", req_path, {["Cookie"] = "stock_session=" .. cookies[k]})
end
function response(status, headers, body)
  -- wrk calls request() once on the first thread's state before the run, to see whether the
  -- script pipelines: with one connection per thread only one request can be in flight, so an
  -- older entry left at the first response is that call, not a request on the wire
  if checked == 0 and tail - head + 1 > 1 then queue[head] = nil; head = head + 1 end
  local want = queue[head]
  queue[head] = nil
  head = head + 1
  checked = checked + 1
  if status ~= 200 or not string.find(body, marker, 1, true) then
    bad = bad + 1
  elseif not string.find(body, '<span class="shop">' .. want .. '</span>', 1, true) then
    wrong_shop = wrong_shop + 1
  end
end
function done(summary, latency, requests)
  local b, c, w = 0, 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bad"); c = c + t:get("checked"); w = w + t:get("wrong_shop") end
  io.write(string.format("CHECK checked=%d bad=%d wrong_shop=%d\n", c, b, w))
end
"""


def run_wrk(base_url, path, cookie_file, marker, seconds, connections, workdir):
    script = os.path.join(workdir, "scale.lua")
    with open(script, "w", encoding="utf-8") as f:
        f.write(LUA)
    cmd = ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", script,
           base_url + path, "--", path, cookie_file, marker]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if r.returncode != 0:
        raise RuntimeError(f"wrk failed: {r.stderr}\n{r.stdout}")
    out = r.stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    lat = {}
    for p in ("50", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+([0-9.]+)(us|ms|s)\s*$", out, flags=re.M)
        if m:
            v = float(m.group(1))
            lat[p] = v / 1000.0 if m.group(2) == "us" else v * 1000.0 if m.group(2) == "s" else v
    m = re.search(r"CHECK checked=([0-9]+) bad=([0-9]+) wrong_shop=([0-9]+)", out)
    checked, bad, wrong = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, -1, -1)
    m = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", out)
    non2xx = int(m.group(1)) if m else 0
    return {"rps": rps, "latency_ms": lat, "checked": checked, "bad": bad, "wrong_shop": wrong, "non2xx": non2xx}


def smaps(pid):
    """(Pss, private) in kB of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    vals = dict((k, int(v)) for k, v in re.findall(r"^(\w+):\s+([0-9]+) kB", text, flags=re.M))
    return vals.get("Pss", 0), vals.get("Private_Clean", 0) + vals.get("Private_Dirty", 0)


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            m = re.search(r"^VmRSS:\s+([0-9]+) kB", f.read(), flags=re.M)
            return int(m.group(1)) if m else None
    except OSError:
        return None


class Sampler(threading.Thread):
    """Every `every` seconds: the server's RSS and, over the app's backends (application_name
    'stock'), the sum of Pss and of private memory, and their number."""

    def __init__(self, admin, server_pid, every=1.0):
        super().__init__(daemon=True)
        self.admin, self.server_pid, self.every = admin, server_pid, every
        self.samples, self.stop_flag, self.pids_seen = [], threading.Event(), set()
        self.t0 = time.monotonic()

    def run(self):
        while not self.stop_flag.is_set():
            pids = [int(r[0]) for r in self.admin.rows(
                "select pid from pg_stat_activity where application_name = 'stock' and backend_type = 'client backend' "
                "and datname = current_database()")]
            self.pids_seen.update(pids)
            pss = priv = 0
            for p in pids:
                v = smaps(p)
                if v:
                    pss += v[0]
                    priv += v[1]
            self.samples.append({"t": round(time.monotonic() - self.t0, 1), "server_rss_kb": rss_kb(self.server_pid),
                                 "backends": len(pids), "pss_kb": pss, "private_kb": priv})
            self.stop_flag.wait(self.every)

    def stop(self):
        self.stop_flag.set()
        self.join(timeout=30)
        return self.samples


def summary(samples, key):
    vals = [s[key] for s in samples if s.get(key) is not None]
    return {"max": max(vals) if vals else None, "last": vals[-1] if vals else None,
            "mean": statistics.mean(vals) if vals else None}


def mb(kb):
    return "?" if kb is None else f"{kb / 1024:.0f}"


# ----------------------------------------------------------------------------------------------
# shared set-up


def shops(admin, n):
    rows = admin.rows("select substr(slug, 7)::int, id, schema_name from app.tenants "
                      "where slug like 'scale-%' order by id")
    got = [(int(i), int(tid), schema) for i, tid, schema in rows if int(i) <= n]
    if len(got) < n:
        raise RuntimeError(f"the scale database has {len(got)} bench shops, {n} wanted: run `scripts/bench.sh shops`")
    # sessions of a kept database may have run out
    admin.rows("update app.sessions set expires_at = now() + interval '30 days' "
               "where user_id in (select id from app.users where email like 'owner-%@scale.bench') returning 1")
    return got


def write_cookies(path, indexes):
    with open(path, "w", encoding="utf-8") as f:
        for i in indexes:
            f.write(f"{scale_token(i)}\t{shop_name(i)}\n")


def check_pages(host, port, indexes, path, marker):
    """GET `path` as every listed shop's owner (4 keep-alive connections, shops interleaved so each
    connection's pooled database connections serve many shops); each page must be 200, carry the
    marker and name its own shop and no other bench shop."""
    problems, lock = [], threading.Lock()

    def worker(chunk):
        c = sb.Client(host, port)
        for i in chunk:
            c.cookies = {"stock_session": scale_token(i)}
            status, _, body = c.request("GET", path)
            text = body.decode("utf-8", "replace")
            names = set(re.findall(r'<span class="shop">([^<]*)</span>', text))
            bad = None
            if status != 200:
                bad = f"{path} as shop {i}: status {status}"
            elif marker not in text:
                bad = f"{path} as shop {i}: marker {marker!r} missing"
            elif names != {shop_name(i)}:
                bad = f"{path} as shop {i}: names {sorted(names)}"
            if bad:
                with lock:
                    problems.append(bad)
        c.close()

    threads = [threading.Thread(target=worker, args=(indexes[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return problems


def header(r, what):
    m = r["machine"]
    return (f"Run of {r['date']} (commit {m['commit']}; {m.get('build', '?')}): {m['nproc']} CPUs ({m['cpu']}), "
            f"{m['memory']} RAM, {m['postgres']} (shared_buffers {m['pg_settings'].get('shared_buffers', '?')}); "
            f"{what}; load average {m['loadavg'][0]:.2f} before, {r['loadavg_end'][0]:.2f} after. "
            "This VM's speed drifts from minute to minute (the load average includes the bench's own processes): "
            "absolute figures are noisy; compare the ratios, each measured within this run.")


def finish(args, name, report, section, ok):
    report["loadavg_end"] = os.getloadavg()
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, default=str)
    text = section(report)
    with open(os.path.join(args.out_dir, f"{name}.md"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print()
    print(text)
    if args.doc:
        sb.update_doc(args.doc, text, name=name)
        print(f"\n==> {os.path.relpath(args.doc, ROOT)} updated ({name} section)")
    sys.exit(0 if ok else 1)


def base(args):
    admin = sb.Psql(args.admin_url)
    machine = sb.machine_info(admin)
    machine["build"] = args.build
    host, port = re.match(r"https?://([^:/]+):([0-9]+)", args.base_url).groups() if args.base_url else (None, 0)
    return admin, machine, host, int(port)


DASHBOARD_MARKER = 'href="/stock/low"'
PRODUCTS_MARKER = "<code>SC-"


# ----------------------------------------------------------------------------------------------
# random


def cmd_random(args):
    admin, machine, host, port = base(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    all_shops = shops(admin, args.shops)
    indexes = [i for i, _, _ in all_shops]
    one = args.one_shop
    report = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine, "shops": len(indexes),
              "one_shop": one, "seconds": args.seconds, "connections": args.connections, "pages": {}}
    problems = []
    for path, marker in (("/dashboard", DASHBOARD_MARKER), ("/products", PRODUCTS_MARKER)):
        t0 = time.monotonic()
        p = check_pages(host, port, indexes, path, marker)
        print(f"==> page check {path}: {len(indexes)} shops, {len(p)} problems ({time.monotonic() - t0:.1f} s)",
              flush=True)
        problems += p[:20]
    with tempfile.TemporaryDirectory() as wd:
        one_file, all_file = os.path.join(wd, "one.txt"), os.path.join(wd, "all.txt")
        write_cookies(one_file, [one])
        write_cookies(all_file, indexes)
        for path, marker in (("/dashboard", DASHBOARD_MARKER), ("/products", PRODUCTS_MARKER)):
            run_wrk(args.base_url, path, all_file, marker, args.warmup, args.connections, wd)  # warm-up
            # one shop before and after the random run: their spread shows how noisy the machine is
            single = run_wrk(args.base_url, path, one_file, marker, args.seconds, args.connections, wd)
            print(f"==> wrk {path} one shop: {single['rps']:.0f}/s", flush=True)
            sampler = Sampler(admin, args.server_pid) if args.server_pid else None
            if sampler:
                sampler.start()
            rnd = run_wrk(args.base_url, path, all_file, marker, args.seconds, args.connections, wd)
            samples = sampler.stop() if sampler else []
            print(f"==> wrk {path} random shops: {rnd['rps']:.0f}/s", flush=True)
            again = run_wrk(args.base_url, path, one_file, marker, args.seconds, args.connections, wd)
            print(f"==> wrk {path} one shop again: {again['rps']:.0f}/s", flush=True)
            for k in ("checked", "bad", "wrong_shop", "non2xx"):
                single[k] += again[k]
            single["rps_runs"] = [single["rps"], again["rps"]]
            single["rps"] = statistics.mean(single["rps_runs"])
            report["pages"][path] = {"one": single, "random": rnd, "ratio": rnd["rps"] / single["rps"],
                                     "memory": {"server_rss_kb": summary(samples, "server_rss_kb"),
                                                "pss_kb": summary(samples, "pss_kb"),
                                                "private_kb": summary(samples, "private_kb"),
                                                "backends": summary(samples, "backends")}}
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        n = len(indexes)
        share = -(-n // args.connections)
        variants = [
            ("one", "one shop", f"\\set i {one}"),
            ("random", "random shops", f"\\set i random(1, {n})"),
            ("affine", f"random shops, each connection its own {share}",
             f"\\set i least({n}, 1 + :client_id * {share} + random(0, {share - 1}))"),
        ]
        variants.append(("one_again", "one shop, again", f"\\set i {one}"))
        pg = {}
        for key, label, pick in variants:
            seconds = max(10, args.pg_seconds // 2) if key.startswith("one") else args.pg_seconds
            pg[key] = run_pgbench(args.app_url, dashboard_tx(pick), args.connections, seconds, wd, key, now)
            pg[key]["label"] = label
            print(f"==> pgbench {label}: {pg[key]['tps']:.0f} tps ({pg[key]['tps_warm']:.0f} second half)",
                  flush=True)
        # statement text naming the shop's schema (one prepared statement per shop and connection)
        # against one text under a switched search_path, on the same shops: pgbench takes at most
        # 128 scripts, so this compares on a hundred small shops
        few = [(i, schema) for i, _, schema in all_shops if 100 < i <= 200]
        if len(few) == 100:
            files = []
            for i, schema in few:
                path = os.path.join(wd, f"q{i}.sql")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(dashboard_tx(f"\\set i {i}", qualify=schema))
                files.append(path)
            pg["same100"] = run_pgbench(args.app_url, dashboard_tx("\\set i random(101, 200)"), args.connections,
                                        args.pg_seconds, wd, "same100", now)
            pg["same100"]["label"] = "100 random small shops, one statement text"
            pg["qualified100"] = run_pgbench(args.app_url, None, args.connections, args.pg_seconds, wd,
                                             "qualified100", now, files=files)
            pg["qualified100"]["label"] = "the same 100 shops, statement text naming the shop's schema"
            for key in ("same100", "qualified100"):
                print(f"==> pgbench {pg[key]['label']}: {pg[key]['tps']:.0f} tps "
                      f"({pg[key]['tps_warm']:.0f} second half)", flush=True)
        again = pg.pop("one_again")
        pg["one"]["tps_warm_runs"] = [pg["one"]["tps_warm"], again["tps_warm"]]
        pg["one"]["tps_warm"] = statistics.mean(pg["one"]["tps_warm_runs"])
        report["pgbench"] = pg
    report["page_problems"] = problems
    ok = not problems and all(v["random"]["bad"] == 0 and v["random"]["wrong_shop"] == 0 and v["one"]["bad"] == 0
                              for v in report["pages"].values())
    finish(args, "random", report, render_random, ok)


def render_random(r):
    L = [header(r, f"{r['shops']:,} bench shops (3 large, the rest small); wrk {r['connections']} threads × 1 "
                   f"connection, {r['seconds']} s per run after a random warm-up; pgbench {r['connections']} clients, "
                   "`-M prepared`, as the app's login role")]
    L.append("")
    L.append(f"One shop = bench shop {r['one_shop']} (a small one). Random = a random bench shop's owner session "
             "for every request. Every response is checked: status 200, the page's content, and that it names the "
             "shop whose session asked (and no other).")
    L.append("")
    L.append("One-shop figures are the mean of a run before and one after the random run (both listed in the "
             "JSON; their spread is the machine's noise).")
    L.append("")
    L.append("| what | one shop | random shops | random / one | target | checked (random) |")
    L.append("|---|---:|---:|---:|---|---|")
    for path, v in r["pages"].items():
        o, x = v["one"], v["random"]
        L.append(f"| HTTP GET {path} (req/s) | {o['rps']:.0f} | {x['rps']:.0f} | **{v['ratio']:.2f}** | ≥ 0.80: "
                 f"{'met' if v['ratio'] >= 0.8 else '**missed**'} | {x['checked']:,} responses, {x['bad']} bad, "
                 f"{x['wrong_shop']} naming another shop |")
    pg = r["pgbench"]
    if "qualified100" in pg:
        a, b = pg["same100"]["tps_warm"], pg["qualified100"]["tps_warm"]
        L.append(f"| pgbench, 100 random small shops: one statement text → text naming the shop's schema "
                 f"(tps second half) | {a:.0f} | {b:.0f} | **{b / a:.2f}** (qualified / same text; "
                 f"{b / pg['one']['tps_warm']:.2f} of one shop) | experiment | {pg['qualified100']['failed']} failed |")
    for key in ("random", "affine"):
        ratio = pg[key]["tps_warm"] / pg["one"]["tps_warm"]
        L.append(f"| pgbench, dashboard transaction, {pg[key]['label']} (tps, second half of the run) | "
                 f"{pg['one']['tps_warm']:.0f} | {pg[key]['tps_warm']:.0f} | **{ratio:.2f}** | "
                 f"{'≥ 0.80: ' + ('met' if ratio >= 0.8 else '**missed**') if key == 'random' else 'experiment'} | "
                 f"{pg[key]['failed']} failed |")
    L.append("")
    for path, v in r["pages"].items():
        lo, lr = v["one"]["latency_ms"], v["random"]["latency_ms"]
        mem = v["memory"]
        L.append(f"{path}: p50 {sb.f1(lo.get('50', float('nan')))} → {sb.f1(lr.get('50', float('nan')))} ms, "
                 f"p99 {sb.f1(lo.get('99', float('nan')))} → {sb.f1(lr.get('99', float('nan')))} ms (one → random); "
                 f"during the random run the server's RSS peaked at {mb(mem['server_rss_kb']['max'])} MB and the "
                 f"app's {mem['backends']['max']} backends at {mb(mem['pss_kb']['max'])} MB Pss "
                 f"({mb(mem['private_kb']['max'])} MB private).")
    L.append("")
    L.append("pgbench per-statement mean (ms; begin, session, dashboard, commit): " + "; ".join(
        f"{v['label']}: " + ", ".join(f"{x:.2f}" for x in v["statements_ms"][-4:]) for v in pg.values()) + ".")
    if r["page_problems"]:
        L.append("")
        L.append("**Page check failed**: " + "; ".join(r["page_problems"]))
    return "\n".join(L)


# ----------------------------------------------------------------------------------------------
# rls


def run_pgbench_mixed(app_url, scripts, clients, seconds, workdir, name, now):
    """One pgbench run with several scripts of equal weight, so that every variant meets the same
    load at the same moments (the machine is shared: runs minutes apart differ by more than 10 %).
    Per script: transactions, tps, latency average and the per-statement means."""
    cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds), "-r",
           "-D", f"now={now}"]
    for key, text in scripts:
        path = os.path.join(workdir, f"{name}-{key}.sql")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        cmd += ["-f", path]
    cmd.append(app_url)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, cwd=workdir)
    if r.returncode != 0:
        raise RuntimeError(f"pgbench {name} failed:\n{r.stderr[-3000:]}\n{r.stdout[-3000:]}")
    out = {}
    blocks = re.split(r"^SQL script [0-9]+: ", r.stdout, flags=re.M)[1:]
    for (key, _), block in zip(scripts, blocks):
        tx = re.search(r"- ([0-9]+) transactions .*tps = ([0-9.]+)\)", block)
        lat = re.search(r"- latency average = ([0-9.]+) ms", block)
        failed = re.search(r"- number of failed transactions: ([0-9]+)", block)
        per = [float(m.group(1)) for m in (re.match(r"\s+([0-9.]+)\s", line) for line in
                                            block.split("statement latencies", 1)[-1].splitlines()[1:]) if m]
        out[key] = {"transactions": int(tx.group(1)) if tx else 0, "tps": float(tx.group(2)) if tx else float("nan"),
                    "latency_ms": float(lat.group(1)) if lat else float("nan"),
                    "failed": int(failed.group(1)) if failed else 0, "statements_ms": per}
    return out


def cmd_rls(args):
    admin, machine, _, _ = base(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    all_shops = shops(admin, args.shops)
    owner_role, app_role, bypass = f"{args.role_prefix}_shop_owner", f"{args.role_prefix}_app", \
        f"{args.role_prefix}_bench_bypassrls"
    report = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine, "shops": len(all_shops),
              "seconds": args.pg_seconds, "rounds": args.rounds, "connections": args.connections,
              "bypass_role": bypass, "cases": []}
    admin.rows(f'drop role if exists "{bypass}"')
    admin.rows(f'create role "{bypass}" nologin bypassrls inherit')
    try:
        admin.rows(f'grant "{owner_role}" to "{bypass}"')
        admin.rows(f'grant "{bypass}" to "{app_role}"')
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        with tempfile.TemporaryDirectory() as wd:
            for i, label in ((1, "large shop (bench shop 1)"), (args.one_shop, f"small shop (bench shop {args.one_shop})"),
                             (None, "random shops")):
                pick = f"\\set i {i}" if i else f"\\set i random(1, {len(all_shops)})"
                scripts = [(key, dashboard_tx(pick, f"select set_config('role', '{role}', true);"))
                           for key, role in (("rls", owner_role), ("bypass", bypass))]
                runs = [run_pgbench_mixed(args.app_url, scripts, args.connections, args.pg_seconds, wd,
                                          f"rls-{i}-{k}", now) for k in range(args.rounds)]
                lat = {key: sum(r[key]["latency_ms"] * r[key]["transactions"] for r in runs) /
                       max(1, sum(r[key]["transactions"] for r in runs)) for key in ("rls", "bypass")}
                dash = {key: statistics.mean(r[key]["statements_ms"][-2] for r in runs) for key in ("rls", "bypass")}
                case = {"label": label, "latency_ms": lat, "dashboard_ms": dash, "cost": 1 - lat["bypass"] / lat["rls"],
                        "failed": sum(r[k]["failed"] for r in runs for k in r), "runs": runs}
                if i:
                    schema = next(s for j, _, s in all_shops if j == i)
                    case["explain"] = {key: explain_as(admin, schema, i, role)
                                       for key, role in (("rls", owner_role), ("bypass", bypass))}
                report["cases"].append(case)
                print(f"==> {label}: transaction {lat['rls']:.2f} ms with RLS, {lat['bypass']:.2f} ms bypassing it: "
                      f"cost {case['cost'] * 100:.1f} %", flush=True)
    finally:
        admin.rows(f'drop role if exists "{bypass}"')
    ok = all(c["failed"] == 0 for c in report["cases"])
    finish(args, "rls", report, render_rls, ok)


def explain_as(admin, schema, i, role):
    tenant = admin.rows(f"select id from app.tenants where schema_name = '{schema}'")[0][0]
    user = admin.rows(f"select id from app.users where email = 'owner-{i}@scale.bench'")[0][0]
    sql = dashboard_sql().replace("$1::timestamptz", "now()")
    out = admin.text(f"begin; select set_config('app.tenant_id', '{tenant}', true), set_config('app.user_id', "
                     f"'{user}', true), set_config('search_path', '{schema}, app', true), "
                     f"set_config('role', '{role}', true);\nexplain (analyze, costs off) {sql};\nrollback;")
    m = re.search(r"Execution Time: ([0-9.]+) ms", out)
    return {"ms": float(m.group(1)) if m else None, "plan": out}


def render_rls(r):
    L = [header(r, f"{r['shops']:,} bench shops; pgbench {r['connections']} clients, {r['rounds']} runs of "
                   f"{r['seconds']} s per row, `-M prepared`")]
    L.append("")
    L.append("The dashboard request's transaction (BEGIN READ ONLY, session statement, a role switch, the dashboard "
             "statement, COMMIT) as the app's login role, switched either to the shop owner role (row level "
             f"security applies, as in production) or to `{r['bypass_role']}`, a bench-only role with BYPASSRLS "
             "that holds the owner role's grants, created and dropped by the run. Same statements, schema and "
             "session. Both variants run **in the same pgbench run** as two scripts of equal weight, so they meet "
             "the same load at the same moments (separate runs on this shared machine differed by more than the "
             "10 % being measured). RLS cost = 1 − latency without RLS / latency with it (= 1 − tps ratio).")
    L.append("")
    L.append("| shops | transaction ms, RLS | transaction ms, BYPASSRLS | RLS cost | target | dashboard statement ms, "
             "RLS / bypass | EXPLAIN ANALYZE ms, RLS / bypass |")
    L.append("|---|---:|---:|---:|---|---:|---:|")
    for c in r["cases"]:
        e = c.get("explain")
        ex = f"{e['rls']['ms']} / {e['bypass']['ms']}" if e else "—"
        L.append(f"| {c['label']} | {c['latency_ms']['rls']:.2f} | {c['latency_ms']['bypass']:.2f} | "
                 f"**{c['cost'] * 100:.1f} %** | ≤ 10 %: {'met' if c['cost'] <= 0.10 else '**missed**'} | "
                 f"{c['dashboard_ms']['rls']:.2f} / {c['dashboard_ms']['bypass']:.2f} | {ex} |")
    return "\n".join(L)


# ----------------------------------------------------------------------------------------------
# memory


def cmd_memory(args):
    admin, machine, host, port = base(args)
    all_shops = shops(admin, args.shops)
    indexes = [i for i, _, _ in all_shops]
    with tempfile.TemporaryDirectory() as wd:
        all_file = os.path.join(wd, "all.txt")
        write_cookies(all_file, indexes)
        sampler = Sampler(admin, args.server_pid, every=2.0)
        sampler.start()
        res = run_wrk(args.base_url, "/dashboard", all_file, DASHBOARD_MARKER, args.seconds, args.connections, wd)
        samples = sampler.stop()
    run = {"label": args.label, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine, "wrk": res, "samples": samples, "backends_seen": len(sampler.pids_seen),
           "server_rss_kb": summary(samples, "server_rss_kb"), "pss_kb": summary(samples, "pss_kb"),
           "private_kb": summary(samples, "private_kb"), "shops": len(indexes), "seconds": args.seconds,
           "connections": args.connections}
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, f"memory-{args.slot}.json"), "w", encoding="utf-8") as f:
        json.dump(run, f, indent=2, default=str)
    print(f"==> {args.label}: {res['rps']:.0f} req/s, server RSS max {mb(run['server_rss_kb']['max'])} MB, "
          f"backends Pss max {mb(run['pss_kb']['max'])} MB, private max {mb(run['private_kb']['max'])} MB, "
          f"{run['backends_seen']} backends seen", flush=True)
    sys.exit(0 if res["bad"] == 0 and res["wrong_shop"] == 0 else 1)


def cmd_memory_report(args):
    runs = []
    for slot in args.slots.split(","):
        with open(os.path.join(args.out_dir, f"memory-{slot}.json"), encoding="utf-8") as f:
            runs.append(json.load(f))
    report = {"date": runs[0]["date"], "machine": runs[0]["machine"], "runs": runs}
    finish(args, "memory", report, render_memory, True)


def render_memory(r):
    first = r["runs"][0]
    L = [header(r, f"{first['shops']:,} bench shops; GET /dashboard with a random shop's session per request, wrk "
                   f"{first['connections']} connections for {first['seconds']} s per run, a fresh server each run, "
                   "samples every 2 s")]
    L.append("")
    L.append("Server = VmRSS of `stock serve`. Backends = the app's PostgreSQL connections (application_name "
             "`stock`), summed over those alive at each sample: Pss (their share of every page they map, shared "
             "buffers included) and private memory (their own: catalog and plan caches, work memory). Targets: the "
             "server under 100 MB; PostgreSQL memory bounded.")
    L.append("")
    L.append("| pool setting | req/s | server RSS max | backends Pss max / at the end | backends private max / at the "
             "end | backends opened | checked |")
    L.append("|---|---:|---:|---:|---:|---:|---|")
    for x in r["runs"]:
        w = x["wrk"]
        L.append(f"| {x['label']} | {w['rps']:.0f} | {mb(x['server_rss_kb']['max'])} MB | "
                 f"{mb(x['pss_kb']['max'])} / {mb(x['pss_kb']['last'])} MB | {mb(x['private_kb']['max'])} / "
                 f"{mb(x['private_kb']['last'])} MB | {x['backends_seen']} | {w['checked']:,} responses, "
                 f"{w['bad']} bad, {w['wrong_shop']} naming another shop |")
    L.append("")
    for x in r["runs"]:
        pts = x["samples"][:: max(1, len(x["samples"]) // 8)]
        L.append(f"{x['label']}, backends' private MB over time: " +
                 ", ".join(f"{p['t']:.0f} s {mb(p['private_kb'])}" for p in pts) + ".")
    return "\n".join(L)


# ----------------------------------------------------------------------------------------------
# signup


def spare_ids(admin):
    return {int(r[0]) for r in admin.rows("select id from app.tenants where status = 'spare'") if r and r[0]}


def cmd_signup(args):
    """One pass: --slot none (spares dropped first: every shop is created in the request) or
    --slot spares (run after `stock tenant spares --keep N`: every sign-up should claim one). The
    spares pass renders both passes in one section."""
    admin, machine, host, port = base(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    if args.slot == "none":
        # leftovers of an earlier run would be claimed: drop them (nobody's shops, by definition)
        for sid in sorted(spare_ids(admin)):
            admin.text(f"begin; drop schema if exists tenant_{sid} cascade; "
                       f"delete from app.tenants where id = {sid} and status = 'spare'; commit;")
    spares_before = spare_ids(admin)
    n_shops = int(admin.rows("select count(*) from app.tenants where status <> 'spare'")[0][0])
    run = started.strftime("%Y%m%d%H%M%S")
    times, problems, claimed = [], [], 0
    for k in range(args.signups):
        c = sb.Client(host, port)
        status, _, body = c.request("GET", "/signup")
        m = re.search(rb'name="csrf" value="([^"]*)"', body)
        if status != 200 or not m:
            problems.append(f"GET /signup: {status}, csrf {'found' if m else 'missing'}")
            continue
        name = f"Alta {run} {k:03d}"
        form = urllib.parse.urlencode({
            "csrf": html.unescape(m.group(1).decode()), "shop_name": name, "display_name": f"Persona {k}",
            "email": f"signup-{run}-{k}@scale.bench", "password": "bench-password-123",
            "password_confirm": "bench-password-123"})
        t0 = time.perf_counter()
        status, resp, _ = c.request("POST", "/signup", body=form,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        ms = (time.perf_counter() - t0) * 1000
        if status != 303 or resp.getheader("Location") != "/dashboard" or "stock_session" not in c.cookies:
            problems.append(f"POST /signup {k}: {status} to {resp.getheader('Location')}")
            continue
        status, _, body = c.request("GET", "/dashboard")
        if status != 200 or f'<span class="shop">{name}</span>'.encode() not in body:
            problems.append(f"the dashboard after sign-up {k} does not name {name} ({status})")
            continue
        c.close()
        times.append(ms)
        got = admin.rows(f"select id from app.tenants where name = '{name}'")
        if got and got[0] and int(got[0][0]) in spares_before:
            claimed += 1
    if args.slot == "spares" and claimed < len(times):
        problems.append(f"only {claimed} of {len(times)} sign-ups claimed a spare (make more first)")
    if args.slot == "none" and claimed:
        problems.append(f"{claimed} sign-ups claimed a spare in the pass without spares")
    # the database part alone: app_private.sign_up through psql, rolled back (a claimed spare
    # stays a spare)
    db_ms = []
    hash_ = admin.rows("select password_hash from app.users where email = 'owner@demo.test'")[0][0]
    for k in range(args.db_signups):
        out = admin.text("\\timing on\nbegin;\n"
                         f"select app_private.sign_up('Alta sql {k}', 'alta-sql-{k}', 'sql-{run}-{k}@scale.bench', "
                         f"'Persona', '{hash_}', 'es', sha256(convert_to('x{run}{k}', 'UTF8')), interval '1 hour', "
                         "null, null);\nrollback;\n")
        m = re.findall(r"Time: ([0-9.]+) ms", out)
        if len(m) >= 2:
            db_ms.append(float(m[1]))
    # where the database part goes: function timings of one sign-up (track_functions, rolled back)
    rows = admin.rows("set track_functions = 'all';\nbegin;\n"
                      f"select app_private.sign_up('Alta perfil', 'alta-perfil', 'prof-{run}@scale.bench', 'Persona', "
                      f"'{hash_}', 'es', sha256(convert_to('p{run}', 'UTF8')), interval '1 hour', null, null) "
                      "is not null;\n"
                      "select schemaname || '.' || funcname, calls, round(total_time::numeric, 1), "
                      "round(self_time::numeric, 1) from pg_stat_xact_user_functions order by total_time desc;\n"
                      "rollback;\n")
    profile = [r for r in rows if len(r) == 4]
    q = statistics.quantiles(times, n=20, method="inclusive") if len(times) >= 2 else [float("nan")] * 19
    report = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine, "shops_before": n_shops,
              "slot": args.slot, "spares_before": len(spares_before), "claimed": claimed,
              "provision_note": args.label,
              "signups": len(times), "http_ms": times, "median": statistics.median(times) if times else float("nan"),
              "p95": q[18], "db_ms": db_ms, "db_median": statistics.median(db_ms) if db_ms else float("nan"),
              "problems": problems, "profile": profile}
    ok = not problems and report["median"] == report["median"]
    if args.slot == "none":
        report["loadavg_end"] = os.getloadavg()
        os.makedirs(args.out_dir, exist_ok=True)
        with open(os.path.join(args.out_dir, "signup-none.json"), "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2, default=str)
        print(f"signup without spares: median {report['median']:.0f} ms over {len(times)} sign-ups")
        sys.exit(0 if ok else 1)
    try:
        with open(os.path.join(args.out_dir, "signup-none.json"), encoding="utf-8") as f:
            report["without"] = json.load(f)
    except OSError:
        report["without"] = None
    finish(args, "signup", report, render_signup, ok)


def render_signup(r):
    w = r.get("without")
    L = [header(r, f"{r['shops_before']:,} shops in the database before the sign-ups of the spares pass")]
    L.append("")
    L.append("Each sign-up: GET /signup (the form and its CSRF token, a fresh client), then POST /signup with shop "
             "name, name, e-mail and password, answered 303 to /dashboard with a session cookie; the dashboard is "
             "then fetched and must name the new shop. Timed: the POST alone. Two passes in this run, each with "
             "its own `stock serve`: **without spares** (leftover spares dropped, `STOCK_SPARE_SHOPS=0`: the "
             "schema is created in the request, as before issue 8), then **with spares** made first by "
             f"`stock tenant spares` ({r.get('provision_note') or 'see the log'}; the server keeps 2 more), "
             "so that every sign-up claims one. The database part: `app_private.sign_up` alone through psql "
             "(`\\timing`, each rolled back; with spares present it claims one, and the rollback returns it).")
    L.append("")
    L.append("| what | n | median | p95 | max | target |")
    L.append("|---|---:|---:|---:|---:|---|")

    def http_row(label, x):
        t = x["http_ms"]
        return (f"| {label} | {len(t)} | **{x['median']:.0f}** | {x['p95']:.0f} | "
                f"{max(t) if t else float('nan'):.0f} | median < 150 ms: {'met' if x['median'] < 150 else '**missed**'} |")

    def db_row(label, x):
        d = x["db_ms"]
        if not d:
            return None
        p95 = statistics.quantiles(d, n=20, method='inclusive')[18] if len(d) >= 2 else d[0]
        return f"| {label} | {len(d)} | {x['db_median']:.0f} | {p95:.0f} | {max(d):.0f} | — |"

    if w:
        L.append(http_row("POST /signup over HTTP, without spares (ms)", w))
    L.append(http_row(f"POST /signup over HTTP, claiming a spare (ms; {r['claimed']} of {r['signups']} claimed)", r))
    db_rows = [("`app_private.sign_up` alone, without spares (ms)", w)] if w else []
    db_rows.append(("`app_private.sign_up` alone, claiming a spare (ms)", r))
    for label, x in db_rows:
        row = db_row(label, x)
        if row:
            L.append(row)
    if w and w["median"] == w["median"] and r["median"] == r["median"]:
        L.append("")
        L.append(f"Median with spares / without, in this run: HTTP **{r['median'] / w['median']:.2f}** "
                 f"({w['median']:.0f} → {r['median']:.0f} ms)"
                 + (f", the database part {r['db_median'] / w['db_median']:.3f} "
                    f"({w['db_median']:.0f} → {r['db_median']:.1f} ms)."
                    if w.get("db_ms") and r.get("db_ms") else "."))
    if r.get("profile"):
        L.append("")
        L.append("One `app_private.sign_up` claiming a spare with `track_functions = 'all'` (rolled back), the "
                 "functions taking the most time (ms, including the functions they call / their own):")
        L.append("")
        L.append("| function | calls | total ms | own ms |")
        L.append("|---|---:|---:|---:|")
        for name, calls, total, own in r["profile"][:8]:
            L.append(f"| `{name}` | {calls} | {total} | {own} |")
    problems = r["problems"] + ((w or {}).get("problems") or [])
    if problems:
        L.append("")
        L.append("**Problems**: " + "; ".join(problems[:10]))
    return "\n".join(L)


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["random", "rls", "memory", "memory-report", "signup"])
    ap.add_argument("--base-url", default="")
    ap.add_argument("--admin-url", default="")
    ap.add_argument("--app-url", default="")
    ap.add_argument("--role-prefix", default="stockbench")
    ap.add_argument("--shops", type=int, default=1000)
    ap.add_argument("--one-shop", type=int, default=500)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--pg-seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--label", default="")
    ap.add_argument("--slot", default="a")
    ap.add_argument("--slots", default="")
    ap.add_argument("--signups", type=int, default=40)
    ap.add_argument("--db-signups", type=int, default=10)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--doc", default="")
    ap.add_argument("--build", default="")
    args = ap.parse_args()
    args.one_shop = min(args.one_shop, args.shops)
    {"random": cmd_random, "rls": cmd_rls, "memory": cmd_memory, "memory-report": cmd_memory_report,
     "signup": cmd_signup}[args.command](args)


if __name__ == "__main__":
    main()
