//! The audit log: append-only for every role of the app (owner included) and for the schema
//! owner itself; written by the database for each critical action (price and cost changes, stock
//! adjustments and stocktakes, voids, returns, settings, sign-ins with the address); and shown to
//! owner and admin (never staff) at /audit with filters, pages, names and shop-local times.
mod common;

use common::{roles, set_ctx, TestDb, PASSWORD};
use serde_json::{json, Value};
use tokio_postgres::{Client, Error};

fn code(r: Result<u64, Error>) -> Option<String> {
    r.err().and_then(|e| e.code().map(|c| c.code().to_string()))
}

async fn audit(
    admin: &Client,
    tenant: i64,
) -> Vec<(Option<i64>, String, String, Option<Value>, Option<Value>)> {
    admin
        .query(
            &format!(
                "select user_id, action, entity, old_values, new_values from tenant_{tenant}.audit_log order by id"
            ),
            &[],
        )
        .await
        .expect("audit")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

#[tokio::test]
async fn no_role_may_rewrite_or_forge_the_audit_log() {
    let db = TestDb::new().await;
    let (t, s) = db.create_shop("Bitácora").await;
    let owner = db.add_member(t, "owner@example.com", "owner").await;
    let admin = db.admin().await;
    // one real row, written by a trigger
    admin
        .batch_execute(&format!(
            "begin; select set_config('app.tenant_id', '{t}', true);
             update {s}.settings set currency = 'USD'; commit;"
        ))
        .await
        .expect("seed");
    assert_eq!(audit(&admin, t).await.len(), 1);

    let r = roles();
    let mut c = db.app_login().await;
    let statements = [
        format!("update {s}.audit_log set action = 'nothing'"),
        format!("delete from {s}.audit_log"),
        format!("truncate {s}.audit_log"),
        format!("insert into {s}.audit_log (action, entity) values ('forged', 'settings')"),
    ];
    for role in [&r.owner, &r.admin, &r.staff, &r.anon] {
        for sql in &statements {
            let tx = c.transaction().await.expect("begin");
            set_ctx(&tx, Some(t), Some(owner), role).await;
            assert_eq!(code(tx.execute(sql.as_str(), &[]).await), Some("42501".into()), "{role}: {sql}");
        }
    }
    // the login role itself, without switching
    for sql in &statements {
        assert_eq!(code(c.execute(sql.as_str(), &[]).await), Some("42501".into()), "login role: {sql}");
    }
    // the catalog agrees: no app role holds any write privilege on the table
    for role in [&r.owner, &r.admin, &r.staff, &r.anon, &r.app] {
        for privilege in ["insert", "update", "delete", "truncate"] {
            let has: bool = admin
                .query_one(
                    "select has_table_privilege($1, $2, $3)",
                    &[role, &format!("{s}.audit_log"), &privilege],
                )
                .await
                .expect("privilege")
                .get(0);
            assert!(!has, "{role} holds {privilege} on the audit log");
        }
    }
    // even the schema owner (who owns the table) is stopped by the append-only triggers
    for sql in &statements[..3] {
        let mut a = db.admin().await;
        let tx = a.transaction().await.expect("begin");
        tx.batch_execute(&format!(
            "set local role {}; select set_config('app.tenant_id', '{t}', true)",
            r.schema_owner
        ))
        .await
        .expect("set role");
        assert_eq!(code(tx.execute(sql.as_str(), &[]).await), Some("42501".into()), "schema owner: {sql}");
    }
    let log = audit(&admin, t).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1, "update");
}

/// Runs statements as the shop's owner through the login role, in one committed transaction.
async fn as_owner(c: &mut Client, t: i64, owner: i64, sql: &str) {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(t), Some(owner), &roles().owner).await;
    tx.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    tx.commit().await.unwrap_or_else(|e| panic!("commit {sql}: {e:?}"));
}

