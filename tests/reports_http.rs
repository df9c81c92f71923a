//! The report pages through the real app, against a hand-computed fixture in a shop whose time
//! zone has DST (Europe/Madrid, spring forward on 2024-03-31): sales around local midnight and
//! across the DST change, a voided sale, a return on a later day, a cost changed after a sale, a
//! product with negative stock. Every report's numbers are checked on the page and in its CSV
//! (which must parse and match the page); staff get 403 on every report URL; bad filters give a
//! message next to the field and a 422, an unknown format a 400.
mod common;

use common::{TestApp, PASSWORD};
use tokio_postgres::Client;

const OWNER: &str = "duena@example.com";
const ADMIN: &str = "admin@example.com";
const STAFF: &str = "mostrador@example.com";

struct Shop {
    app: TestApp,
    admin: Client,
    schema: String,
}

async fn exec(c: &Client, sql: &str) {
    c.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
}

/// A sale at `at` (UTC) of `lines` (sku, quantity) at the products' prices, paid in cash; `sale`
/// names it for later statements (a temp table row).
fn sale_sql(s: &str, name: &str, at: &str, lines: &[(&str, i32)]) -> String {
    let values: Vec<String> = lines.iter().map(|(sku, q)| format!("('{sku}', {q})")).collect();
    format!(
        "with l(sku, qty, pos) as (select v.sku, v.qty, row_number() over () from (values {v}) v(sku, qty)),
              priced as (select p.id, p.name, p.price, l.qty, l.pos from l join {s}.products p on p.sku = l.sku),
              s as (insert into {s}.sales (idempotency_key, customer_id, user_id, total, tendered, change, created_at)
                    select gen_random_uuid(), (select id from {s}.customers where is_final_consumer),
                           app.current_user_id(), sum(price * qty), sum(price * qty), 0, '{at}'::timestamptz
                      from priced returning id, total),
              ins as (insert into {s}.sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
                      select s.id, pos, priced.id, priced.name, qty, price, 0, price * qty from s, priced),
              pay as (insert into {s}.sale_payments (sale_id, method, amount) select id, 'cash', total from s)
         insert into fixture_sales (name, id) select '{name}', id from s;",
        v = values.join(", ")
    )
}

