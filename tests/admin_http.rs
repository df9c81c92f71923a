//! The operator's super-admin panel over real HTTP: its own login (cookie, CSRF, throttle), shops
//! with usage, suspension as members see it, plans, subscriptions and payments with form errors,
//! "view as" (read only, with a banner, recorded), the audit trail; and no shop session reaches
//! any of it.

mod common;

use common::{client, spawn_app, TestApp, PASSWORD};
use rust_decimal::Decimal;
use tokio_postgres::Client;

const OPS_EMAIL: &str = "ops@example.com";

async fn add_ops(app: &TestApp) {
    let pw = stock::domain::auth::Password::new_password(PASSWORD).expect("pw");
    let hash = stock::domain::auth::hash_password(&pw).await.expect("hash");
    let email = stock::domain::auth::Email::try_from(OPS_EMAIL).expect("email");
    let name = stock::domain::text::Name::parse("Operadora", 120).expect("name");
    stock::domain::admin::add_account(&app.db.admin().await, &email, &name, &hash).await.expect("add admin");
}

/// A signed-in super-admin client.
async fn ops_client(app: &TestApp) -> reqwest::Client {
    let http = client();
    let p = app
        .submit_with(&http, "/admin/login", "/admin/login", &[("email", OPS_EMAIL), ("password", PASSWORD)])
        .await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/shops")), "{}", p.body);
    http
}

/// A shop made through sign-up; returns (tenant id, owner's client).
async fn shop(app: &TestApp, name: &str, email: &str) -> (i64, reqwest::Client) {
    let http = client();
    let p = app.signup_with(&http, name, email).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let id: i64 = app
        .db
        .admin()
        .await
        .query_one("select id from app.tenants where name = $1", &[&name])
        .await
        .expect("shop")
        .get(0);
    (id, http)
}

