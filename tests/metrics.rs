//! `/metrics` in the Prometheus text format: every line follows the exposition grammar, request
//! counters and latency histograms move by route pattern and status, the pool's gauges are
//! there, a database error that fails a request is counted by SQLSTATE class, and access is
//! refused to proxied requests and, with STOCK_METRICS_TOKEN, to anyone without the token.
mod common;

use std::collections::HashMap;

use common::{TestApp, PASSWORD};
use stock::config::Secret;

/// Parses the exposition text, checking each line's grammar; returns series → value.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    let mut typed = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, tail) = (parts.next(), parts.next(), parts.next());
            assert!(matches!(kind, Some("HELP") | Some("TYPE")), "bad comment: {line}");
            assert!(name.is_some_and(valid_name), "bad metric name: {line}");
            if kind == Some("TYPE") {
                let t = tail.unwrap_or_default();
                assert!(["counter", "gauge", "histogram"].contains(&t), "bad type: {line}");
                typed.insert(name.unwrap_or_default().to_string(), t.to_string());
            }
            continue;
        }
        assert!(!line.is_empty(), "empty line in the exposition");
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {line}"));
        let name = series.split('{').next().unwrap_or_default();
        assert!(valid_name(name), "bad name: {line}");
        if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
            check_labels(labels, line);
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s).filter(|f| typed.get(*f).map(String::as_str) == Some("histogram"))
            })
            .unwrap_or(name);
        assert!(typed.contains_key(family), "sample before its TYPE line: {line}");
        out.insert(series.to_string(), v);
    }
    out
}

fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `{name="value",...}` with escaped values.
fn check_labels(labels: &str, line: &str) {
    let inner =
        labels.strip_prefix('{').and_then(|l| l.strip_suffix('}')).unwrap_or_else(|| panic!("{line}"));
    let mut rest = inner;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("bad label in {line}"));
        assert!(valid_name(name), "bad label name in {line}");
        let mut chars = after.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    let escaped = chars.next().map(|(_, e)| e);
                    assert!(matches!(escaped, Some('\\' | '"' | 'n')), "bad escape in {line}");
                }
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("unterminated label value in {line}"));
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let r = app.http.get(app.url("/metrics")).send().await.expect("GET /metrics");
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().expect("ascii").to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    parse(&r.text().await.expect("body"))
}

fn get(m: &HashMap<String, f64>, series: &str) -> f64 {
    m.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn counters_histograms_pool_and_database_errors() {
    let db = common::TestDb::new().await;
    let (tenant, schema) = db.create_shop("Metrics Shop").await;
    db.add_member(tenant, "m@example.com", "owner").await;
    let admin = db.admin().await;
    let app = common::spawn_app_on(db).await;

    let login_ok = r#"stock_http_requests_total{route="/login",method="GET",status="200"}"#;
    let before = scrape(&app).await;
    for _ in 0..3 {
        assert_eq!(app.get("/login").await.status, 200);
    }
    assert_eq!(app.get("/products/12345").await.status, 303); // signed out: to /login
    assert_eq!(app.get("/nothing/here").await.status, 404);
    let after = scrape(&app).await;
    assert_eq!(get(&after, login_ok) - get(&before, login_ok), 3.0);
    assert_eq!(
        get(&after, r#"stock_http_requests_total{route="/products/:id",method="GET",status="303"}"#),
        1.0
    );
    assert_eq!(
        get(&after, r#"stock_http_requests_total{route="(unmatched)",method="GET",status="404"}"#),
        1.0
    );
    assert!(!after.keys().any(|k| k.contains("12345")), "a raw id became a label");

    // the histogram of /login: cumulative buckets, +Inf equals the count
    let count = get(&after, r#"stock_http_request_duration_seconds_count{route="/login"}"#);
    assert!(count >= 3.0);
    assert_eq!(get(&after, r#"stock_http_request_duration_seconds_bucket{route="/login",le="+Inf"}"#), count);
    let mut buckets: Vec<(f64, f64)> = after
        .iter()
        .filter_map(|(k, v)| {
            let le = k.strip_prefix(r#"stock_http_request_duration_seconds_bucket{route="/login",le=""#)?;
            Some((le.trim_end_matches("\"}").parse::<f64>().unwrap_or(f64::INFINITY), *v))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "buckets not cumulative: {buckets:?}");
    assert!(get(&after, r#"stock_http_request_duration_seconds_sum{route="/login"}"#) > 0.0);

    // pool gauges
    assert_eq!(get(&after, "stock_db_pool_max_size"), 4.0);
    assert!(after.contains_key("stock_db_pool_size"));
    assert!(after.contains_key("stock_db_pool_available"));
    assert_eq!(get(&after, "stock_db_pool_waiting"), 0.0);
    assert!(get(&after, "stock_http_requests_in_flight") >= 1.0, "the scrape itself is in flight");

    // a database error that fails a request: the shop's products table is gone
    assert_eq!(app.login("m@example.com", PASSWORD).await.status, 303);
    admin.batch_execute(&format!("drop table {schema}.products cascade")).await.expect("drop table");
    assert_eq!(app.get("/products").await.status, 500);
    let broken = scrape(&app).await;
    assert_eq!(get(&broken, r#"stock_db_errors_total{class="42"}"#), 1.0);
    assert_eq!(
        get(&broken, r#"stock_http_requests_total{route="/products",method="GET",status="500"}"#),
        1.0
    );
}

#[tokio::test]
async fn access_is_refused_to_proxied_requests_and_without_the_token() {
    let app = common::spawn_app().await;
    // loopback, but forwarded by a proxy: the real client is elsewhere
    let r =
        app.http.get(app.url("/metrics")).header("X-Forwarded-For", "203.0.113.9").send().await.expect("GET");
    assert_eq!(r.status(), 403);

    let mut db = common::TestDb::new().await;
    db.config.metrics_token = Some(Secret::new("metrics-token-0123456789"));
    let app = common::spawn_app_on(db).await;
    let r = app.http.get(app.url("/metrics")).send().await.expect("GET");
    assert_eq!(r.status(), 403, "loopback alone is not enough once a token is set");
    let r =
        app.http.get(app.url("/metrics")).bearer_auth("metrics-token-0123456780").send().await.expect("GET");
    assert_eq!(r.status(), 403);
    let r =
        app.http.get(app.url("/metrics")).bearer_auth("metrics-token-0123456789").send().await.expect("GET");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("body").contains("# TYPE stock_http_requests_total counter"));
}