/// The fixture (numbers in the comments are what every report must show).
async fn shop() -> Shop {
    let db = common::TestDb::new().await;
    let (tenant, s) = db.create_shop("Kiosco Sol").await;
    let owner = db.add_member(tenant, OWNER, "owner").await;
    db.add_member(tenant, ADMIN, "admin").await;
    db.add_member(tenant, STAFF, "staff").await;
    let admin = db.admin().await;
    let mut setup = String::new();
    setup.push_str(&format!(
        "begin;
         select set_config('app.tenant_id', '{tenant}', true), set_config('app.user_id', '{owner}', true);
         create temp table fixture_sales (name text, id bigint);
         update {s}.settings set time_zone = 'Europe/Madrid', allow_negative_stock = true;
         insert into {s}.categories (name) values ('Bebidas'), ('Limpieza');
         insert into {s}.products (sku, name, unit_id, price, cost, category_id) values
             ('AGUA', 'Agua', (select id from {s}.units where code = 'u'), 10, 4, (select id from {s}.categories where name = 'Bebidas')),
             ('JABON', 'Jabón', (select id from {s}.units where code = 'u'), 25, 15, (select id from {s}.categories where name = 'Limpieza')),
             ('PAN', 'Pan', (select id from {s}.units where code = 'u'), 3, 1, null),
             ('HIELO', 'Hielo', (select id from {s}.units where code = 'u'), 5, 3, (select id from {s}.categories where name = 'Bebidas'));
         insert into {s}.products (sku, name, unit_id, price, cost, active) values
             ('VIEJO', 'Viejo', (select id from {s}.units where code = 'u'), 5, 3, false);
         insert into {s}.products (sku, name, unit_id, price, cost, track_stock) values
             ('ENVIO', 'Envío', (select id from {s}.units where code = 'u'), 5, 3, false);
         insert into {s}.stock_movements (product_id, kind, quantity)
              select id, 'opening', 100 from {s}.products where sku in ('AGUA', 'JABON', 'PAN', 'VIEJO');
         insert into {s}.stock_movements (product_id, kind, quantity, reason)
              select id, 'adjustment', -4, 'rotura' from {s}.products where sku = 'HIELO';"
    ));
    // 23:30 local on 30/03 (CET, +1): day 30/03
    setup.push_str(&sale_sql(&s, "s1", "2024-03-30 22:30:00+00", &[("AGUA", 2)]));
    // 00:30 local on 31/03: day 31/03 (a day cut in UTC would say 30/03)
    setup.push_str(&sale_sql(&s, "s2", "2024-03-30 23:30:00+00", &[("JABON", 2), ("AGUA", 1)]));
    // 14:00 local on 31/03, voided later
    setup.push_str(&sale_sql(&s, "s4", "2024-03-31 12:00:00+00", &[("JABON", 2)]));
    // 00:30 local on 01/04 (CEST, +2 since 31/03 03:00): day 01/04 (a fixed +1 offset would say 31/03)
    setup.push_str(&sale_sql(&s, "s3", "2024-03-31 22:30:00+00", &[("AGUA", 3)]));
    setup.push_str(&sale_sql(&s, "s5", "2024-04-01 09:00:00+00", &[("PAN", 8)]));
    // one Jabón of s2 comes back on 01/04 (refund 25); s4 is voided; Pan's cost rises after its sale
    setup.push_str(&format!(
        "with r as (insert into {s}.sale_returns (sale_id, method, reason, created_at)
                    select id, 'cash', 'roto', '2024-04-01 10:00:00+00' from fixture_sales where name = 's2' returning id, sale_id)
         insert into {s}.sale_return_lines (return_id, sale_line_id, quantity)
              select r.id, l.id, 1 from r join {s}.sale_lines l on l.sale_id = r.sale_id
                join {s}.products p on p.id = l.product_id where p.sku = 'JABON';
         update {s}.sales set status = 'voided', void_reason = 'error' where id = (select id from fixture_sales where name = 's4');
         update {s}.products set cost = 2 where sku = 'PAN';
         commit;"
    ));
    exec(&admin, &setup).await;
    let app = common::spawn_app_on(db).await;
    let r = app.login(OWNER, PASSWORD).await;
    assert_eq!(r.status, 303, "owner login: {}", r.body);
    let r = app.get("/lang/en").await;
    assert!(r.status < 400, "language: {}", r.status);
    Shop { app, admin, schema: s }
}

/// The text of each `<td>`/`<th>` of each row of the page's report table body (tags stripped,
/// English thousands separators removed so numbers compare with the CSV).
fn table_rows(body: &str, section: &str) -> Vec<Vec<String>> {
    let start =
        body.find("<table class=\"list report\">").unwrap_or_else(|| panic!("no report table:\n{body}"));
    let table = &body[start..start + body[start..].find("</table>").expect("table end")];
    let open = format!("<{section}>");
    let Some(i) = table.find(&open) else { return Vec::new() };
    let part = &table[i + open.len()..i + table[i..].find(&format!("</{section}>")).expect("section end")];
    part.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<t")
                .skip(1)
                .filter(|c| c.starts_with('d') || c.starts_with('h'))
                .map(|cell| {
                    let mut text = String::new();
                    let mut in_tag = true; // the cell starts inside its own tag
                    for ch in cell.chars() {
                        match ch {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.replace(',', "").replace("&amp;", "&").trim().to_string()
                })
                .collect()
        })
        .collect()
}

fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().expect("csv header").iter().map(String::from).collect();
    let rows = r.records().map(|x| x.expect("csv row").iter().map(String::from).collect()).collect();
    (header, rows)
}

impl Shop {
    async fn page(&self, path: &str) -> String {
        let r = self.app.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body
    }

    async fn csv(&self, path: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = self.app.http.get(self.app.url(&format!("{path}{sep}format=csv"))).send().await.expect("csv");
        assert_eq!(r.status(), 200, "{path} csv");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "text/csv; charset=utf-8");
        let cd = h["content-disposition"].to_str().expect("disposition");
        assert!(cd.starts_with("attachment; filename=\"") && cd.ends_with(".csv\""), "{cd}");
        parse_csv(&r.bytes().await.expect("body"))
    }
}