#[tokio::test]
async fn every_critical_action_leaves_a_row() {
    let db = TestDb::new().await;
    let (t, s) = db.create_shop("Bitácora").await;
    let owner = db.add_member(t, "owner@example.com", "owner").await;
    let admin = db.admin().await;
    let mut c = db.app_login().await;

    as_owner(
        &mut c,
        t,
        owner,
        &format!(
            "insert into {s}.products (sku, name, unit_id, price, cost)
             values ('A-1', 'Agua', (select id from {s}.units where code = 'u'), 10, 6);
             insert into {s}.stock_movements (product_id, kind, quantity)
             values ((select id from {s}.products where sku = 'A-1'), 'opening', 20);"
        ),
    )
    .await;
    assert!(audit(&admin, t).await.is_empty(), "creating a product and its opening stock are not audited");

    let product = format!("(select id from {s}.products where sku = 'A-1')");
    as_owner(
        &mut c,
        t,
        owner,
        &format!("update {s}.products set price = 12.50, cost = 7 where id = {product}"),
    )
    .await;
    as_owner(
        &mut c,
        t,
        owner,
        &format!("update {s}.products set name = 'Agua mineral' where id = {product}"),
    )
    .await;
    as_owner(
        &mut c,
        t,
        owner,
        &format!(
            "insert into {s}.stock_movements (product_id, kind, quantity, reason) values ({product}, 'adjustment', -2, 'rotura');
             insert into {s}.stock_movements (product_id, kind, quantity, counted, reason) values ({product}, 'stocktake', 0, 19, 'conteo');"
        ),
    )
    .await;
    as_owner(
        &mut c,
        t,
        owner,
        &format!(
            "insert into {s}.sales (idempotency_key, customer_id, user_id, total, tendered, change)
             values ('00000000-0000-0000-0000-000000000001', (select id from {s}.customers where is_final_consumer),
                     {owner}, 25, 25, 0);
             insert into {s}.sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
             values ((select max(id) from {s}.sales), 1, {product}, 'Agua', 2, 12.50, 0, 25);
             insert into {s}.sale_payments (sale_id, method, amount) values ((select max(id) from {s}.sales), 'cash', 25);"
        ),
    )
    .await;
    as_owner(
        &mut c,
        t,
        owner,
        &format!(
            "insert into {s}.sale_returns (sale_id, method, reason) values ((select max(id) from {s}.sales), 'cash', 'fallado');
             insert into {s}.sale_return_lines (return_id, sale_line_id, quantity)
             values ((select max(id) from {s}.sale_returns), (select max(id) from {s}.sale_lines), 1);"
        ),
    )
    .await;
    as_owner(
        &mut c,
        t,
        owner,
        &format!("update {s}.sales set status = 'voided', void_reason = 'error de carga' where id = (select max(id) from {s}.sales)"),
    )
    .await;
    as_owner(&mut c, t, owner, &format!("update {s}.settings set allow_negative_stock = true")).await;

    let log = audit(&admin, t).await;
    let kinds: Vec<(&str, &str)> = log.iter().map(|e| (e.1.as_str(), e.2.as_str())).collect();
    assert_eq!(
        kinds,
        [
            ("update", "products"),
            ("insert", "stock_movements"),
            ("insert", "stock_movements"),
            ("insert", "sale_returns"),
            ("update", "sales"),
            ("update", "settings"),
        ],
        "{log:#?}"
    );
    assert!(log.iter().all(|e| e.0 == Some(owner)), "every row names who did it");
    let price = &log[0];
    assert_eq!(price.3.as_ref().map(|v| (&v["price"], &v["cost"])), Some((&json!(10.00), &json!(6.00))));
    assert_eq!(price.4.as_ref().map(|v| (&v["price"], &v["cost"])), Some((&json!(12.50), &json!(7.00))));
    assert_eq!(log[1].4.as_ref().map(|v| v["reason"].clone()), Some(json!("rotura")));
    assert_eq!(log[4].4.as_ref().map(|v| v["status"].clone()), Some(json!("voided")));
    assert_eq!(log[5].4.as_ref().map(|v| v["allow_negative_stock"].clone()), Some(json!(true)));
}

struct Site {
    app: common::TestApp,
    admin: Client,
    tenant: i64,
    owner: i64,
    admin_id: i64,
}

async fn site() -> Site {
    let db = TestDb::new().await;
    let (tenant, _) = db.create_shop("Bitácora").await;
    let (other, _) = db.create_shop("Ajena").await;
    let owner = db.add_member(tenant, "duena@example.com", "owner").await;
    let admin_id = db.add_member(tenant, "admin@example.com", "admin").await;
    db.add_member(tenant, "sol@example.com", "staff").await;
    db.add_member(other, "ajena@example.com", "owner").await;
    let admin = db.admin().await;
    let app = common::spawn_app_on(db).await;
    Site { app, admin, tenant, owner, admin_id }
}

