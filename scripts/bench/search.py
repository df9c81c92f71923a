#!/usr/bin/env python3
"""Catalog search benchmark (scenario `search` of scripts/bench.sh). Python 3 standard library only.

Against a running `stock serve` whose demo shop holds the seeded catalog, it:
  1. builds the query plan: search terms per kind, and for each the expected outcome, read from the
     database as the superuser (SKUs and barcodes are sampled from the seeded products);
  2. logs in as the shop owner and runs GET /products?q=<term> over HTTP, sequentially
     (concurrency 1, latency as a person feels it) and then at concurrency 4, checking every response
     (status 200; an exact SKU or barcode lists that product first; a term with matches lists rows;
     a term without matches shows the empty message);
  3. runs the same SQL the request runs (session lookup, list_products, categories) with pgbench,
     connected as the web app's login role, in the same transaction shape (BEGIN READ ONLY ... COMMIT);
  4. runs EXPLAIN (ANALYZE, BUFFERS) of the exact query for every kind whose HTTP p95 misses the target;
  5. prints a Markdown table, writes the raw numbers as JSON and rewrites the section between
     <!-- search:begin --> and <!-- search:end --> of docs/BENCHMARKS.md.

The SQL is a copy of src/domain/catalog.rs (list_products, categories) and src/db/tx.rs
(RESOLVE_AND_SET); `check_sql_copy` warns when those sources no longer contain it.
"""

import argparse
import concurrent.futures
import datetime
import hashlib
import html
import http.client
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# ----------------------------------------------------------------------------------------------
# the SQL of one GET /products request (copied from the sources; see check_sql_copy)

RESOLVE_AND_SET = """\
select s.user_id, s.email, s.display_name, s.user_locale, s.tenant_id, s.tenant_name, s.tenant_slug,
       s.schema_name, s.tenant_status, s.member_role,
       set_config('app.user_id', s.user_id::text, true),
       set_config('app.tenant_id', case when s.tenant_status = 'active' then s.tenant_id::text else '' end, true),
       set_config('search_path', case when s.tenant_status = 'active'
                                      then quote_ident(s.schema_name) || ', app' else 'app' end, true),
       set_config('role', s.db_role, true)
  from app_private.resolve_session($1) s"""

PRODUCT_COLUMNS = """p.id, p.sku, p.barcode, p.name, p.description, p.category_id, c.name, p.unit_id, u.code,
       u.divisible, p.price, p.cost, p.min_stock, p.stock, p.track_stock, p.active,
       exists (select 1 from product_images i where i.product_id = p.id)
  from products p join units u on u.id = p.unit_id left join categories c on c.id = p.category_id"""

CATEGORIES = """select c.id, c.name from categories c order by app.fold(c.name), c.id"""

# fragments that must still be in the sources for the copy above to be the request's SQL
SQL_FRAGMENTS = {
    "src/domain/catalog.rs": [
        "where (p.sku = ${k} or p.barcode = ${k}){filters} order by p.id",
        " and p.name_search like app.fold(${pat}) and p.sku <> ${k} and p.barcode is distinct from ${k}",
        "Sort::Name if q.chars().count() >= 3 => \"p.name_search || '', p.id\"",
        'Sort::Name => "p.name_search, p.id"',
        "exists (select 1 from product_images i where i.product_id = p.id)",
        "select c.id, c.name from categories c order by app.fold(c.name), c.id",
        "pub const PAGE_SIZE: i64 = 50;",
    ],
    "src/db/tx.rs": ["from app_private.resolve_session($1) s"],
}


def exact_sql(active_all, q="$1", active="$3"):
    """The exact SKU/barcode lookup list_products runs first on page 0."""
    sql = f"select {PRODUCT_COLUMNS} where (p.sku = {q} or p.barcode = {q})"
    if not active_all:
        sql += f" and p.active = {active}"
    return sql + " order by p.id"