fn strs(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

#[tokio::test]
async fn sales_by_period_cut_at_the_shops_midnight_across_dst() {
    let shop = shop().await;
    let base = "/reports/sales?from=2024-03-30&to=2024-04-01";
    let body = shop.page(&format!("{base}&group=day")).await;
    let want = strs(&[
        &["2024-03-30", "1", "20.00", "0.00", "20.00", "0", "0.00"],
        &["2024-03-31", "1", "60.00", "0.00", "60.00", "1", "50.00"],
        &["2024-04-01", "2", "54.00", "25.00", "29.00", "0", "0.00"],
    ]);
    assert_eq!(table_rows(&body, "tbody"), want);
    assert_eq!(
        table_rows(&body, "tfoot"),
        strs(&[&["Total", "4", "134.00", "25.00", "109.00", "1", "50.00"]])
    );
    let (header, rows) = shop.csv(&format!("{base}&group=day")).await;
    assert_eq!(header, ["period_start", "sales", "gross", "returns", "net", "voided_sales", "voided_amount"]);
    assert_eq!(rows, want, "the CSV matches the page");

    // weeks start on Monday: 30 and 31 March are in the week of 25 March
    let body = shop.page(&format!("{base}&group=week")).await;
    assert_eq!(
        table_rows(&body, "tbody"),
        strs(&[
            &["Week of 2024-03-25", "2", "80.00", "0.00", "80.00", "1", "50.00"],
            &["Week of 2024-04-01", "2", "54.00", "25.00", "29.00", "0", "0.00"],
        ])
    );
    let (_, rows) = shop.csv(&format!("{base}&group=month")).await;
    assert_eq!(
        rows,
        strs(&[
            &["2024-03-01", "2", "80.00", "0.00", "80.00", "1", "50.00"],
            &["2024-04-01", "2", "54.00", "25.00", "29.00", "0", "0.00"],
        ])
    );
    // a single DST day: the 23-hour 31 March holds exactly s2
    let (_, rows) = shop.csv("/reports/sales?from=2024-03-31&to=2024-03-31").await;
    assert_eq!(rows, strs(&[&["2024-03-31", "1", "60.00", "0.00", "60.00", "1", "50.00"]]));
    // the page in Spanish writes numbers as the shop does
    shop.app.get("/lang/es").await;
    let body = shop.page(&format!("{base}&group=day")).await;
    assert!(body.contains("109,00") && body.contains("31/03/2024"), "{body}");
}

#[tokio::test]
async fn best_sellers_by_quantity_and_amount_with_a_category_filter() {
    let shop = shop().await;
    let base = "/reports/best-sellers?from=2024-03-30&to=2024-04-01";
    let body = shop.page(&format!("{base}&by=quantity")).await;
    // Jabón: 2 sold in s2, 1 returned (s4 voided): net 1
    let want = strs(&[
        &["1", "PAN", "Pan", "(no category)", "8", "24.00"],
        &["2", "AGUA", "Agua", "Bebidas", "6", "60.00"],
        &["3", "JABON", "Jabón", "Limpieza", "1", "25.00"],
    ]);
    assert_eq!(table_rows(&body, "tbody"), want);
    let (header, rows) = shop.csv(&format!("{base}&by=quantity")).await;
    assert_eq!(header, ["rank", "product_id", "sku", "name", "category", "quantity", "amount"]);
    let page_like: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let cat = if r[4].is_empty() { "(no category)".to_string() } else { r[4].clone() };
            let qty = r[5].trim_end_matches('0').trim_end_matches('.').to_string();
            vec![r[0].clone(), r[2].clone(), r[3].clone(), cat, qty, r[6].clone()]
        })
        .collect();
    assert_eq!(page_like, want, "the CSV matches the page");
    assert_eq!(rows[0][5], "8.000");

    let (_, rows) = shop.csv(&format!("{base}&by=amount&top=2")).await;
    let got: Vec<(&str, &str)> = rows.iter().map(|r| (r[2].as_str(), r[6].as_str())).collect();
    assert_eq!(got, [("AGUA", "60.00"), ("JABON", "25.00")]);

    let bebidas: i64 = shop
        .admin
        .query_one(&format!("select id from {}.categories where name = 'Bebidas'", shop.schema), &[])
        .await
        .expect("category")
        .get(0);
    let (_, rows) = shop.csv(&format!("{base}&category={bebidas}")).await;
    let got: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(got, ["AGUA"]);
}