async fn audit_actions(su: &Client) -> Vec<String> {
    su.query("select action from app.admin_audit order by id", &[])
        .await
        .expect("audit")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn the_panel_has_its_own_login_cookie_csrf_and_throttle() {
    let app = spawn_app().await;
    add_ops(&app).await;
    let (_, owner) = shop(&app, "Kiosco Uno", "owner1@example.com").await;
    // signed out, and a shop session, both go to the panel's login
    let p = app.get("/admin/shops").await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/login")));
    let p = app.get_with(&owner, "/admin/shops").await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/login")));
    // shop credentials do not sign in here
    let http = client();
    let p = app
        .submit_with(
            &http,
            "/admin/login",
            "/admin/login",
            &[("email", "owner1@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(p.status, 401);
    assert!(p.body.contains("E-mail o contraseña incorrectos"), "{}", p.body);
    // no CSRF token, no sign-in
    let p = app.post_with(&http, "/admin/login", &[("email", OPS_EMAIL), ("password", PASSWORD)]).await;
    assert_eq!(p.status, 403);
    // the right account: a strict cookie of its own, only for /admin
    let token = app.get_with(&http, "/admin/login").await.csrf();
    let p = app
        .post_with(&http, "/admin/login", &[("csrf", &token), ("email", OPS_EMAIL), ("password", PASSWORD)])
        .await;
    assert_eq!(p.status, 303);
    let cookie = p.set_cookies.iter().find(|c| c.starts_with("stock_admin=")).expect("admin cookie");
    for part in ["Path=/admin", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let value = cookie.trim_start_matches("stock_admin=").split(';').next().unwrap_or_default().to_string();
    let p = app.get_with(&http, "/admin/shops").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Kiosco Uno"), "{}", p.body);
    // the admin session is no shop session, even when sent as one
    let p = app.get_with(&http, "/dashboard").await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/login")));
    let r = client()
        .get(app.url("/dashboard"))
        .header("cookie", format!("stock_session={value}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status().as_u16(), 303);
    // a shop page's CSRF token does not work on the panel's forms
    let shop_token = app.get_with(&owner, "/dashboard").await.csrf();
    let p = app.post_with(&http, "/admin/logout", &[("csrf", &shop_token)]).await;
    assert_eq!(p.status, 403);
    // logout ends the session
    let p = app.submit_with(&http, "/admin/shops", "/admin/logout", &[]).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/login")));
    let r = client()
        .get(app.url("/admin/shops"))
        .header("cookie", format!("stock_admin={value}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status().as_u16(), 303, "the old cookie still opens the panel");
    // five failures for the address, then 429 even with the right password
    let http = client();
    for _ in 0..5 {
        let p = app
            .submit_with(
                &http,
                "/admin/login",
                "/admin/login",
                &[("email", OPS_EMAIL), ("password", "wrong-password")],
            )
            .await;
        assert_eq!(p.status, 401);
    }
    let p = app
        .submit_with(&http, "/admin/login", "/admin/login", &[("email", OPS_EMAIL), ("password", PASSWORD)])
        .await;
    assert_eq!(p.status, 429, "{}", p.body);
    let su = app.db.admin().await;
    let actions = audit_actions(&su).await;
    assert_eq!(actions, ["admin.add", "sign_in", "sign_out"]);
}

#[tokio::test]
async fn no_shop_role_reaches_a_panel_page_or_action() {
    let app = spawn_app().await;
    add_ops(&app).await;
    let (a, owner) = shop(&app, "Kiosco Dos", "owner2@example.com").await;
    let token = app.get_with(&owner, "/dashboard").await.csrf();
    for path in [
        "/admin".to_string(),
        "/admin/shops".into(),
        format!("/admin/shops/{a}"),
        "/admin/plans".into(),
        "/admin/audit".into(),
        format!("/admin/view/{a}"),
        format!("/admin/view/{a}/products"),
        format!("/admin/view/{a}/sales"),
    ] {
        let p = app.get_with(&owner, &path).await;
        let expected = if path == "/admin" { "/admin/shops" } else { "/admin/login" };
        assert_eq!((p.status, p.location.as_deref()), (303, Some(expected)), "{path}");
    }
    for path in [
        format!("/admin/shops/{a}/suspend"),
        format!("/admin/shops/{a}/subscription"),
        format!("/admin/shops/{a}/payments"),
        format!("/admin/shops/{a}/view-as"),
        "/admin/plans".into(),
        "/admin/plans/FREE".into(),
    ] {
        let p = app
            .post_with(
                &owner,
                &path,
                &[("csrf", &token), ("amount", "10"), ("paid_on", "2026-01-01"), ("method", "cash")],
            )
            .await;
        assert_eq!(p.status, 403, "{path}");
    }
    let su = app.db.admin().await;
    let status: String =
        su.query_one("select status from app.tenants where id = $1", &[&a]).await.unwrap().get(0);
    assert_eq!(status, "active");
    let n: i64 = su.query_one("select count(*) from app.subscription_payments", &[]).await.unwrap().get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn shops_with_usage_and_suspension_as_members_see_it() {
    let app = spawn_app().await;
    add_ops(&app).await;
    let (a, owner) = shop(&app, "Almacén Norte", "norte@example.com").await;
    let (_b, _) = shop(&app, "Ferretería Sur", "sur@example.com").await;
    let ops = ops_client(&app).await;
    let p = app.get_with(&ops, "/admin/shops?q=norte").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Almacén Norte") && !p.body.contains("Ferretería Sur"), "{}", p.body);
    // a trial that has ended is pointed out
    app.db
        .admin()
        .await
        .execute(
            "update app.subscriptions set status = 'trialing', trial_ends_on = current_date - 1 where tenant_id = $1",
            &[&a],
        )
        .await
        .unwrap();
    let p = app.get_with(&ops, "/admin/shops?q=norte").await;
    assert!(p.body.contains("prueba terminada"), "{}", p.body);
    let p = app.get_with(&ops, "/admin/shops?q=nothing-like-this").await;
    assert!(!p.body.contains("Almacén Norte"));
    let p = app.get_with(&ops, &format!("/admin/shops/{a}")).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("norte@example.com"), "{}", p.body);
    assert_eq!(app.get_with(&ops, "/admin/shops/999999").await.status, 404);
    // suspend: members get a clear page and no data
    let p =
        app.submit_with(&ops, &format!("/admin/shops/{a}"), &format!("/admin/shops/{a}/suspend"), &[]).await;
    assert_eq!(p.status, 303);
    let d = app.get_with(&owner, "/dashboard").await;
    assert_eq!(d.status, 200);
    assert!(d.body.contains("Este negocio está suspendido"), "{}", d.body);
    let p = app.get_with(&owner, "/products").await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/dashboard")));
    let en = client();
    en.get(app.url("/lang/en")).send().await.unwrap();
    app.login_with(&en, "norte@example.com", PASSWORD).await;
    let d = app.get_with(&en, "/dashboard").await;
    assert!(d.body.contains("This shop is suspended"), "{}", d.body);
    // reactivate
    let p = app
        .submit_with(&ops, &format!("/admin/shops/{a}"), &format!("/admin/shops/{a}/reactivate"), &[])
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(app.get_with(&owner, "/products").await.status, 200);
    let su = app.db.admin().await;
    let rows = su
        .query(
            "select details -> 'new' ->> 'status' from app.admin_audit where action = 'tenants.update' and tenant_id = $1 order by id",
            &[&a],
        )
        .await
        .unwrap();
    let statuses: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(statuses, ["suspended", "active"]);
    let p = app.get_with(&ops, &format!("/admin/audit?shop={a}")).await;
    assert!(p.body.contains("tenants.update"), "{}", p.body);
}

#[tokio::test]
async fn plans_subscriptions_and_payments_with_form_errors() {
    let app = spawn_app().await;
    add_ops(&app).await;
    let (a, _) = shop(&app, "Librería Centro", "centro@example.com").await;
    let ops = ops_client(&app).await;
    let su = app.db.admin().await;
    let count = |sql: &'static str| {
        let su = &su;
        async move { su.query_one(sql, &[]).await.expect("count").get::<_, i64>(0) }
    };
    // a new plan; a bad one changes nothing and says why
    let plan = [
        ("code", "gold"),
        ("name", "Gold"),
        ("max_members", "10"),
        ("max_products", ""),
        ("max_monthly_sales", "20.000"),
        ("monthly_price", "99,50"),
    ];
    let p = app.submit_with(&ops, "/admin/plans", "/admin/plans", &plan).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let row = su
        .query_one("select max_members, max_products, max_monthly_sales, monthly_price from app.plans where code = 'GOLD'", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<i32>>(0), Some(10));
    assert_eq!(row.get::<_, Option<i32>>(1), None);
    assert_eq!(row.get::<_, Option<i32>>(2), Some(20000));
    assert_eq!(row.get::<_, Decimal>(3), Decimal::new(9950, 2));
    let p = app.submit_with(&ops, "/admin/plans", "/admin/plans", &plan).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("Ya existe un plan con este código"), "{}", p.body);
    let bad = [
        ("code", "g"),
        ("name", ""),
        ("max_members", "0"),
        ("max_products", "x"),
        ("max_monthly_sales", ""),
        ("monthly_price", "-1"),
    ];
    let p = app.submit_with(&ops, "/admin/plans", "/admin/plans", &bad).await;
    assert_eq!(p.status, 422);
    for msg in [
        "De 2 a 20 mayúsculas",
        "Este campo es obligatorio",
        "Ingrese un número entero desde 1",
        "No se guardó nada",
    ] {
        assert!(p.body.contains(msg), "{msg}: {}", p.body);
    }
    assert_eq!(count("select count(*) from app.plans").await, 4);
    // edit a plan's limits
    let edit = [
        ("name", "Free"),
        ("max_members", "3"),
        ("max_products", "300"),
        ("max_monthly_sales", "abc"),
        ("monthly_price", "0"),
    ];
    let p = app.submit_with(&ops, "/admin/plans", "/admin/plans/FREE", &edit).await;
    assert_eq!(p.status, 422);
    assert_eq!(count("select max_products::bigint from app.plans where code = 'FREE'").await, 200);
    let edit = [
        ("name", "Free"),
        ("max_members", "3"),
        ("max_products", "300"),
        ("max_monthly_sales", "300"),
        ("monthly_price", "0"),
    ];
    let p = app.submit_with(&ops, "/admin/plans", "/admin/plans/FREE", &edit).await;
    assert_eq!(p.status, 303);
    assert_eq!(count("select max_products::bigint from app.plans where code = 'FREE'").await, 300);
    assert_eq!(app.submit_with(&ops, "/admin/plans", "/admin/plans/NOPE", &edit).await.status, 404);
    // the shop's subscription
    let detail = format!("/admin/shops/{a}");
    let sub = format!("/admin/shops/{a}/subscription");
    let p = app
        .submit_with(
            &ops,
            &detail,
            &sub,
            &[("plan", "PRO"), ("status", "trialing"), ("trial_ends_on", ""), ("renews_on", "")],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("Una prueba necesita su fecha de fin"), "{}", p.body);
    let p = app
        .submit_with(
            &ops,
            &detail,
            &sub,
            &[("plan", "PLATINUM"), ("status", "active"), ("trial_ends_on", ""), ("renews_on", "31/13/2026")],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("Elija uno de los planes") && p.body.contains("Ingrese una fecha"), "{}", p.body);
    let p = app
        .submit_with(
            &ops,
            &detail,
            &sub,
            &[("plan", "GOLD"), ("status", "active"), ("trial_ends_on", ""), ("renews_on", "2026-12-01")],
        )
        .await;
    assert_eq!(p.status, 303);
    let row = su
        .query_one(
            "select plan_code, status, renews_on::text from app.subscriptions where tenant_id = $1",
            &[&a],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1), row.get::<_, String>(2)),
        ("GOLD".into(), "active".into(), "2026-12-01".into())
    );
    // manual payments
    let pay = format!("/admin/shops/{a}/payments");
    let p = app
        .submit_with(
            &ops,
            &detail,
            &pay,
            &[("amount", "0"), ("paid_on", "2999-01-01"), ("method", "bitcoin"), ("reference", "")],
        )
        .await;
    assert_eq!(p.status, 422);
    for msg in
        ["El importe debe ser mayor que cero", "La fecha no puede ser futura", "Elija un medio de pago"]
    {
        assert!(p.body.contains(msg), "{msg}");
    }
    assert_eq!(count("select count(*) from app.subscription_payments").await, 0);
    let p = app
        .submit_with(
            &ops,
            &detail,
            &pay,
            &[
                ("amount", "1.234,50"),
                ("paid_on", "2026-01-15"),
                ("method", "transfer"),
                ("reference", "TRF-881"),
            ],
        )
        .await;
    assert_eq!(p.status, 303);
    let row = su
        .query_one(
            "select amount, recorded_by is not null from app.subscription_payments where tenant_id = $1",
            &[&a],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Decimal>(0), Decimal::new(123450, 2));
    assert!(row.get::<_, bool>(1));
    let p = app.get_with(&ops, &detail).await;
    assert!(p.body.contains("TRF-881") && p.body.contains("1.234,50"), "{}", p.body);
    let actions = audit_actions(&su).await;
    for a in ["plans.insert", "plans.update", "subscriptions.update", "subscription_payments.insert"] {
        assert!(actions.iter().any(|x| x == a), "{a} not in {actions:?}");
    }
}

#[tokio::test]
async fn view_as_is_read_only_shows_a_banner_and_is_recorded() {
    let app = spawn_app().await;
    add_ops(&app).await;
    let (a, _owner) = shop(&app, "Kiosco Visto", "visto@example.com").await;
    let su = app.db.admin().await;
    let schema = format!("tenant_{a}");
    let owner_id: i64 =
        su.query_one("select id from app.users where email = 'visto@example.com'", &[]).await.unwrap().get(0);
    // a product and a sale in the shop
    let sale_id: i64 = {
        let mut su2 = app.db.admin().await;
        let tx = su2.transaction().await.unwrap();
        tx.query_one(
            "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
            &[&a.to_string(), &owner_id.to_string()],
        )
        .await
        .unwrap();
        let p: i64 = tx
            .query_one(
                &format!(
                    "insert into {schema}.products (sku, name, unit_id, price)
                     values ('YB-1', 'Yerba Buena', (select id from {schema}.units where code = 'u'), 10) returning id"
                ),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        tx.execute(
            &format!(
                "insert into {schema}.stock_movements (product_id, kind, quantity) values ($1, 'opening', 5)"
            ),
            &[&p],
        )
        .await
        .unwrap();
        let customer: i64 = tx
            .query_one(&format!("select id from {schema}.customers where is_final_consumer"), &[])
            .await
            .unwrap()
            .get(0);
        let sale: i64 = tx
            .query_one(
                &format!(
                    "insert into {schema}.sales (idempotency_key, customer_id, user_id, total, tendered, change)
                     values (gen_random_uuid(), $1, $2, 20, 20, 0) returning id"
                ),
                &[&customer, &owner_id],
            )
            .await
            .unwrap()
            .get(0);
        tx.execute(
            &format!(
                "insert into {schema}.sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
                 values ($1, 1, $2, 'Yerba Buena', 2, 10, 0, 20)"
            ),
            &[&sale, &p],
        )
        .await
        .unwrap();
        tx.execute(
            &format!("insert into {schema}.sale_payments (sale_id, method, amount) values ($1, 'cash', 20)"),
            &[&sale],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        sale
    };
    let ops = ops_client(&app).await;
    // not opened yet: back to the shop's page
    let p = app.get_with(&ops, &format!("/admin/view/{a}")).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some(format!("/admin/shops/{a}").as_str())));
    let p =
        app.submit_with(&ops, &format!("/admin/shops/{a}"), &format!("/admin/shops/{a}/view-as"), &[]).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some(format!("/admin/view/{a}").as_str())));
    for path in [
        format!("/admin/view/{a}"),
        format!("/admin/view/{a}/products"),
        format!("/admin/view/{a}/stock"),
        format!("/admin/view/{a}/sales"),
        format!("/admin/view/{a}/sales/{sale_id}"),
    ] {
        let p = app.get_with(&ops, &path).await;
        assert_eq!(p.status, 200, "{path}: {}", p.body);
        assert!(p.body.contains("Viendo Kiosco Visto como soporte — solo lectura"), "{path}: no banner");
    }
    let p = app.get_with(&ops, &format!("/admin/view/{a}/products")).await;
    assert!(p.body.contains("Yerba Buena"), "{}", p.body);
    let p = app.get_with(&ops, &format!("/admin/view/{a}/sales/{sale_id}")).await;
    assert!(p.body.contains("Yerba Buena"), "{}", p.body);
    assert_eq!(app.get_with(&ops, &format!("/admin/view/{a}/sales/999999")).await.status, 404);
    // the panel's client holds no shop session: shop forms are refused
    let p = app
        .submit_with(&ops, "/login", "/products", &[("sku", "X-1"), ("name", "Nuevo"), ("price", "1")])
        .await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/login")));
    let n: i64 = su.query_one(&format!("select count(*) from {schema}.products"), &[]).await.unwrap().get(0);
    assert_eq!(n, 1);
    // closing ends it; both are recorded
    let p = app.submit_with(&ops, &format!("/admin/view/{a}"), "/admin/view/close", &[]).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some(format!("/admin/shops/{a}").as_str())));
    assert_eq!(app.get_with(&ops, &format!("/admin/view/{a}")).await.status, 303);
    let actions = audit_actions(&su).await;
    assert!(actions.ends_with(&["view_as.open".to_string(), "view_as.close".to_string()]), "{actions:?}");
    let p = app.get_with(&ops, "/admin/audit").await;
    assert!(p.body.contains("view_as.open"), "{}", p.body);
}
