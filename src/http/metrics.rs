//! Request metrics kept with atomics and rendered at `/metrics` in the Prometheus text format:
//! requests by route pattern, method and status, latency histograms per route, requests in
//! flight, the pool's state, database errors by SQLSTATE class, and the process's resident memory.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use warp::filters::BoxedFilter;
use warp::http::{header, HeaderMap, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::App;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Distinct route labels kept; later ones are counted as "(other)" so that no client can grow
/// the metrics without bound.
const MAX_ROUTES: usize = 200;

/// The route label of requests that matched no route.
pub const UNMATCHED: &str = "(unmatched)";

#[derive(Default)]
struct RouteStats {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    /// (method, status) → requests
    statuses: Mutex<BTreeMap<(String, u16), u64>>,
}

/// The process's request and error counters (one per `App`).
#[derive(Default)]
pub struct Metrics {
    routes: RwLock<HashMap<String, Arc<RouteStats>>>,
    db_errors: Mutex<BTreeMap<String, u64>>,
    in_flight: AtomicI64,
}

/// Counts a request as in flight until dropped (also when the client goes away mid-request).
pub struct InFlight(Arc<super::AppInner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn start(app: &App) -> InFlight {
        app.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(app.0.clone())
    }

    fn route(&self, route: &str) -> Arc<RouteStats> {
        if let Some(s) = self.routes.read().unwrap_or_else(|e| e.into_inner()).get(route) {
            return s.clone();
        }
        let mut map = self.routes.write().unwrap_or_else(|e| e.into_inner());
        let key = if map.len() >= MAX_ROUTES && !map.contains_key(route) { "(other)" } else { route };
        map.entry(key.to_string()).or_default().clone()
    }

    /// Records one finished request.
    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let stats = self.route(route);
        let secs = elapsed.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                stats.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        stats.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        stats.sum_micros.fetch_add(micros, Ordering::Relaxed);
        *stats
            .statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((method.to_string(), status))
            .or_default() += 1;
    }

    /// Records a database error that failed a request, by SQLSTATE class (first two characters),
    /// or "pool" / "connection" when there is no SQLSTATE.
    pub fn db_error(&self, class: &str) {
        *self.db_errors.lock().unwrap_or_else(|e| e.into_inner()).entry(class.to_string()).or_default() += 1;
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, pool: deadpool_postgres::Status) -> String {
        let mut out = String::with_capacity(4096);
        let routes: Vec<(String, Arc<RouteStats>)> = {
            let map = self.routes.read().unwrap_or_else(|e| e.into_inner());
            let mut v: Vec<_> = map.iter().map(|(k, s)| (k.clone(), s.clone())).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        header_lines(
            &mut out,
            "stock_http_requests_total",
            "counter",
            "HTTP requests by route pattern, method and status.",
        );
        for (route, s) in &routes {
            let statuses = s.statuses.lock().unwrap_or_else(|e| e.into_inner()).clone();
            for ((method, status), n) in statuses {
                let _ = writeln!(
                    out,
                    "stock_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                    escape(route),
                    escape(&method)
                );
            }
        }
        header_lines(
            &mut out,
            "stock_http_request_duration_seconds",
            "histogram",
            "Time from the request's arrival to its response, by route pattern.",
        );
        for (route, s) in &routes {
            let route = escape(route);
            for (i, le) in BUCKETS.iter().enumerate() {
                let n = s.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "stock_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {n}"
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let sum = s.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "stock_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(out, "stock_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(out, "stock_http_request_duration_seconds_count{{route=\"{route}\"}} {count}");
        }
        header_lines(&mut out, "stock_http_requests_in_flight", "gauge", "Requests being served now.");
        let _ = writeln!(out, "stock_http_requests_in_flight {}", self.in_flight.load(Ordering::Relaxed));

        for (name, help, value) in [
            (
                "stock_db_pool_max_size",
                "Largest number of database connections the pool may open.",
                pool.max_size,
            ),
            ("stock_db_pool_size", "Database connections the pool holds now.", pool.size),
            ("stock_db_pool_available", "Idle database connections in the pool.", pool.available),
            ("stock_db_pool_waiting", "Requests waiting for a database connection.", pool.waiting),
        ] {
            header_lines(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        }

        header_lines(
            &mut out,
            "stock_db_errors_total",
            "counter",
            "Database errors that failed a request, by SQLSTATE class (pool: no connection in time).",
        );
        for (class, n) in self.db_errors.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "stock_db_errors_total{{class=\"{}\"}} {n}", escape(class));
        }
        if let Some(rss) = resident_memory_bytes() {
            header_lines(
                &mut out,
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
            );
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        out
    }
}

fn header_lines(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// VmRSS from /proc (Linux); `None` elsewhere.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The route pattern of a request path: numeric segments become `:id`, the language code
/// `:code`, and any other segment that does not look like a fixed word (too long, capitals,
/// escapes) `:param`. Logs and metrics name routes, never the ids or tokens in a path.
pub fn route_pattern(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut prev = "";
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        if seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(":id");
        } else if prev == "lang" {
            out.push_str(":code");
        } else if seg.len() > 32
            || !seg.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        {
            out.push_str(":param");
        } else {
            out.push_str(seg);
        }
        prev = seg;
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// GET /metrics: with `STOCK_METRICS_TOKEN` set, only with `Authorization: Bearer <token>`;
/// without it, only from a loopback peer whose request carries no proxy forwarding header.
pub fn route(app: &App) -> BoxedFilter<(Response,)> {
    let app = app.clone();
    warp::get()
        .and(warp::path!("metrics"))
        .and(warp::addr::remote())
        .and(warp::header::headers_cloned())
        .map(move |peer: Option<SocketAddr>, headers: HeaderMap| {
            if !allowed(&app, peer, &headers) {
                return warp::reply::with_status("metrics: access refused\n", StatusCode::FORBIDDEN)
                    .into_response();
            }
            let mut r = app.metrics.render(app.pools.status()).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        })
        .boxed()
}

fn allowed(app: &App, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    match &app.config.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| constant_time_eq(given.as_bytes(), token.expose().as_bytes())),
        None => {
            let forwarded =
                ["forwarded", "x-forwarded-for", "x-real-ip"].iter().any(|h| headers.contains_key(*h));
            peer.is_some_and(|p| p.ip().is_loopback()) && !forwarded
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_patterns_hide_ids_and_tokens() {
        assert_eq!(route_pattern("/"), "/");
        assert_eq!(route_pattern("/products/42"), "/products/:id");
        assert_eq!(route_pattern("/products/42/image/delete"), "/products/:id/image/delete");
        assert_eq!(route_pattern("/products/export.csv"), "/products/export.csv");
        assert_eq!(route_pattern("/lang/en"), "/lang/:code");
        assert_eq!(route_pattern("/invite/AbCdEf_123"), "/invite/:param");
        assert_eq!(route_pattern("/x/%2e%2e"), "/x/:param");
        assert_eq!(route_pattern(&format!("/t/{}", "a".repeat(40))), "/t/:param");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn routes_beyond_the_cap_share_one_label() {
        let m = Metrics::default();
        for i in 0..MAX_ROUTES + 5 {
            m.observe(&format!("/r{i}"), "GET", 200, Duration::from_millis(1));
        }
        assert_eq!(m.routes.read().expect("lock").len(), MAX_ROUTES + 1);
    }
}
