//! End-to-end tests in a real headless Chromium: a person signs up, stocks the shop, sells at the
//! counter and sees the dashboard change; staff sell but are refused where they must be; a CSV is
//! imported; a quote becomes a sale; the main pages pass an axe-core check; the counter works on a
//! phone-sized screen. Screenshots of the key pages are kept under target/e2e-artifacts/.
mod browser;
mod common;

use browser::Browser;
use common::{spawn_app, TestApp, PASSWORD};

/// "2.500" (es) or "2,500" (en): the same amount in either locale.
fn either(amount_es: &str) -> [String; 2] {
    [amount_es.to_string(), amount_es.replace('.', "#").replace(',', ".").replace('#', ",")]
}

/// Waits (up to 10 s: htmx may still be swapping the page in) for the amount in either locale.
async fn see_amount(b: &Browser, amount_es: &str) {
    let [es, en] = either(amount_es);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = b.text().await;
        if text.contains(&es) || text.contains(&en) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "expected {es} or {en} on {}:\n{text}", b.path().await);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Waits (up to 5 s) until the element with `id` has the keyboard focus.
async fn focus_returns_to(b: &Browser, id: &str, why: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let now = b.focused_id().await;
        if now == id {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{why}: the focus is on {now:?}, not {id:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Signs in through the login form.
async fn login(b: &Browser, email: &str) {
    b.goto("/login").await;
    b.fill("#f-email", email).await;
    b.fill("#f-password", PASSWORD).await;
    b.click("form[action='/login'] button[type=submit]").await;
    // the login page has a nav of its own: wait for the navigation, not for any nav
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while b.path().await.starts_with("/login") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.find("nav").await;
    assert!(!b.path().await.starts_with("/login"), "login failed for {email}:\n{}", b.text().await);
}

/// A shop with an owner, a staff member and one product, made through the HTTP client.
async fn shop_with_product(app: &TestApp) -> (i64, String, String) {
    let (shop, _) = app.db.create_shop("Kiosco E2E").await;
    let owner = format!("owner-{shop}@example.com");
    let staff = format!("staff-{shop}@example.com");
    app.db.add_member(shop, &owner, "owner").await;
    app.db.add_member(shop, &staff, "staff").await;
    let http = common::client();
    app.login_with(&http, &owner, PASSWORD).await;
    let page = app
        .submit_with(
            &http,
            "/products/new",
            "/products",
            &[
                ("sku", "YER-1"),
                ("barcode", "7790001000011"),
                ("name", "Yerba mate 1 kg"),
                ("unit_id", "1"),
                ("price", "2500"),
                ("cost", "1500"),
                ("min_stock", "2"),
                ("opening_stock", "20"),
                ("track_stock", "on"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "product not created: {}", page.body);
    (shop, owner, staff)
}

#[tokio::test]
async fn owner_signs_up_stocks_sells_and_sees_the_dashboard() {
    let app = spawn_app().await;
    let mut b = Browser::start(&app.base, "owner_day").await;

    b.goto("/signup").await;
    b.shot("signup").await;
    b.fill("#f-shop_name", "Almacén Las Flores").await;
    b.fill("#f-display_name", "Ana Flores").await;
    b.fill("#f-email", "ana@example.com").await;
    b.fill("#f-password", PASSWORD).await;
    b.fill("#f-password_confirm", PASSWORD).await;
    b.click("form[action='/signup'] button[type=submit]").await;
    b.see("Ana Flores").await;
    b.shot("dashboard-empty").await;

    b.goto("/products/new").await;
    b.fill("#f-sku", "ACE-900").await;
    b.fill("#f-barcode", "7790002000028").await;
    b.fill("#f-name", "Aceite de girasol 900 ml").await;
    b.fill("#f-price", "1250,50").await;
    b.fill("#f-cost", "800").await;
    b.fill("#f-min_stock", "5").await;
    b.fill("#f-opening_stock", "12").await;
    b.shot("product-form").await;
    b.click("form[action='/products'] button[type=submit]").await;
    b.see("Aceite de girasol 900 ml").await;
    see_amount(&b, "1.250,50").await;
    b.shot("product").await;

    // The counter: the scan field has the focus; a scanner types the barcode and presses Enter.
    b.goto("/pos").await;
    assert_eq!(b.focused_id().await, "f-code", "the counter must open with the focus on the scan field");
    b.find("#f-code").await.send_keys("7790002000028\n").await.expect("scan");
    b.see("Aceite de girasol 900 ml").await;
    focus_returns_to(&b, "f-code", "after a scan the focus is back on the scan field").await;
    b.find("#f-code").await.send_keys("7790002000028\n").await.expect("scan again");
    see_amount(&b, "2.501,00").await;
    b.shot("counter-cart").await;
    b.fill("#pay-cash", "3000").await;
    b.click("form.checkout button[type=submit]").await;
    b.find("article.receipt").await;
    see_amount(&b, "499,00").await; // change
    b.shot("receipt").await;

    b.goto("/").await;
    see_amount(&b, "2.501,00").await;
    b.see("#1").await;
    b.shot("dashboard-after-sale").await;
    b.close().await;
}

#[tokio::test]
async fn staff_sell_but_are_refused_where_they_must_be() {
    let app = spawn_app().await;
    let (_shop, _owner, staff) = shop_with_product(&app).await;
    let mut b = Browser::start(&app.base, "staff").await;
    login(&b, &staff).await;
    b.shot("staff-dashboard").await;
    let nav = b.find("nav").await.text().await.expect("nav text");
    for hidden in ["/products/new", "/stock/adjust"] {
        assert!(!b.exists(&format!("nav a[href='{hidden}']")).await, "staff nav links to {hidden}: {nav}");
    }

    b.goto("/pos").await;
    b.find("#f-code").await.send_keys("7790001000011\n").await.expect("scan");
    b.see("Yerba mate 1 kg").await;
    b.fill("#pay-cash", "2500").await;
    b.click("form.checkout button[type=submit]").await;
    b.find("article.receipt").await;
    b.shot("staff-receipt").await;

    for path in ["/products/new", "/stock/low", "/sales"] {
        b.goto(path).await;
        let _ = b.text().await;
    }
    b.goto("/products/new").await;
    b.find("h1").await;
    let h1 = b.find("h1").await.text().await.expect("h1");
    assert!(h1 == "No permitido" || h1 == "Not allowed", "staff reached /products/new: {h1}");
    b.shot("staff-refused").await;
    b.close().await;
}

#[tokio::test]
async fn csv_import_previews_then_applies() {
    let app = spawn_app().await;
    let (_shop, owner, _staff) = shop_with_product(&app).await;
    let dir = std::env::temp_dir().join(format!("stock-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join("catalogo.csv");
    std::fs::write(
        &file,
        "sku,name,price,cost,stock\nGAL-1,Galletitas de agua,\"850,00\",500,30\nFID-1,Fideos spaghetti 500 g,\"1.100,50\",700,15\n",
    )
    .expect("write csv");
    let mut b = Browser::start(&app.base, "csv_import").await;
    login(&b, &owner).await;
    b.goto("/products/import").await;
    b.find("#f-file").await.send_keys(file.to_str().expect("utf-8 path")).await.expect("choose file");
    b.shot("import-form").await;
    b.click("form[action='/products/import'] button[type=submit]").await;
    b.see("catalogo.csv").await;
    let preview = b.find("main").await.text().await.expect("preview");
    assert!(
        preview.contains("New products\n2\n") || preview.contains("Productos nuevos\n2\n"),
        "the preview counts two new products:\n{preview}"
    );
    b.shot("import-preview").await;
    b.click("form[action$='/apply'] button[type=submit]").await;
    b.goto("/products?q=fideos").await;
    b.see("Fideos spaghetti 500 g").await;
    see_amount(&b, "1.100,50").await;
    b.shot("imported-products").await;
    b.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_quote_becomes_a_sale() {
    let app = spawn_app().await;
    let (_shop, owner, _staff) = shop_with_product(&app).await;
    let mut b = Browser::start(&app.base, "quote").await;
    login(&b, &owner).await;
    b.goto("/quotes/new").await;
    b.fill("input[name='code_0']", "YER-1").await;
    b.fill("input[name='quantity_0']", "3").await;
    b.shot("quote-form").await;
    b.click("form[action='/quotes'] button[type=submit]").await;
    b.find(".quote-sheet").await;
    b.see("Yerba mate 1 kg").await;
    see_amount(&b, "7.500,00").await;
    b.shot("quote").await;
    b.fill("#f-amount", "7500").await;
    b.click("#convert button[type=submit]").await;
    b.find("article.receipt").await;
    b.see("Yerba mate 1 kg").await;
    b.shot("quote-converted").await;
    b.close().await;
}

#[tokio::test]
async fn main_pages_have_no_serious_accessibility_violations() {
    let app = spawn_app().await;
    let (_shop, owner, _staff) = shop_with_product(&app).await;
    let mut b = Browser::start(&app.base, "axe").await;
    let mut problems = Vec::new();
    for path in ["/login", "/signup"] {
        b.goto(path).await;
        for v in b.axe_violations().await {
            problems.push(format!("{path}: {v}"));
        }
    }
    login(&b, &owner).await;
    for path in [
        "/",
        "/products",
        "/products/new",
        "/pos",
        "/sales",
        "/quotes",
        "/quotes/new",
        "/customers",
        "/stock/low",
        "/products/import",
        "/suppliers",
        "/suppliers/new",
        "/purchases",
        "/purchases/new",
        "/money",
        "/balance",
        "/reports",
        "/members",
        "/members/invite",
        "/settings",
        "/audit",
        "/password/change",
    ] {
        b.goto(path).await;
        b.find("main").await;
        for v in b.axe_violations().await {
            problems.push(format!("{path}: {v}"));
        }
    }
    b.goto("/pos").await;
    b.shot("pos-checked").await;
    b.close().await;
    assert!(problems.is_empty(), "axe-core found serious violations:\n{}", problems.join("\n"));
}

#[tokio::test]
async fn the_counter_fits_a_phone() {
    let app = spawn_app().await;
    let (_shop, _owner, staff) = shop_with_product(&app).await;
    let mut b = Browser::start_sized(&app.base, "phone", 390, 844).await;
    login(&b, &staff).await;
    b.goto("/pos").await;
    b.find("#f-code").await.send_keys("7790001000011\n").await.expect("scan");
    b.see("Yerba mate 1 kg").await;
    let overflow = b
        .client
        .execute("return document.documentElement.scrollWidth - window.innerWidth", vec![])
        .await
        .expect("measure");
    b.shot("phone-counter").await;
    assert!(overflow.as_i64().unwrap_or(0) <= 0, "the counter scrolls sideways on a phone by {overflow}px");
    b.close().await;
}

#[tokio::test]
async fn the_counter_searches_as_you_type_and_adds_without_reloading() {
    let app = spawn_app().await;
    let (_shop, _owner, staff) = shop_with_product(&app).await;
    let mut b = Browser::start(&app.base, "counter_htmx").await;
    login(&b, &staff).await;
    b.goto("/pos").await;
    // a marker that a full page load would wipe out
    b.client.execute("window.stockMarker = 42", vec![]).await.expect("set marker");
    b.find("#f-code").await.send_keys("yerba").await.expect("type");
    let found = b.find("#pos-found form[action='/pos/add'] button").await;
    b.see("Yerba mate 1 kg").await;
    b.shot("search-as-you-type").await;
    found.click().await.expect("add from the search results");
    b.find("table.cart").await;
    let marker = b.client.execute("return window.stockMarker", vec![]).await.expect("read marker");
    assert_eq!(marker.as_i64(), Some(42), "adding a line reloaded the whole page");
    focus_returns_to(&b, "f-code", "after adding a line the focus is back on the scan field").await;
    b.shot("added-in-place").await;
    b.close().await;
}

#[tokio::test]
async fn the_counter_works_without_javascript() {
    let app = spawn_app().await;
    let (_shop, _owner, staff) = shop_with_product(&app).await;
    let mut b = Browser::start_with(&app.base, "no_javascript", 1280, 900, false).await;
    login(&b, &staff).await;
    b.goto("/pos").await;
    b.find("#f-code").await.send_keys("yerba\n").await.expect("search");
    b.see("Yerba mate 1 kg").await;
    b.fill("#pos-found input[name='quantity']", "2").await;
    b.click("#pos-found form[action='/pos/add'] button").await;
    b.find("table.cart").await;
    see_amount(&b, "5.000,00").await;
    b.fill("#pay-cash", "5000").await;
    b.click("form.checkout button[type=submit]").await;
    b.find("article.receipt").await;
    b.shot("receipt-without-javascript").await;
    b.close().await;
}

#[tokio::test]
async fn an_invoice_is_received_and_paid() {
    let app = spawn_app().await;
    let (_shop, owner, _staff) = shop_with_product(&app).await;
    let mut b = Browser::start(&app.base, "purchase_invoice").await;
    login(&b, &owner).await;

    b.goto("/suppliers/new").await;
    b.fill("#f-name", "Distribuidora Norte").await;
    b.click("form.card button[type=submit]").await;
    b.see("Distribuidora Norte").await;

    b.goto("/purchases/new").await;
    b.choose("#f-supplier_id", "Distribuidora Norte").await;
    b.fill("#f-number", "A-0001-00001234").await;
    b.shot("invoice-new").await;
    b.click("form[action='/purchases'] button[type=submit]").await;
    b.see("A-0001-00001234").await;

    // a draft gets its lines from a product search
    b.fill("#f-q", "yerba\n").await;
    b.see("Yerba mate 1 kg").await;
    b.fill("form.line-form input[name='quantity']", "10").await;
    b.fill("form.line-form input[name='unit_cost']", "1600").await;
    b.click("form.line-form button[type=submit]").await;
    see_amount(&b, "16.000,00").await;
    b.shot("invoice-draft").await;
    b.click("form[action$='/receive'] button[type=submit]").await;
    b.find("form[action$='/payments']").await;
    b.shot("invoice-received").await;

    b.fill("#f-amount", "6000").await;
    b.click("form[action$='/payments'] button[type=submit]").await;
    see_amount(&b, "10.000,00").await; // still owed
    b.shot("invoice-partly-paid").await;

    // the stock went up by the ten received
    b.goto("/products?q=yerba").await;
    b.see("30").await;
    b.goto("/money").await;
    see_amount(&b, "6.000,00").await;
    b.shot("money-ledger").await;
    b.close().await;
}

async fn stock_cli(app: &TestApp, args: &[&str]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_stock"))
        .args(args)
        .env("DATABASE_URL", app.db.url())
        .env("STOCK_ROLE_PREFIX", common::PREFIX)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run stock");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "stock {args:?} failed:\n{text}");
    text
}

#[tokio::test]
async fn a_shop_backed_up_dropped_and_restored_from_the_cli_is_back_in_the_browser() {
    let app = spawn_app().await;
    let (shop, owner, _staff) = shop_with_product(&app).await;
    let admin = app.db.admin().await;
    let slug: String =
        admin.query_one("select slug from app.tenants where id = $1", &[&shop]).await.expect("slug").get(0);
    let dir = std::env::temp_dir().join(format!("stock-e2e-backup-{}-{shop}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join("shop.stock");
    let file = file.to_str().expect("utf-8 path");

    stock_cli(&app, &["tenant", "backup", &slug, "-o", file]).await;
    stock_cli(&app, &["tenant", "drop", &slug, "--yes"]).await;
    let mut b = Browser::start(&app.base, "backup_restore").await;
    b.goto("/login").await;
    b.fill("#f-email", &owner).await;
    b.fill("#f-password", PASSWORD).await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.shot("after-drop").await;
    b.not_see("Yerba mate 1 kg").await;

    stock_cli(&app, &["tenant", "restore", file]).await;
    login(&b, &owner).await;
    b.goto("/products").await;
    b.see("Yerba mate 1 kg").await;
    b.shot("restored-products").await;
    b.goto("/audit").await;
    b.see("restore").await;
    b.shot("restored-audit").await;
    b.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_invited_person_accepts_sells_as_staff_and_is_refused_where_staff_must_be() {
    const PUBLIC: &str = "https://stock.example.test";
    let smtp = common::smtp::SmtpServer::start().await;
    let mut db = common::TestDb::new().await;
    db.config.smtp = Some(stock::config::SmtpSettings::parse(&smtp.url()).expect("smtp url"));
    db.config.public_url = Some(PUBLIC.into());
    let app = common::spawn_app_on(db).await;
    let (_shop, owner, _staff) = shop_with_product(&app).await;

    let mut b = Browser::start(&app.base, "invitation").await;
    login(&b, &owner).await;
    b.goto("/members").await;
    b.shot("members").await;
    b.click("a[href='/members/invite']").await;
    b.fill("#f-email", "nueva@example.com").await;
    b.choose_value("#f-role", "staff").await;
    b.shot("invite-form").await;
    b.click("form[action='/members/invite'] button[type=submit]").await;
    b.see("nueva@example.com").await;
    b.shot("invitation-sent").await;
    b.close().await;

    // the e-mail arrives at the SMTP server; its link opens the accept page
    let mail = common::smtp::parse(&smtp.wait_for(1).await);
    let link = mail.link(PUBLIC);
    let path = link.strip_prefix(PUBLIC).expect("link on the public address").to_string();
    let mut b = Browser::start(&app.base, "invitation_accept").await;
    b.goto(&path).await;
    b.see("Kiosco E2E").await;
    b.shot("accept-page").await;
    b.fill("#f-display_name", "Nueva Cajera").await;
    b.fill("#f-password", PASSWORD).await;
    b.fill("#f-password_confirm", PASSWORD).await;
    b.click("form[action='/invite/accept'] button[type=submit]").await;
    b.find("nav").await;
    b.shot("accepted").await;

    // she sells at the counter
    b.goto("/pos").await;
    b.find("#f-code").await.send_keys("7790001000011\n").await.expect("scan");
    b.see("Yerba mate 1 kg").await;
    b.fill("#pay-cash", "2500").await;
    b.click("form.checkout button[type=submit]").await;
    b.find("article.receipt").await;
    b.shot("staff-sale").await;

    // and is refused where staff must be
    for path in ["/products/new", "/members", "/money", "/purchases", "/reports", "/settings", "/audit"] {
        b.goto(path).await;
        let h1 = b.find("h1").await.text().await.expect("h1");
        assert!(h1 == "No permitido" || h1 == "Not allowed", "staff reached {path}: {h1}");
    }
    b.shot("staff-refused").await;
    b.close().await;
}