#[tokio::test]
async fn margin_uses_the_cost_at_the_time_of_sale() {
    let shop = shop().await;
    let base = "/reports/margin?from=2024-03-30&to=2024-04-01";
    let body = shop.page(&format!("{base}&by=product")).await;
    // Pan sold 8 at cost 1 (its cost is 2 now); Jabón: 2 sold - 1 returned at 15
    let want = strs(&[
        &["AGUA", "Agua", "Bebidas", "6", "60.00", "24.00", "36.00", "60.00 %"],
        &["PAN", "Pan", "(no category)", "8", "24.00", "8.00", "16.00", "66.67 %"],
        &["JABON", "Jabón", "Limpieza", "1", "25.00", "15.00", "10.00", "40.00 %"],
    ]);
    assert_eq!(table_rows(&body, "tbody"), want);
    assert_eq!(table_rows(&body, "tfoot"), strs(&[&["Total", "109.00", "47.00", "62.00", "56.88 %"]]));
    let (header, rows) = shop.csv(&format!("{base}&by=product")).await;
    assert_eq!(
        header,
        ["product_id", "sku", "name", "category", "quantity", "revenue", "cost", "margin", "margin_percent"]
    );
    let page_like: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let cat = if r[3].is_empty() { "(no category)".to_string() } else { r[3].clone() };
            let qty = r[4].trim_end_matches('0').trim_end_matches('.').to_string();
            vec![
                r[1].clone(),
                r[2].clone(),
                cat,
                qty,
                r[5].clone(),
                r[6].clone(),
                r[7].clone(),
                format!("{} %", r[8]),
            ]
        })
        .collect();
    assert_eq!(page_like, want, "the CSV matches the page");

    let (header, rows) = shop.csv(&format!("{base}&by=category")).await;
    assert_eq!(header, ["category_id", "category", "revenue", "cost", "margin", "margin_percent"]);
    let got: Vec<Vec<String>> = rows.iter().map(|r| r[1..].to_vec()).collect();
    assert_eq!(
        got,
        strs(&[
            &["Bebidas", "60.00", "24.00", "36.00", "60.00"],
            &["", "24.00", "8.00", "16.00", "66.67"],
            &["Limpieza", "25.00", "15.00", "10.00", "40.00"],
        ])
    );
    // revenue in the margin report equals net sales over the same range
    let (_, sales) = shop.csv("/reports/sales?from=2024-03-30&to=2024-04-01&group=month").await;
    let net: f64 = sales.iter().map(|r| r[4].parse::<f64>().expect("net")).sum();
    assert!((net - 109.0).abs() < 1e-9, "{net}");
}