def list_sql(active_all, q="$1", pattern="$2", active="$3", term_len=3):
    """The name statement list_products builds for ?q=<term>[&active=all], default sort, first page."""
    sql = f"select {PRODUCT_COLUMNS} where true"
    if not active_all:
        sql += f" and p.active = {active}"
    sql += f" and p.name_search like app.fold({pattern}) and p.sku <> {q} and p.barcode is distinct from {q}"
    order = "p.name_search || '', p.id" if term_len >= 3 else "p.name_search, p.id"
    sql += f" order by {order} limit 51 offset 0"
    return sql


def like_pattern(q):
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def check_sql_copy():
    problems = []
    for rel, fragments in SQL_FRAGMENTS.items():
        try:
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            problems.append(f"{rel}: {e}")
            continue
        for frag in fragments:
            if frag not in text:
                problems.append(f"{rel} no longer contains: {frag}")
    return problems


# ----------------------------------------------------------------------------------------------
# kinds of search

# (kind, label, fixed terms or None for sampled ones, active=all?)
NAME_KINDS = [
    ("word", "whole word", ["yerba", "galletitas", "aceite", "detergente", "shampoo", "chocolate", "leche", "vino",
                            "con"]),
    ("part", "part of a word", ["erba", "galle", "ceit", "tergen", "ocola", "amp", "anzan", "ermel"]),
    ("accent", "accent-folded", ["nandu", "azucar", "jamon", "limon", "cafe", "panales", "guemes", "anelo"]),
    ("two", "two letters", ["ya", "de", "ca", "zo", "ji", "ñu"]),
    ("none", "no match", ["xilofono", "qwerty", "yerbz", "kiwi", "zzz", "frambuesa"]),
]
EXACT_KINDS = [("sku", "exact SKU"), ("barcode", "exact barcode")]
ALL_KIND = ("all", "word, &active=all", ["yerba", "galletitas", "aceite", "detergente", "vino", "leche"])
KIND_ORDER = ["word", "part", "accent", "two", "none", "sku", "barcode", "all"]


class Psql:
    def __init__(self, url):
        self.url = url

    def rows(self, sql, *args):
        """Runs SQL (psql variables :'v1', :'v2' ... bound to args) and returns tab-separated rows."""
        cmd = ["psql", "-X", "-w", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", self.url]
        for i, a in enumerate(args, 1):
            cmd += ["-v", f"v{i}={a}"]
        out = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}\n{sql}")
        return [line.split("\t") for line in out.stdout.splitlines() if line != ""]

    def text(self, sql):
        cmd = ["psql", "-X", "-w", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url]
        out = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout


def build_plan(admin, schema, samples):
    """Terms per kind with what each must show. Expected counts come from the same predicate as the
    application (superuser, no RLS: the seeded shop is the only one in the schema anyway)."""
    plan = []
    for kind, label, terms in NAME_KINDS + [ALL_KIND]:
        active_all = kind == "all"
        entries = []
        for term in terms:
            (n,) = admin.rows(
                f"select count(*) from {schema}.products p where p.name_search like app.fold(:'v1')"
                + ("" if active_all else " and p.active"),
                like_pattern(term),
            )[0]
            entries.append({"q": term, "matches": int(n)})
        plan.append({"kind": kind, "label": label, "active_all": active_all, "terms": entries})
    # sampled exact lookups: active seeded products spread over the table, same sample every run
    rows = admin.rows(
        f"select sku, barcode from {schema}.products where active and sku ~ '-[0-9]{{6}}$' "
        f"order by hashint4(id::int), id limit {int(samples)}"
    )
    plan.insert(5, {"kind": "sku", "label": "exact SKU", "active_all": False,
                    "terms": [{"q": sku, "expect_sku": sku} for sku, _ in rows]})
    plan.insert(6, {"kind": "barcode", "label": "exact barcode", "active_all": False,
                    "terms": [{"q": bc, "expect_sku": sku} for sku, bc in rows]})
    return plan