#[tokio::test]
async fn owner_and_admin_browse_the_log_staff_do_not() {
    let s = site().await;
    let r = s.app.login("duena@example.com", PASSWORD).await;
    assert_eq!(r.status, 303);
    // the sign-in itself is there, with the address it came from
    let log = audit(&s.admin, s.tenant).await;
    assert_eq!((log[0].0, log[0].1.as_str()), (Some(s.owner), "sign_in"));
    assert_eq!(log[0].4.as_ref().map(|v| v["ip"].clone()), Some(json!("127.0.0.1")));

    // a change made through the app
    let r = s.app.submit("/members", &format!("/members/{}/role", s.admin_id), &[("role", "staff")]).await;
    assert_eq!(r.status, 303);
    let r = s.app.submit("/members", &format!("/members/{}/role", s.admin_id), &[("role", "admin")]).await;
    assert_eq!(r.status, 303);
    let page = s.app.get("/audit").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "Inicio de sesión",
        "Cambio de rol",
        "duena@example.com",
        "127.0.0.1",
        "<del>Administrador</del>",
        "<ins>Empleado</ins>",
    ] {
        assert!(page.body.contains(text), "{text} missing:\n{}", page.body);
    }

    let admin = common::client();
    assert_eq!(s.app.login_with(&admin, "admin@example.com", PASSWORD).await.status, 303);
    assert_eq!(s.app.get_with(&admin, "/audit").await.status, 200);
    let staff = common::client();
    assert_eq!(s.app.login_with(&staff, "sol@example.com", PASSWORD).await.status, 303);
    assert_eq!(s.app.get_with(&staff, "/audit").await.status, 403);
    assert_eq!(s.app.get_with(&staff, "/audit?action=sign_in").await.status, 403);
}

#[tokio::test]
async fn filters_pages_and_shop_local_times() {
    let s = site().await;
    let t = s.tenant;
    // entries at known instants (the superuser writes them: no role of the app can)
    s.admin
        .batch_execute(&format!(
            "insert into tenant_{t}.audit_log (at, user_id, action, entity, entity_id, old_values, new_values)
             values ('2024-03-01 12:00:00+00', {owner}, 'update', 'products', '41', '{{\"price\": 10}}', '{{\"price\": 12}}'),
                    ('2024-03-01 01:30:00+00', {admin}, 'insert', 'stock_movements', '7', null, '{{\"reason\": \"rotura de frasco\", \"quantity\": -1}}'),
                    ('2024-02-10 15:00:00+00', {admin}, 'update', 'settings', 'true', '{{\"currency\": \"ARS\"}}', '{{\"currency\": \"USD\"}}');
             insert into tenant_{t}.audit_log (at, user_id, action, entity, entity_id, new_values)
             select '2023-01-01 00:00:00+00'::timestamptz + i * interval '1 minute', {owner}, 'bulk', 'products', i::text, null
               from generate_series(1, 120) i;",
            owner = s.owner,
            admin = s.admin_id
        ))
        .await
        .expect("seed");
    assert_eq!(s.app.login("duena@example.com", PASSWORD).await.status, 303);
    let app = &s.app;
    let get = |q: &str| {
        let path = format!("/audit?{q}");
        async move { app.get(&path).await }
    };
    // Buenos Aires is UTC-3: 12:00 UTC shows as 09:00, and 01:30 UTC on March 1st is still February 29th
    let p = get("from=2024-03-01&to=2024-03-01").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("01/03/2024 09:00"), "{}", p.body);
    assert!(p.body.contains("<del>10</del> → <ins>12</ins>"));
    assert!(
        !p.body.contains("rotura de frasco"),
        "the entry of February 29th, local time, is outside the range"
    );
    let p = get("from=29/02/2024&to=29/02/2024").await;
    assert!(p.body.contains("rotura de frasco") && p.body.contains("29/02/2024 22:30"), "{}", p.body);
    // by action, entity, person, and text
    let p = get("entity=settings").await;
    assert!(p.body.contains("Cambio de configuración") && p.body.contains("<ins>USD</ins>"));
    assert!(!p.body.contains("rotura de frasco"));
    let p = get(&format!("user={}&action=insert", s.admin_id)).await;
    assert!(p.body.contains("rotura de frasco") && !p.body.contains("<ins>USD</ins>"));
    let p = get("q=FRASCO").await;
    assert!(p.body.contains("rotura de frasco") && !p.body.contains("<ins>12</ins>"));
    let p = get("q=zzz-nothing").await;
    assert!(p.body.contains("No hay registros que coincidan."));
    // a bad date is reported, not fatal
    let p = get("from=31/02/2024").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Ingrese una fecha como 31/12/2024."));
    // pages of 50, newest first, with links that keep the filters
    let p = get("action=bulk").await;
    assert_eq!(p.body.matches("<tr>").count() - 1, 50, "a page holds 50 entries");
    assert!(p.body.contains("href=\"/audit?action=bulk&amp;page=1\""), "next page link");
    let p = get("action=bulk&page=2").await;
    assert_eq!(p.body.matches("<tr>").count() - 1, 20);
    assert!(!p.body.contains("rel=\"next\""));
    assert!(p.body.contains("href=\"/audit?action=bulk&amp;page=1\""), "previous page link");
    // an injection attempt in a filter is just text
    let p = get("action=x%27%3B%20drop%20table%20audit_log%3B--&entity=%27&q=%25%27").await;
    assert_eq!(p.status, 200);
    assert!(!audit(&s.admin, t).await.is_empty());
}