#[tokio::test]
async fn stock_valuation_at_cost_flags_negative_stock() {
    let shop = shop().await;
    let body = shop.page("/reports/stock-valuation?by=product").await;
    // Agua 100-6; Jabón 100-2-2+2 (void)+1 (return); Pan 100-8 at today's cost 2; Hielo -4
    let want = strs(&[
        &["JABON", "Jabón", "Limpieza", "99", "15.00", "1485.00"],
        &["AGUA", "Agua", "Bebidas", "94", "4.00", "376.00"],
        &["PAN", "Pan", "(no category)", "92", "2.00", "184.00"],
        &["HIELO", "Hielo", "Bebidas", "-4 Negative stock", "3.00", "-12.00"],
    ]);
    assert_eq!(table_rows(&body, "tbody"), want);
    assert_eq!(table_rows(&body, "tfoot"), strs(&[&["Total · 4 Products", "2045.00"]]));
    let (header, rows) = shop.csv("/reports/stock-valuation?by=product").await;
    assert_eq!(header, ["product_id", "sku", "name", "category", "stock", "unit_cost", "value", "negative"]);
    let got: Vec<(&str, &str, &str, &str)> =
        rows.iter().map(|r| (r[1].as_str(), r[4].as_str(), r[6].as_str(), r[7].as_str())).collect();
    assert_eq!(
        got,
        [
            ("JABON", "99.000", "1485.00", "false"),
            ("AGUA", "94.000", "376.00", "false"),
            ("PAN", "92.000", "184.00", "false"),
            ("HIELO", "-4.000", "-12.00", "true"),
        ]
    );
    let body = shop.page("/reports/stock-valuation?by=category").await;
    let want = strs(&[
        &["Limpieza", "1", "1485.00", "0"],
        &["Bebidas", "2", "376.00", "1"],
        &["(no category)", "1", "184.00", "0"],
    ]);
    assert_eq!(table_rows(&body, "tbody"), want);
    let (_, rows) = shop.csv("/reports/stock-valuation?by=category").await;
    let got: Vec<Vec<String>> = rows.iter().map(|r| r[1..].to_vec()).collect();
    assert_eq!(
        got,
        strs(&[
            &["Limpieza", "1", "1485.00", "0"],
            &["Bebidas", "2", "376.00", "1"],
            &["", "1", "184.00", "0"]
        ])
    );
}

#[tokio::test]
async fn staff_get_403_on_every_report_url_and_admin_gets_them() {
    let shop = shop().await;
    let staff = common::client();
    assert_eq!(shop.app.login_with(&staff, STAFF, PASSWORD).await.status, 303);
    let admin = common::client();
    assert_eq!(shop.app.login_with(&admin, ADMIN, PASSWORD).await.status, 303);
    let urls = [
        "/reports",
        "/reports/sales",
        "/reports/sales?format=csv",
        "/reports/best-sellers",
        "/reports/best-sellers?format=csv",
        "/reports/margin",
        "/reports/margin?by=category&format=csv",
        "/reports/stock-valuation",
        "/reports/stock-valuation?format=csv",
        "/reports/sales?from=nonsense",
    ];
    for url in urls {
        let r = shop.app.get_with(&staff, url).await;
        assert_eq!(r.status, 403, "staff on {url}");
        assert!(!r.body.contains("text/csv"));
        let r = shop.app.get_with(&admin, url).await;
        let want = if url.contains("nonsense") { 422 } else { 200 };
        assert_eq!(r.status, want, "admin on {url}");
    }
    // the menu offers reports to owner and admin only
    assert!(shop.app.get_with(&admin, "/dashboard").await.body.contains("href=\"/reports\""));
    assert!(!shop.app.get_with(&staff, "/dashboard").await.body.contains("href=\"/reports\""));
}

#[tokio::test]
async fn bad_filters_are_explained_next_to_the_field() {
    let shop = shop().await;
    let cases = [
        ("/reports/sales?from=2024-02-30", "Enter a valid date"),
        ("/reports/sales?from=2024-04-02&to=2024-04-01", "The end date is before the start date."),
        ("/reports/sales?group=year", "Choose day, week or month."),
        ("/reports/sales?from=2020-01-01&to=2024-01-01&group=day", "Day by day covers at most 366 days"),
        ("/reports/margin?from=1990-01-01&to=2024-01-01", "at most ten years"),
        ("/reports/margin?by=supplier", "Choose product or category."),
        ("/reports/best-sellers?top=1000", "Enter a number from 1 to 100."),
        ("/reports/best-sellers?category=abc&format=csv", "Choose a category from the list."),
    ];
    for (url, message) in cases {
        let r = shop.app.get(url).await;
        assert_eq!(r.status, 422, "{url}");
        assert!(r.body.contains(message), "{url}: no {message:?} in\n{}", r.body);
        assert!(r.body.contains("aria-invalid=\"true\""), "{url}: the field is marked");
        assert!(!r.body.contains("<table class=\"list report\">"), "{url}: no table with refused filters");
    }
    let r = shop.app.get("/reports/sales?format=xlsx").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Unknown format"), "{}", r.body);
    // the refused date is shown back as typed
    let r = shop.app.get("/reports/sales?from=31%2F02%2F2024").await;
    assert!(r.body.contains("value=\"31/02/2024\""), "{}", r.body);
}