# ----------------------------------------------------------------------------------------------
# HTTP


class Client:
    def __init__(self, host, port, timeout=15.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None
        self.cookies = {}

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method, path, body=None, headers=None):
        if self.conn is None:
            self._connect()
        h = {"Accept-Language": "es-AR,es;q=0.9", "User-Agent": "stock-bench/1"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        h.update(headers or {})
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=h)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # a keep-alive connection the server closed: reconnect once
                self.conn.close()
                self._connect()
                if attempt:
                    raise
        for c in resp.msg.get_all("Set-Cookie") or []:
            name, _, rest = c.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, resp, data

    def close(self):
        if self.conn is not None:
            self.conn.close()


def login(host, port, email, password):
    c = Client(host, port)
    status, _, body = c.request("GET", "/login")
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    m = re.search(rb'name="csrf" value="([^"]*)"', body)
    if not m:
        raise RuntimeError("GET /login: no csrf input in the form")
    form = urllib.parse.urlencode({"csrf": html.unescape(m.group(1).decode()), "email": email, "password": password})
    status, resp, _ = c.request("POST", "/login", body=form,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    if status != 303 or "stock_session" not in c.cookies:
        raise RuntimeError(f"POST /login answered {status} (no session cookie): wrong credentials or throttled?")
    c.close()
    return c.cookies


def search_path(term, active_all):
    qs = {"q": term}
    if active_all:
        qs["active"] = "all"
    return "/products?" + urllib.parse.urlencode(qs)


CODE_RE = re.compile(rb"<td><code>([^<]*)</code></td>")


def check_response(status, body, term):
    """None when the page is what the term must give, else the reason."""
    if status != 200:
        return f"status {status}"
    if "expect_sku" in term:
        codes = CODE_RE.findall(body)
        if not codes:
            return f"no rows for exact {term['q']}"
        if codes[0].decode() != term["expect_sku"]:
            return f"first row {codes[0].decode()} is not {term['expect_sku']}"
        return None
    rows = len(CODE_RE.findall(body))
    want = min(term["matches"], 50)
    if rows != want:
        return f"{rows} rows listed, expected {want}"
    return None


def run_http(cookies, host, port, jobs, concurrency, deadline):
    """jobs: list of (kind, term dict, path). Returns (per-kind latencies ms, failures, wall seconds)."""
    results = {}
    failures = []
    lock = threading.Lock()
    chunks = [jobs[i::concurrency] for i in range(concurrency)]

    def worker(chunk):
        c = Client(host, port)
        c.cookies = dict(cookies)
        local = []
        for kind, term, path in chunk:
            if time.monotonic() > deadline:
                break
            t0 = time.perf_counter_ns()
            status, _, body = c.request("GET", path)
            ms = (time.perf_counter_ns() - t0) / 1e6
            why = check_response(status, body, term)
            local.append((kind, ms, why, term["q"], len(body)))
        c.close()
        with lock:
            for kind, ms, why, q, size in local:
                r = results.setdefault(kind, {"ms": [], "bytes": 0, "by_term": {}})
                r["ms"].append(ms)
                r["bytes"] += size
                r["by_term"].setdefault(q, []).append(ms)
                if why:
                    failures.append(f"{kind} q={q!r}: {why}")

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as ex:
        list(ex.map(worker, chunks))
    return results, failures, time.perf_counter() - t0


def jobs_for(plan, per_kind, kinds):
    jobs = []
    for k in plan:
        if k["kind"] not in kinds:
            continue
        terms = k["terms"]
        for i in range(per_kind):
            t = terms[i % len(terms)]
            jobs.append((k["kind"], t, search_path(t["q"], k["active_all"])))
    return jobs


# ----------------------------------------------------------------------------------------------
# SQL only (pgbench)


def pgbench_script(active_all, term_len):
    # pgbench sends :vars as parameters of an unnamed prepared statement (-M extended), planned with
    # the actual values each time, as tokio-postgres does for the request's own statements.
    body = [
        "begin read only;",
        RESOLVE_AND_SET.replace("$1", ":th").replace("\n", " ") + ";",
        exact_sql(active_all, ":q", ":active").replace("\n", " ") + ";",
        list_sql(active_all, ":q", ":pat", ":active", term_len).replace("\n", " ") + ";",
        CATEGORIES.replace("\n", " ") + ";",
        "commit;",
    ]
    return "\n".join(body) + "\n"


def run_pgbench(app_url, plan, per_kind, token_hash_hex, workdir, kinds, deadline):
    """Per kind: transaction latencies (ms) and pgbench's per-statement averages (ms)."""
    out = {}
    for k in plan:
        if k["kind"] not in kinds:
            continue
        script = os.path.join(workdir, f"search_{'all' if k['active_all'] else 'active'}.sql")
        with open(script, "w", encoding="utf-8") as f:
            f.write(pgbench_script(k["active_all"], min(len(t["q"]) for t in k["terms"])))
        terms = k["terms"]
        n_each = max(1, per_kind // len(terms))
        lat, stmt_sums = [], {}
        for t in terms:
            if time.monotonic() > deadline:
                break
            prefix = os.path.join(workdir, "pgb")
            for old in os.listdir(workdir):
                if old.startswith("pgb."):
                    os.remove(os.path.join(workdir, old))
            # a fresh connection plans its first statements with cold catalog caches: run WARM more
            # transactions and drop them from the log (the app's pooled connections are warm)
            cmd = ["pgbench", "-n", "-M", "extended", "-c", "1", "-j", "1", "-t", str(n_each + PGBENCH_WARM), "-r",
                   "-f", script, "-l", "--log-prefix", prefix,
                   "-D", f"th=\\x{token_hash_hex}", "-D", f"q={t['q']}", "-D", f"pat={like_pattern(t['q'])}",
                   "-D", "active=true", app_url]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=workdir)
            if r.returncode != 0:
                raise RuntimeError(f"pgbench failed for {k['kind']} q={t['q']!r}:\n{r.stderr}\n{r.stdout}")
            for name in os.listdir(workdir):
                if name.startswith("pgb."):
                    with open(os.path.join(workdir, name)) as f:
                        lines = [line.split() for line in f][PGBENCH_WARM:]
                    lat += [int(parts[2]) / 1000.0 for parts in lines if len(parts) >= 3]
            # per-statement averages, in script order: the lines after "statement latencies"
            stmts = r.stdout.split("statement latencies in milliseconds", 1)[-1].splitlines()[1:]
            found = [float(m.group(1)) for m in (re.match(r"\s+([0-9.]+)\s", line) for line in stmts) if m]
            for name, v in zip(STATEMENT_NAMES, found):
                stmt_sums.setdefault(name, []).append(v)
        out[k["kind"]] = {
            "ms": lat,
            "statements": {s: statistics.mean(v) for s, v in stmt_sums.items()},
        }
    return out


PGBENCH_WARM = 5
STATEMENT_NAMES = ["begin", "session", "exact lookup", "list_products", "categories", "commit"]


# ----------------------------------------------------------------------------------------------
# EXPLAIN


def explain(admin, schema, tenant_id, user_id, role, term, active_all):
    q = term.replace("'", "''")
    pat = like_pattern(term).replace("'", "''")
    sql = list_sql(active_all, f"'{q}'", f"'{pat}'", "true", len(term))
    text = f"""
begin read only;
select set_config('app.user_id', '{user_id}', true), set_config('app.tenant_id', '{tenant_id}', true),
       set_config('search_path', '{schema}, app', true), set_config('role', '{role}', true) \\g /dev/null
explain (analyze, buffers, verbose off, costs on, timing on)
{sql};
explain (analyze, buffers)
{CATEGORIES};
commit;
"""
    return admin.text(text)


# ----------------------------------------------------------------------------------------------
# statistics and report


def pct(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    k = (len(sorted_ms) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(sorted_ms) - 1)
    return sorted_ms[lo] + (sorted_ms[hi] - sorted_ms[lo]) * (k - lo)


def summary(ms):
    s = sorted(ms)
    return {
        "n": len(s),
        "p50": pct(s, 50),
        "p95": pct(s, 95),
        "p99": pct(s, 99),
        "max": s[-1] if s else float("nan"),
        "mean": statistics.mean(s) if s else float("nan"),
    }


def f1(x):
    return "–" if x != x else (f"{x:.1f}" if x < 100 else f"{x:.0f}")


def machine_info(admin):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        mem = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()[1].split()[1]
    except Exception:
        pass
    pg = admin.rows("select version()")[0][0]
    pgv = re.sub(r" on .*", "", pg)
    settings = dict(admin.rows("select name, setting || coalesce(unit, '') from pg_settings "
                               "where name in ('shared_buffers', 'work_mem', 'jit', 'fsync', 'max_parallel_workers_per_gather')"))
    commit = "unknown"
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        if dirty:
            commit += " (with uncommitted changes)"
    except Exception:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "postgres": pgv,
        "pg_settings": settings,
        "commit": commit,
        "python": platform.python_version(),
        "loadavg": os.getloadavg(),
    }


def render(report, target_ms):
    m = report["machine"]
    lines = []
    lines.append(f"Run of {report['date']} (commit {m['commit']}; {m.get('build', '?')}): "
                 f"{report['products']:,} products in the shop, "
                 f"{m['nproc']} CPUs ({m['cpu']}), {m['memory']} RAM, {m['postgres']} "
                 f"(shared_buffers {m['pg_settings'].get('shared_buffers', '?')}, "
                 f"jit {m['pg_settings'].get('jit', '?')}); load average {m['loadavg'][0]:.2f} "
                 f"before the run, {report['loadavg_end'][0]:.2f} after.")
    lines.append("")
    lines.append(f"Target: p95 < {target_ms:g} ms per kind of search. Latencies in milliseconds; HTTP = request sent "
                 "to last byte received (keep-alive, logged in as the owner); SQL = the same statements "
                 "through pgbench as the app's login role.")
    lines.append("")
    lines.append("| search | terms | HTTP n | p50 | p95 | p99 | max | req/s | SQL p50 | SQL p95 | HTTP/SQL p50 | p95 < target |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for row in report["rows"]:
        h, s = row["http"], row.get("sql") or {}
        ratio = h["p50"] / s["p50"] if s.get("p50") else float("nan")
        ok = "yes" if h["p95"] < target_ms else "**no**"
        lines.append(
            f"| {row['label']} | {row['terms_shown']} | {h['n']} | {f1(h['p50'])} | {f1(h['p95'])} | {f1(h['p99'])} | "
            f"{f1(h['max'])} | {row['rps']:.0f} | {f1(s.get('p50', float('nan')))} | {f1(s.get('p95', float('nan')))} | "
            f"{ratio:.2f} | {ok} |")
    o, so = report["overall"], report.get("overall_sql") or {}
    ratio = o["p50"] / so["p50"] if so.get("p50") else float("nan")
    lines.append(
        f"| **all kinds** | | {o['n']} | {f1(o['p50'])} | {f1(o['p95'])} | {f1(o['p99'])} | {f1(o['max'])} | "
        f"{report['overall_rps']:.0f} | {f1(so.get('p50', float('nan')))} | {f1(so.get('p95', float('nan')))} | "
        f"{ratio:.2f} | {'yes' if o['p95'] < target_ms else '**no**'} |")
    if report.get("concurrent"):
        c = report["concurrent"]
        lines.append("")
        lines.append(f"Concurrency {c['concurrency']} (same mix, {c['n']} requests, one keep-alive connection per client): "
                     f"p50 {f1(c['p50'])}, p95 {f1(c['p95'])}, p99 {f1(c['p99'])}, max {f1(c['max'])} ms; "
                     f"{c['rps']:.0f} requests/s (sequential: {report['overall_rps']:.0f}/s).")
        lines.append("")
        lines.append("| search (concurrency %d) | p50 | p95 | p99 | max |" % c["concurrency"])
        lines.append("|---|---:|---:|---:|---:|")
        for kind in KIND_ORDER:
            if kind in c["by_kind"]:
                k = c["by_kind"][kind]
                lines.append(f"| {report['labels'][kind]} | {f1(k['p50'])} | {f1(k['p95'])} | {f1(k['p99'])} | {f1(k['max'])} |")
    if report.get("statements"):
        st = report["statements"]
        lines.append("")
        lines.append("Where the SQL time goes (pgbench per-statement mean, ms, over all kinds): " +
                     ", ".join(f"{k} {v:.2f}" for k, v in st.items()) + ".")
    if report.get("failures"):
        lines.append("")
        lines.append(f"**{len(report['failures'])} responses were wrong** (see the JSON): the numbers above do not count.")
    return "\n".join(lines)


def update_doc(path, section, name="search"):
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    try:
        with open(path, encoding="utf-8") as f:
            doc = f.read()
    except FileNotFoundError:
        doc = f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in doc or end not in doc:
        doc = doc.rstrip("\n") + f"\n\n{begin}\n{end}\n"
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{head}{begin}\n{section}\n{end}{tail}")


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", required=True, help="http://127.0.0.1:18090")
    ap.add_argument("--admin-url", required=True, help="superuser URL of the bench database")
    ap.add_argument("--app-url", required=True, help="URL of the web app's login role (for pgbench)")
    ap.add_argument("--schema", required=True)
    ap.add_argument("--tenant-id", required=True)
    ap.add_argument("--shop-role", required=True, help="database role of the shop owner")
    ap.add_argument("--email", default="owner@demo.test")
    ap.add_argument("--password", default=os.environ.get("STOCK_DEMO_PASSWORD", "demo-password"))
    ap.add_argument("--requests", type=int, default=300, help="measured HTTP requests per kind")
    ap.add_argument("--warmup", type=int, default=20, help="unmeasured requests per kind first")
    ap.add_argument("--sql-requests", type=int, default=300, help="pgbench transactions per kind")
    ap.add_argument("--concurrency", type=int, default=4, help="second HTTP pass (0: skip)")
    ap.add_argument("--samples", type=int, default=50, help="SKUs and barcodes sampled")
    ap.add_argument("--target-ms", type=float, default=20.0)
    ap.add_argument("--budget-seconds", type=float, default=420.0, help="stop measuring after this long")
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "target", "bench"))
    ap.add_argument("--doc", default=os.path.join(ROOT, "docs", "BENCHMARKS.md"), help="'' to leave it")
    ap.add_argument("--kinds", default=",".join(KIND_ORDER))
    ap.add_argument("--build", default="release build of the work tree", help="what binary is measured")
    args = ap.parse_args()

    started = time.monotonic()
    deadline = started + args.budget_seconds
    kinds = [k for k in args.kinds.split(",") if k]
    os.makedirs(args.out_dir, exist_ok=True)
    for old in os.listdir(args.out_dir):
        if old.startswith("explain-search-"):
            os.remove(os.path.join(args.out_dir, old))  # from an earlier run
    u = urllib.parse.urlparse(args.base_url)
    host, port = u.hostname, u.port or 80
    admin = Psql(args.admin_url)

    for p in check_sql_copy():
        print(f"warning: {p}\n  -> the SQL-only figures may no longer be the request's SQL; update "
              f"scripts/bench/search.py", file=sys.stderr)

    machine = machine_info(admin)
    machine["build"] = args.build
    if machine["loadavg"][0] > 0.5 * (machine["nproc"] or 1):
        print(f"warning: load average {machine['loadavg'][0]:.2f} on {machine['nproc']} CPUs: something else is "
              "running; the numbers will be noisy", file=sys.stderr)
    (products,) = admin.rows(f"select count(*) from {args.schema}.products")[0]
    plan = build_plan(admin, args.schema, args.samples)
    labels = {k["kind"]: k["label"] for k in plan}
    for k in plan:
        if k["kind"] in kinds and "matches" in k["terms"][0]:
            print(f"    {k['label']:<20} " + ", ".join(f"{t['q']}={t['matches']}" for t in k["terms"]))

    cookies = login(host, port, args.email, args.password)
    token = cookies["stock_session"]
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    (user_id,) = admin.rows("select user_id from app.sessions where token_hash = decode(:'v1', 'hex')", token_hash)[0]

    # warm-up (not measured): every term of every kind once or more
    warm = jobs_for(plan, args.warmup, kinds)
    _, failures, _ = run_http(cookies, host, port, warm, 1, deadline)
    if failures:
        for f in failures[:20]:
            print(f"    wrong response: {f}", file=sys.stderr)
        sys.exit(f"error: {len(failures)} wrong responses during the warm-up; not measuring")

    # sequential, one kind after the other
    print(f"    HTTP, concurrency 1: {args.requests} requests per kind")
    seq, failures, per_kind_wall = {}, [], {}
    for kind in kinds:
        jobs = jobs_for(plan, args.requests, [kind])
        res, fails, wall = run_http(cookies, host, port, jobs, 1, deadline)
        if kind in res:
            seq[kind] = res[kind]
            per_kind_wall[kind] = wall
        failures += fails
        if kind in res:
            s = summary(res[kind]["ms"])
            print(f"      {labels[kind]:<20} p50 {f1(s['p50']):>6}  p95 {f1(s['p95']):>6}  p99 {f1(s['p99']):>6}  "
                  f"max {f1(s['max']):>6} ms  ({s['n']} in {wall:.1f} s)")

    concurrent_report = None
    if args.concurrency > 1 and time.monotonic() < deadline:
        print(f"    HTTP, concurrency {args.concurrency}: the same mix, interleaved")
        jobs = jobs_for(plan, args.requests, kinds)
        # interleave the kinds so that every client runs the whole mix
        jobs = [j for i in range(args.requests) for j in jobs[i::args.requests]]
        res, fails, wall = run_http(cookies, host, port, jobs, args.concurrency, deadline)
        failures += fails
        allms = [x for r in res.values() for x in r["ms"]]
        concurrent_report = dict(summary(allms), concurrency=args.concurrency, rps=len(allms) / wall,
                                 by_kind={k: summary(r["ms"]) for k, r in res.items()})
        print(f"      all kinds            p50 {f1(concurrent_report['p50']):>6}  p95 {f1(concurrent_report['p95']):>6}  "
              f"p99 {f1(concurrent_report['p99']):>6}  max {f1(concurrent_report['max']):>6} ms  "
              f"{concurrent_report['rps']:.0f} req/s")

    sql = {}
    if time.monotonic() < deadline and shutil.which("pgbench"):
        print(f"    SQL only (pgbench as the app role): {args.sql_requests} transactions per kind")
        with tempfile.TemporaryDirectory(prefix="stock-bench-") as wd:
            sql = run_pgbench(args.app_url, plan, args.sql_requests, token_hash, wd, kinds, deadline)
        for kind in kinds:
            if kind in sql:
                s = summary(sql[kind]["ms"])
                print(f"      {labels[kind]:<20} p50 {f1(s['p50']):>6}  p95 {f1(s['p95']):>6}  max {f1(s['max']):>6} ms; "
                      + ", ".join(f"{k} {v:.2f}" for k, v in sql[kind]["statements"].items()))

    rows = []
    for kind in kinds:
        if kind not in seq:
            continue
        k = next(p for p in plan if p["kind"] == kind)
        terms = k["terms"]
        shown = ", ".join(t["q"] for t in terms) if "matches" in terms[0] else f"{len(terms)} sampled"
        h = summary(seq[kind]["ms"])
        rows.append({
            "kind": kind, "label": labels[kind], "terms_shown": shown, "http": h,
            "rps": h["n"] / per_kind_wall[kind],
            "sql": summary(sql[kind]["ms"]) if kind in sql else None,
            "by_term": {q: summary(v) for q, v in seq[kind]["by_term"].items()},
            "bytes_mean": seq[kind]["bytes"] / max(1, h["n"]),
        })
    allms = [x for kind in seq for x in seq[kind]["ms"]]
    allsql = [x for kind in sql for x in sql[kind]["ms"]]
    stmts = {}
    for kind in sql:
        for s, v in sql[kind]["statements"].items():
            stmts.setdefault(s, []).append(v)
    report = {
        "scenario": "search",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "products": int(products),
        "target_ms": args.target_ms,
        "labels": labels,
        "rows": rows,
        "overall": summary(allms),
        "overall_rps": len(allms) / sum(per_kind_wall.values()) if per_kind_wall else float("nan"),
        "overall_sql": summary(allsql) if allsql else None,
        "statements": {s: statistics.mean(v) for s, v in stmts.items()},
        "concurrent": concurrent_report,
        "loadavg_end": os.getloadavg(),
        "failures": failures,
        "plan": plan,
        "settings": {"requests": args.requests, "warmup": args.warmup, "sql_requests": args.sql_requests,
                     "concurrency": args.concurrency},
    }

    # EXPLAIN of the slowest term of every kind that misses the target
    explains = {}
    for row in rows:
        if row["http"]["p95"] >= args.target_ms:
            worst = max(row["by_term"].items(), key=lambda kv: kv[1]["p95"])[0]
            k = next(p for p in plan if p["kind"] == row["kind"])
            try:
                text = explain(admin, args.schema, args.tenant_id, user_id, args.shop_role, worst, k["active_all"])
            except RuntimeError as e:
                text = str(e)
            path = os.path.join(args.out_dir, f"explain-search-{row['kind']}.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(f"-- kind {row['kind']}, term {worst!r} (HTTP p95 {row['http']['p95']:.1f} ms)\n{text}")
            times = re.findall(r"Execution Time: ([0-9.]+) ms", text)
            explains[row["kind"]] = {"term": worst, "file": os.path.relpath(path, ROOT),
                                     "execution_ms": [float(t) for t in times]}
    report["explain"] = explains

    table = render(report, args.target_ms)
    with open(os.path.join(args.out_dir, "search.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1, ensure_ascii=False)
    with open(os.path.join(args.out_dir, "search.md"), "w", encoding="utf-8") as f:
        f.write(table + "\n")
    print()
    print(table)
    if explains:
        print()
        for kind, e in explains.items():
            print(f"    EXPLAIN ANALYZE for {labels[kind]} (term {e['term']!r}): execution "
                  f"{' + '.join(f'{t:.1f}' for t in e['execution_ms'])} ms (list + categories), in {e['file']}")
    if args.doc:
        update_doc(args.doc, table)
        print(f"\n    wrote the search section of {os.path.relpath(args.doc, ROOT)}")
    print(f"    raw numbers: {os.path.relpath(os.path.join(args.out_dir, 'search.json'), ROOT)} "
          f"({time.monotonic() - started:.0f} s)")
    if failures:
        for f in failures[:20]:
            print(f"    wrong response: {f}", file=sys.stderr)
        sys.exit(f"error: {len(failures)} wrong responses")
    if time.monotonic() > deadline:
        print(f"warning: the time budget ({args.budget_seconds:.0f} s) ran out; some kinds have fewer samples",
              file=sys.stderr)


if __name__ == "__main__":
    main()
