//! Rules the database keeps on its own, not only the application (sql/app/V20__database_rules.sql,
//! sql/tenant/V12__database_rules.sql, docs/POLICIES.md "Rules kept by the database"): exercised
//! as the web app's login role in a request context set exactly as the app sets it (and with a
//! wrong or missing one), and through the real app where a form exists:
//! 1. ownership changes hands only through `app_private.hand_over_shop`; the owner's plain
//!    UPDATE to role 'owner' is refused by the policy `owner_by_handover_only`;
//! 2. a new purchase invoice needs an active supplier and its new lines active products, while
//!    corrections of recorded invoices keep working;
//! 3. a unit that is not divisible takes whole quantities in every table people write them to;
//! 4. the login and password-reset throttles share `app_private.throttle_retry_after`.
mod common;

use common::{roles, set_ctx, Page, TestDb, PASSWORD};
use tokio_postgres::{Client, Error};

fn describe(e: &Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} {} (constraint {:?})", d.code().code(), d.message(), d.constraint()),
        None => format!("{e:?}"),
    }
}

/// The refusal's SQLSTATE and, when given, the constraint it names.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(r: Result<T, Error>, code: &str, constraint: Option<&str>, what: &str) {
    let e = match r {
        Ok(v) => panic!("{what}: expected a refusal, but it succeeded: {v:?}"),
        Err(e) => e,
    };
    assert_eq!(e.code().map(|c| c.code()), Some(code), "{what}: got {}", describe(&e));
    if let Some(c) = constraint {
        assert_eq!(e.as_db_error().and_then(|d| d.constraint()), Some(c), "{what}: {}", describe(&e));
    }
}

#[track_caller]
fn assert_ok<T>(r: Result<T, Error>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {}", describe(&e)))
}

type Ctx<'a> = (Option<i64>, Option<i64>, &'a str);

/// One statement recording a cash sale of one line: `quantity` of `product` at 10 each, to
/// `customer`, by the user in context; `extra` adds a column and its value to the line (", col",
/// ", value"). Returns the line's id.
fn one_line_sale(customer: i64, product: i64, quantity: &str, extra: (&str, &str)) -> String {
    let total = format!("round({quantity} * 10, 2)");
    let (extra_col, extra_val) = extra;
    format!(
        "with s as (insert into sales (idempotency_key, customer_id, user_id, total, tendered, change)
                    values (gen_random_uuid(), {customer}, app.current_user_id(), {total}, {total}, 0) returning id),
              l as (insert into sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total{extra_col})
                    select id, 1, {product}, 'x', {quantity}, 10, 0, {total}{extra_val} from s returning id, sale_id),
              p as (insert into sale_payments (sale_id, method, amount) select sale_id, 'cash', {total} from l)
         select id from l"
    )
}

/// Runs `sql` as the login role in a request context, in a transaction of its own that is rolled
/// back (committed when `commit`); returns the first column of the first row, if any.
async fn run(c: &mut Client, ctx: Ctx<'_>, sql: &str, commit: bool) -> Result<Option<String>, Error> {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, ctx.0, ctx.1, ctx.2).await;
    let rows = tx.simple_query(sql).await?;
    let first = rows.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).map(str::to_string)),
        _ => None,
    });
    if commit {
        tx.commit().await?;
    }
    Ok(first.flatten())
}

/// Shop A (owner, admin, staff; products in a whole unit, a divisible unit and an inactive one;
/// an active supplier and one deactivated after a received invoice) and shop B (owner, staff).
struct Fixture {
    db: TestDb,
    admin: Client,
    a: i64,
    b: i64,
    a_owner: i64,
    a_admin: i64,
    a_staff: i64,
    b_owner: i64,
    b_staff: i64,
    /// product in 'u' with 10 units
    whole: i64,
    /// product in 'kg' with 2.5 kg
    kilos: i64,
    /// inactive product in 'u'
    old: i64,
    supplier: i64,
    gone_supplier: i64,
    /// a received invoice of `gone_supplier` (2 × `whole`, 2 × `old`), from before it was deactivated
    gone_invoice: i64,
    customer: i64,
}

async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let (a, _) = db.create_shop("Ferretería A").await;
    let (b, _) = db.create_shop("Tienda B").await;
    let a_owner = db.add_member(a, "owner-a@example.com", "owner").await;
    let a_admin = db.add_member(a, "admin-a@example.com", "admin").await;
    let a_staff = db.add_member(a, "staff-a@example.com", "staff").await;
    let b_owner = db.add_member(b, "owner-b@example.com", "owner").await;
    let b_staff = db.add_member(b, "staff-b@example.com", "staff").await;
    let mut admin = db.admin().await;
    let tx = admin.transaction().await.expect("begin");
    set_ctx(&tx, Some(a), Some(a_owner), "postgres").await;
    let one = |sql: &'static str| {
        let tx = &tx;
        async move { assert_ok(tx.query_one(sql, &[]).await, sql).get::<_, i64>(0) }
    };
    let whole = one("insert into products (sku, name, unit_id, price, cost)
         select 'TORN', 'Tornillo', id, 10, 5 from units where code = 'u' returning id")
    .await;
    let kilos = one("insert into products (sku, name, unit_id, price, cost)
         select 'CLAVO', 'Clavos', id, 20, 8 from units where code = 'kg' returning id")
    .await;
    let old = one("insert into products (sku, name, unit_id, price, cost)
         select 'VIEJO', 'Producto viejo', id, 10, 5 from units where code = 'u' returning id")
    .await;
    assert_ok(
        tx.batch_execute(&format!(
            "insert into stock_movements (product_id, kind, quantity) values ({whole}, 'opening', 10), ({kilos}, 'opening', 2.5)"
        ))
        .await,
        "opening stock",
    );
    let supplier = one("insert into suppliers (name) values ('Mayorista Sur') returning id").await;
    let gone_supplier = one("insert into suppliers (name) values ('Cerró') returning id").await;
    let gone_invoice: i64 = assert_ok(
        tx.query_one(
            "insert into purchase_invoices (supplier_id, number, invoice_date, due_date)
             values ($1, 'V-1', current_date, current_date + 30) returning id",
            &[&gone_supplier],
        )
        .await,
        "old invoice",
    )
    .get(0);
    assert_ok(
        tx.batch_execute(&format!(
            "insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost)
                 values ({gone_invoice}, {whole}, 2, 5), ({gone_invoice}, {old}, 2, 5);
             update purchase_invoices set status = 'received' where id = {gone_invoice};
             update suppliers set active = false where id = {gone_supplier};
             update products set active = false where id = {old};"
        ))
        .await,
        "received, then supplier and product deactivated",
    );
    let customer = one("select id from customers where is_final_consumer").await;
    tx.commit().await.expect("commit fixture");
    Fixture {
        db,
        admin,
        a,
        b,
        a_owner,
        a_admin,
        a_staff,
        b_owner,
        b_staff,
        whole,
        kilos,
        old,
        supplier,
        gone_supplier,
        gone_invoice,
        customer,
    }
}

impl Fixture {
    async fn role_of(&self, tenant: i64, user: i64) -> Option<String> {
        self.admin
            .query_opt(
                "select role from app.memberships where tenant_id = $1 and user_id = $2",
                &[&tenant, &user],
            )
            .await
            .expect("role")
            .map(|r| r.get(0))
    }

    async fn count(&self, sql: &str) -> i64 {
        let sql = sql.replace("{s}", &format!("tenant_{}", self.a));
        self.admin.query_one(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {}", describe(&e))).get(0)
    }

    async fn member_audit(&self) -> Vec<String> {
        self.admin
            .query(
                &format!(
                    "select action from tenant_{}.audit_log where entity = 'member' order by id",
                    self.a
                ),
                &[],
            )
            .await
            .expect("audit")
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// 1. ownership

#[tokio::test]
async fn ownership_changes_hands_only_through_the_handover() {
    let f = fixture().await;
    let r = roles();
    let mut c = f.db.app_login().await;
    let a = f.a;
    let owner_a: Ctx = (Some(a), Some(f.a_owner), &r.owner);
    let make_owner =
        |u: i64| format!("update app.memberships set role = 'owner' where tenant_id = {a} and user_id = {u}");

    // the owner's plain UPDATE never makes an owner: the restrictive policy refuses the new row
    for u in [f.a_staff, f.a_admin] {
        assert_refused(
            run(&mut c, owner_a, &make_owner(u), true).await,
            "42501",
            None,
            "plain update to owner",
        );
        assert_ne!(f.role_of(a, u).await.as_deref(), Some("owner"));
    }
    // ... while it still changes roles between admin and staff
    let to_staff = format!(
        "update app.memberships set role = 'staff' where tenant_id = {a} and user_id = {}",
        f.a_admin
    );
    assert_ok(run(&mut c, owner_a, &to_staff, false).await, "admin to staff");

    // only the owner role may call the handover, and only as an owner of the shop in context
    let hand_to = |u: i64| format!("select app_private.hand_over_shop({u})");
    for role in [&r.admin, &r.staff, &r.anon] {
        assert_refused(
            run(&mut c, (Some(a), Some(f.a_owner), role), &hand_to(f.a_admin), true).await,
            "42501",
            None,
            &format!("{role} calls the handover"),
        );
    }
    for (what, ctx) in [
        ("a staff member with the owner role", (Some(a), Some(f.a_staff), r.owner.as_str())),
        ("another shop in context", (Some(f.b), Some(f.a_owner), r.owner.as_str())),
        ("no shop in context", (None, Some(f.a_owner), r.owner.as_str())),
        ("no user in context", (Some(a), None, r.owner.as_str())),
        ("no context at all", (None, None, r.owner.as_str())),
    ] {
        assert_refused(run(&mut c, ctx, &hand_to(f.a_admin), true).await, "42501", None, what);
    }
    // B's owner cannot hand B to A's admin (not a member of B), nor reach A's members
    assert_eq!(
        assert_ok(run(&mut c, (Some(f.b), Some(f.b_owner), &r.owner), &hand_to(f.a_admin), true).await, "B"),
        Some("f".into())
    );
    assert_eq!(
        assert_ok(run(&mut c, owner_a, &hand_to(f.b_staff), true).await, "B's staff"),
        Some("f".into())
    );
    assert_refused(
        run(&mut c, owner_a, &hand_to(f.a_owner), true).await,
        "23514",
        Some("memberships_already_owner"),
        "to the owner itself",
    );
    assert!(f.member_audit().await.is_empty(), "nothing changed so far");

    // the handover: the admin becomes owner, the owner an admin, one call
    assert_eq!(
        assert_ok(run(&mut c, owner_a, &hand_to(f.a_admin), true).await, "handover"),
        Some("t".into())
    );
    assert_eq!(f.role_of(a, f.a_admin).await.as_deref(), Some("owner"));
    assert_eq!(f.role_of(a, f.a_owner).await.as_deref(), Some("admin"));
    assert_eq!(f.member_audit().await, ["ownership_handover", "role_change"]);
    assert_eq!(f.role_of(f.b, f.b_owner).await.as_deref(), Some("owner"), "B untouched");

    // the new owner still cannot leave the shop without an owner
    let demote_self = format!(
        "update app.memberships set role = 'admin' where tenant_id = {a} and user_id = {}",
        f.a_admin
    );
    assert_refused(
        run(&mut c, (Some(a), Some(f.a_admin), &r.owner), &demote_self, true).await,
        "23514",
        Some("memberships_last_owner"),
        "last owner demoted",
    );
    // and the former owner, an admin now, can neither hand over nor make itself owner again
    let ex: Ctx = (Some(a), Some(f.a_owner), &r.admin);
    assert_refused(run(&mut c, ex, &hand_to(f.a_staff), true).await, "42501", None, "ex-owner hands over");
    assert_refused(run(&mut c, ex, &make_owner(f.a_owner), true).await, "42501", None, "ex-owner update");
    assert_eq!(f.role_of(a, f.a_owner).await.as_deref(), Some("admin"));
}

#[tokio::test]
async fn the_members_page_makes_owners_only_by_the_handover() {
    let f = fixture().await;
    let (a, a_owner, a_admin, a_staff) = (f.a, f.a_owner, f.a_admin, f.a_staff);
    let admin = f.db.admin().await;
    let role = |u: i64| {
        let admin = &admin;
        async move {
            admin
                .query_one(
                    "select role from app.memberships where tenant_id = $1 and user_id = $2",
                    &[&a, &u],
                )
                .await
                .expect("role")
                .get::<_, String>(0)
        }
    };
    let app = common::spawn_app_on(f.db).await;
    assert_eq!(app.login("owner-a@example.com", PASSWORD).await.status, 303);
    let r = app.submit("/members", &format!("/members/{a_staff}/role"), &[("role", "owner")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Una persona pasa a ser dueño solo con"), "{}", r.body);
    assert_eq!(role(a_staff).await, "staff");
    let r = app.submit("/members", &format!("/members/{a_admin}/owner"), &[]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/dashboard")), "{}", r.body);
    assert_eq!(role(a_admin).await, "owner");
    assert_eq!(role(a_owner).await, "admin");
}

// ---------------------------------------------------------------------------------------------
// 2. purchases name active suppliers and products

#[tokio::test]
async fn a_new_invoice_needs_an_active_supplier_and_corrections_keep_working() {
    let f = fixture().await;
    let r = roles();
    let mut c = f.db.app_login().await;
    let a = f.a;
    let new_invoice = |s: i64, n: &str| {
        format!(
            "insert into tenant_{a}.purchase_invoices (supplier_id, number, invoice_date, due_date)
             values ({s}, '{n}', current_date, current_date + 30) returning id"
        )
    };
    for (who, role) in [(f.a_owner, &r.owner), (f.a_admin, &r.admin)] {
        assert_refused(
            run(&mut c, (Some(a), Some(who), role), &new_invoice(f.gone_supplier, "N-1"), true).await,
            "23514",
            Some("purchase_invoices_supplier_active"),
            &format!("{role}: new invoice of a deactivated supplier"),
        );
        assert_ok(
            run(&mut c, (Some(a), Some(who), role), &new_invoice(f.supplier, "N-1"), false).await,
            "active",
        );
    }
    // staff, another shop's context, or none: refused as before, whatever the supplier
    for (what, ctx) in [
        ("staff", (Some(a), Some(f.a_staff), r.staff.as_str())),
        ("another shop in context", (Some(f.b), Some(f.b_owner), r.owner.as_str())),
        ("no shop in context", (None, Some(f.a_owner), r.owner.as_str())),
    ] {
        for s in [f.supplier, f.gone_supplier] {
            assert_refused(run(&mut c, ctx, &new_invoice(s, "N-2"), true).await, "42501", None, what);
        }
    }
    assert_eq!(f.count("select count(*) from {s}.purchase_invoices").await, 1, "only the old invoice");

    // a correction of the deactivated supplier's invoice: created, given lines (the inactive
    // product included: units going back), received
    let tx_sql = format!(
        "with c as (insert into tenant_{a}.purchase_invoices (supplier_id, kind, corrects_id, number, invoice_date)
                    values ({s}, 'correction', {i}, 'NC-1', current_date) returning id)
         select id from c",
        s = f.gone_supplier,
        i = f.gone_invoice
    );
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(a), Some(f.a_admin), &r.admin).await;
    let nc: i64 = assert_ok(tx.query_one(&tx_sql, &[]).await, "correction").get(0);
    assert_ok(
        tx.batch_execute(&format!(
            "insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost)
                 values ({nc}, {w}, -1, 5), ({nc}, {o}, -1, 5);
             update purchase_invoices set status = 'received' where id = {nc};",
            w = f.whole,
            o = f.old
        ))
        .await,
        "correction lines and receipt",
    );
    tx.commit().await.expect("commit correction");
    assert_eq!(
        f.count(&format!(
            "select credited::bigint from {{s}}.purchase_invoices where id = {}",
            f.gone_invoice
        ))
        .await,
        -10
    );

    // a new invoice's line naming an inactive product is refused; an active one goes in
    let mut tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(a), Some(f.a_owner), &r.owner).await;
    let inv: i64 = assert_ok(tx.query_one(&new_invoice(f.supplier, "N-3"), &[]).await, "draft").get(0);
    let line = |p: i64| {
        format!("insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost) values ({inv}, {p}, 1, 5)")
    };
    let sp = tx.savepoint("inactive").await.expect("savepoint");
    assert_refused(
        sp.batch_execute(&line(f.old)).await,
        "23514",
        Some("purchase_invoice_lines_product_active"),
        "inactive product on a new invoice",
    );
    drop(sp);
    assert_ok(tx.batch_execute(&line(f.whole)).await, "active product");
    tx.commit().await.expect("commit");
    assert_eq!(
        f.count(&format!("select count(*) from {{s}}.purchase_invoice_lines where invoice_id = {inv}")).await,
        1
    );

    // reactivated, the supplier takes new invoices again
    let owner_a: Ctx = (Some(a), Some(f.a_owner), &r.owner);
    let reactivate = format!("update tenant_{a}.suppliers set active = true where id = {}", f.gone_supplier);
    assert_ok(run(&mut c, owner_a, &reactivate, true).await, "reactivate");
    assert_ok(run(&mut c, owner_a, &new_invoice(f.gone_supplier, "N-4"), true).await, "reactivated supplier");
}

/// The id at the end of a redirect to `/purchases/{id}`.
fn invoice_id(r: &Page) -> i64 {
    let loc = r.location.as_deref().unwrap_or_else(|| panic!("no redirect: {}", r.body));
    loc.strip_prefix("/purchases/").and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("redirect {loc}"))
}

#[tokio::test]
async fn the_invoice_forms_refuse_a_deactivated_supplier_and_an_inactive_product() {
    let f = fixture().await;
    let (gone_supplier, gone_invoice, supplier, old, whole) =
        (f.gone_supplier, f.gone_invoice, f.supplier, f.old, f.whole);
    let schema = format!("tenant_{}", f.a);
    let admin = f.db.admin().await;
    let app = common::spawn_app_on(f.db).await;
    assert_eq!(app.login("owner-a@example.com", PASSWORD).await.status, 303);
    let count = |sql: String| {
        let admin = &admin;
        async move { admin.query_one(&sql, &[]).await.expect("count").get::<_, i64>(0) }
    };
    let header = |s: i64, n: &'static str| {
        vec![
            ("supplier_id", s.to_string()),
            ("number", n.to_string()),
            ("invoice_date", "01/03/2025".to_string()),
            ("due_date", "2025-03-31".to_string()),
        ]
    };
    let post = |form: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.submit("/purchases/new", "/purchases", &fields).await
        }
    };
    let r = post(header(gone_supplier, "N-1")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Este proveedor está desactivado"), "{}", r.body);
    assert_eq!(count(format!("select count(*) from {schema}.purchase_invoices")).await, 1, "nothing written");

    // a correction of the deactivated supplier's invoice still goes through the form
    let page = format!("/purchases/{gone_invoice}");
    let r = app
        .submit(
            &page,
            &format!("{page}/corrections"),
            &[("number", "NC-1"), ("invoice_date", "2025-03-05"), ("note", "faltante")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let nc = invoice_id(&r);
    assert_eq!(
        count(format!("select count(*) from {schema}.purchase_invoices where corrects_id = {gone_invoice}"))
            .await,
        1
    );
    let ncp = format!("/purchases/{nc}");
    let (old_s, whole_s) = (old.to_string(), whole.to_string());
    let r = app
        .submit(
            &ncp,
            &format!("{ncp}/lines"),
            &[("product_id", &old_s), ("quantity", "-1"), ("unit_cost", "5")],
        )
        .await;
    assert_eq!(r.status, 303, "a correction line of a product deactivated since: {}", r.body);

    // a new invoice: an inactive product's line gets its message, a fraction of a whole unit too
    let r = post(header(supplier, "N-2")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let inv = invoice_id(&r);
    let ip = format!("/purchases/{inv}");
    let r = app
        .submit(&ip, &format!("{ip}/lines"), &[("product_id", &old_s), ("quantity", "1"), ("unit_cost", "5")])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Este producto está inactivo"), "{}", r.body);
    let r = app
        .submit(
            &ip,
            &format!("{ip}/lines"),
            &[("product_id", &whole_s), ("quantity", "1,5"), ("unit_cost", "5")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Esta unidad solo admite números enteros"), "{}", r.body);
    assert_eq!(
        count(format!("select count(*) from {schema}.purchase_invoice_lines where invoice_id = {inv}")).await,
        0
    );
}

// ---------------------------------------------------------------------------------------------
// 3. whole units

#[tokio::test]
async fn units_that_are_not_divisible_take_whole_quantities_everywhere() {
    let f = fixture().await;
    let r = roles();
    let mut c = f.db.app_login().await;
    let a = f.a;
    let owner: Ctx = (Some(a), Some(f.a_owner), &r.owner);
    let staff: Ctx = (Some(a), Some(f.a_staff), &r.staff);
    let (w, k) = (f.whole, f.kilos);

    // (what, who, statement with {p} for the product and {q} for the quantity, constraint)
    let sale = |p: i64, q: &str| one_line_sale(f.customer, p, q, ("", ""));
    let cart = |p: i64, q: &str| {
        format!(
            // two statements: the line's policy must see the person's draft
            "insert into sale_drafts (user_id) values ({u});
             insert into sale_draft_lines (draft_id, product_id, quantity, unit_price)
             select id, {p}, {q}, 10 from sale_drafts where user_id = {u}",
            u = f.a_staff
        )
    };
    let quote = |p: i64, q: &str| {
        format!(
            "with qt as (insert into quotes (customer_id, user_id, valid_until, total)
                         values ({cu}, {u}, current_date + 15, round({q} * 10, 2)) returning id)
             insert into quote_lines (quote_id, position, product_id, description, quantity, unit_price, discount, total)
             select id, 1, {p}, 'x', {q}, 10, 0, round({q} * 10, 2) from qt",
            cu = f.customer,
            u = f.a_staff
        )
    };
    let purchase = |p: i64, q: &str| {
        format!(
            "with i as (insert into purchase_invoices (supplier_id, number, invoice_date, due_date)
                        values ({s}, 'W-' || gen_random_uuid(), current_date, current_date) returning id)
             insert into purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost) select id, {p}, {q}, 1 from i",
            s = f.supplier
        )
    };
    let movement = |kind: &'static str| {
        move |p: i64, q: &str| {
            if kind == "stocktake" {
                format!("insert into stock_movements (product_id, kind, quantity, counted) values ({p}, 'stocktake', 1, {q})")
            } else {
                format!(
                    "insert into stock_movements (product_id, kind, quantity) values ({p}, '{kind}', {q})"
                )
            }
        }
    };
    type Make<'a> = Box<dyn Fn(i64, &str) -> String + 'a>;
    let cases: Vec<(&str, Ctx, Make, &str)> = vec![
        ("sale line", staff, Box::new(sale), "sale_lines_quantity_whole"),
        ("cart line", staff, Box::new(cart), "sale_draft_lines_quantity_whole"),
        ("quote line", staff, Box::new(quote), "quote_lines_quantity_whole"),
        ("purchase line", owner, Box::new(purchase), "purchase_invoice_lines_quantity_whole"),
        ("adjustment", owner, Box::new(movement("adjustment")), "stock_movements_quantity_whole"),
        ("opening stock", owner, Box::new(movement("opening")), "stock_movements_quantity_whole"),
        ("import", owner, Box::new(movement("import")), "stock_movements_quantity_whole"),
        ("stocktake count", owner, Box::new(movement("stocktake")), "stock_movements_quantity_whole"),
    ];
    for (what, ctx, make, constraint) in &cases {
        let set = |sql: String| format!("set local search_path = tenant_{a}, app; {sql}");
        assert_refused(
            run(&mut c, *ctx, &set(make(w, "1.5")), true).await,
            "23514",
            Some(constraint),
            &format!("{what}: 1.5 of a whole unit"),
        );
        assert_ok(run(&mut c, *ctx, &set(make(w, "2")), false).await, &format!("{what}: 2 units"));
        assert_ok(run(&mut c, *ctx, &set(make(k, "1.5")), false).await, &format!("{what}: 1.5 kg"));
        // another shop's context or none: refused too, and nothing changes
        for other in [(Some(f.b), Some(f.b_owner), r.owner.as_str()), (None, Some(f.a_owner), ctx.2)] {
            assert!(
                run(&mut c, other, &set(make(w, "2")), true).await.is_err(),
                "{what} without A's context"
            );
        }
    }
    assert_eq!(f.count("select count(*) from {s}.sales").await, 0, "nothing was kept");
    // 10 opening + 2 received in the fixture
    assert_eq!(f.count(&format!("select stock::bigint from {{s}}.products where id = {w}")).await, 12);

    // a cart line edited to a fraction
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(a), Some(f.a_staff), &r.staff).await;
    assert_ok(tx.batch_execute(&cart(w, "1")).await, "cart");
    assert_refused(
        tx.execute("update sale_draft_lines set quantity = 0.5", &[]).await,
        "23514",
        Some("sale_draft_lines_quantity_whole"),
        "cart quantity edited to 0.5",
    );
    drop(tx);

    // a return of part of a line: whole units only
    let mut tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(a), Some(f.a_owner), &r.owner).await;
    assert_ok(tx.batch_execute(&sale(w, "3")).await, "sale of 3");
    let ret = "with rt as (insert into sale_returns (sale_id, method, reason) select max(id), 'cash', 'roto' from sales returning id)
               insert into sale_return_lines (return_id, sale_line_id, quantity) select rt.id, (select max(id) from sale_lines), ";
    let sp = tx.savepoint("ret").await.expect("savepoint");
    assert_refused(
        sp.batch_execute(&format!("{ret} 1.5 from rt")).await,
        "23514",
        Some("sale_return_lines_quantity_whole"),
        "return 1.5 units",
    );
    drop(sp);
    assert_ok(tx.batch_execute(&format!("{ret} 1 from rt")).await, "return 1 unit");
    drop(tx);

    // a product in a whole unit keeps a whole minimum, and moves to such a unit only with whole
    // stock; a unit with fractional stock in it stays divisible
    let products = |sql: String| format!("set local search_path = tenant_{a}, app; {sql}");
    for (what, sql, constraint) in [
        ("minimum 0.5 of a whole unit", format!("update products set min_stock = 0.5 where id = {w}"), "products_min_stock_whole"),
        (
            "2.5 kg moved to units",
            format!("update products set unit_id = (select id from units where code = 'u') where id = {k}"),
            "products_stock_whole",
        ),
        ("kg made whole with 2.5 kg in stock", "update units set divisible = false where code = 'kg'".into(), "units_whole_products"),
        (
            "a new product with a minimum of 0.5 units",
            "insert into products (sku, name, unit_id, price, min_stock) select 'NUEVO', 'Nuevo', id, 1, 0.5 from units where code = 'u'"
                .into(),
            "products_min_stock_whole",
        ),
    ] {
        assert_refused(run(&mut c, owner, &products(sql), true).await, "23514", Some(constraint), what);
    }
    assert_ok(
        run(&mut c, owner, &products(format!("update products set min_stock = 0.5 where id = {k}")), false)
            .await,
        "minimum 0.5 kg",
    );
    assert_ok(
        run(&mut c, owner, &products("update units set divisible = false where code = 'm'".into()), false)
            .await,
        "an unused unit made whole",
    );
    // nor while an open quote or a draft invoice holds a fraction of one of its products
    let litres: i64 = f
        .admin
        .query_one(
            &format!(
                "insert into tenant_{a}.products (sku, name, unit_id, price)
                 select 'ACEITE', 'Aceite', id, 1 from tenant_{a}.units where code = 'l' returning id"
            ),
            &[],
        )
        .await
        .expect("a product in litres")
        .get(0);
    let whole_l = "update units set divisible = false where code = 'l'";
    for (what, open) in
        [("an open quote", quote(litres, "0.5")), ("a draft invoice", purchase(litres, "0.5"))]
    {
        assert_refused(
            run(&mut c, owner, &products(format!("{open}; {whole_l}")), true).await,
            "23514",
            Some("units_whole_products"),
            &format!("litres made whole with 0.5 l in {what}"),
        );
        assert_ok(
            run(&mut c, owner, &products(format!("{open}; {whole_l}").replace("0.5", "2")), false).await,
            what,
        );
    }
    assert_ok(run(&mut c, owner, &products(whole_l.into()), false).await, "litres, nothing open");
}

#[tokio::test]
async fn the_unit_form_keeps_a_unit_with_fractions_divisible() {
    let f = fixture().await;
    let (a, kilos) = (f.a, f.kilos);
    let admin = f.db.admin().await;
    // whole stock, fractional minimum: the database refuses too, the page says why
    admin
        .batch_execute(&format!(
            "begin;
             select set_config('app.tenant_id', '{a}', true);
             insert into tenant_{a}.stock_movements (product_id, kind, quantity) values ({kilos}, 'adjustment', 0.5);
             update tenant_{a}.products set min_stock = 1.5 where id = {kilos};
             commit;"
        ))
        .await
        .expect("3 kg, minimum 1.5");
    let kg: i64 = admin
        .query_one(&format!("select id from tenant_{a}.units where code = 'kg'"), &[])
        .await
        .expect("kg")
        .get(0);
    let app = common::spawn_app_on(f.db).await;
    assert_eq!(app.login("owner-a@example.com", PASSWORD).await.status, 303);
    // the form without "divisible" checked makes the unit whole
    let r = app.submit("/units", &format!("/units/{kg}"), &[("name", "Kilogramo")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Hay productos de esta unidad con stock fraccionario"), "{}", r.body);
    let divisible: bool = admin
        .query_one(&format!("select divisible from tenant_{a}.units where id = {kg}"), &[])
        .await
        .expect("unit")
        .get(0);
    assert!(divisible, "kg stays divisible");
}

#[tokio::test]
async fn a_cart_fraction_of_a_unit_made_whole_since_is_refused_at_checkout() {
    let f = fixture().await;
    let a = f.a;
    let admin = f.db.admin().await;
    let litres: i64 = admin
        .query_one(
            &format!(
                "insert into tenant_{a}.products (sku, name, unit_id, price)
                 select 'ACEITE', 'Aceite de girasol', id, 100 from tenant_{a}.units where code = 'l' returning id"
            ),
            &[],
        )
        .await
        .expect("a product in litres")
        .get(0);
    admin
        .batch_execute(&format!(
            "begin;
             select set_config('app.tenant_id', '{a}', true);
             insert into tenant_{a}.stock_movements (product_id, kind, quantity) values ({litres}, 'opening', 5);
             commit;"
        ))
        .await
        .expect("5 l");
    let app = common::spawn_app_on(f.db).await;
    assert_eq!(app.login("staff-a@example.com", PASSWORD).await.status, 303);
    let pid = litres.to_string();
    let r = app.submit("/pos", "/pos/add", &[("product_id", &pid), ("quantity", "1,5")]).await;
    assert_eq!(r.status, 303, "1,5 l into the cart: {}", r.body);
    // litres become whole while the cart holds 1,5 l (carts are private: the unit trigger cannot see them)
    admin
        .batch_execute(&format!("update tenant_{a}.units set divisible = false where code = 'l'"))
        .await
        .expect("litres made whole");
    let pos = app.get("/pos").await;
    let key = {
        let marker = "name=\"key\" value=\"";
        let i = pos.body.find(marker).unwrap_or_else(|| panic!("no key on the counter page:\n{}", pos.body));
        let rest = &pos.body[i + marker.len()..];
        rest[..rest.find('"').expect("end quote")].to_string()
    };
    let r = app.submit("/pos", "/pos/checkout", &[("key", &key), ("cash", "150")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Aceite de girasol se vende solo por unidades enteras"), "{}", r.body);
    let sales: i64 =
        admin.query_one(&format!("select count(*) from tenant_{a}.sales"), &[]).await.expect("sales").get(0);
    assert_eq!(sales, 0, "nothing recorded");
}

// ---------------------------------------------------------------------------------------------
// 4. one throttle

async fn retry_after(c: &mut Client, sql: &str) -> i32 {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, None, None, &roles().anon).await;
    let n: i32 = assert_ok(tx.query_one(sql, &[]).await, sql).get(0);
    tx.commit().await.expect("commit");
    n
}

#[tokio::test]
async fn login_and_password_reset_share_one_throttle() {
    let f = fixture().await;
    let r = roles();
    let mut c = f.db.app_login().await;
    let login = |email: &str, ip: &str| {
        format!("select retry_after_seconds from app_private.begin_login('{email}', {ip})")
    };
    // four failures in the window: allowed; a fifth: wait until the oldest leaves the window
    f.admin
        .batch_execute(
            "insert into app.login_failures (email, ip, at)
             select 'owner-a@example.com', '10.1.1.1', now() - interval '10 minutes' + g * interval '1 minute'
               from generate_series(1, 4) g;
             insert into app.login_failures (email, ip, at)
             values ('owner-a@example.com', '10.1.1.1', now() - interval '20 minutes')",
        )
        .await
        .expect("failures");
    assert_eq!(retry_after(&mut c, &login("owner-a@example.com", "'10.1.1.1'")).await, 0);
    f.admin
        .batch_execute(
            "insert into app.login_failures (email, ip) values ('owner-a@example.com', '10.1.1.1')",
        )
        .await
        .expect("fifth");
    let wait = retry_after(&mut c, &login("owner-a@example.com", "'10.1.1.1'")).await;
    assert!(
        (5 * 60 - 5..=6 * 60).contains(&wait),
        "the oldest of the last five leaves in ~6 minutes: {wait}"
    );
    assert_eq!(retry_after(&mut c, &login("admin-a@example.com", "'10.1.1.1'")).await, 0, "other e-mail");
    // twenty failures from one address, any e-mails
    f.admin
        .batch_execute(
            "insert into app.login_failures (email, ip, at)
             select 'x' || g || '@example.com', '10.2.2.2', now() - interval '14 minutes' from generate_series(1, 20) g",
        )
        .await
        .expect("address failures");
    let wait = retry_after(&mut c, &login("new@example.com", "'10.2.2.2'")).await;
    assert!((55..=60).contains(&wait), "{wait}");
    assert_eq!(retry_after(&mut c, &login("new@example.com", "null")).await, 0, "no address known");

    // password resets: three per e-mail an hour, ten per address
    let reset = |email: &str, ip: &str, n: u8| {
        format!(
            "select retry_after_seconds from app_private.request_password_reset('{email}', '{ip}',
                    decode(repeat('{n:02x}', 32), 'hex'), interval '1 hour')"
        )
    };
    for n in 0..3 {
        assert_eq!(retry_after(&mut c, &reset("staff-a@example.com", "10.3.3.3", n)).await, 0, "request {n}");
    }
    let wait = retry_after(&mut c, &reset("staff-a@example.com", "10.3.3.3", 3)).await;
    assert!((3590..=3600).contains(&wait), "{wait}");
    for n in 4..11 {
        assert_eq!(retry_after(&mut c, &reset(&format!("p{n}@example.com"), "10.3.3.3", n)).await, 0, "{n}");
    }
    let wait = retry_after(&mut c, &reset("last@example.com", "10.3.3.3", 11)).await;
    assert!((3590..=3600).contains(&wait), "the eleventh from one address: {wait}");
    assert_eq!(retry_after(&mut c, &reset("last@example.com", "10.4.4.4", 12)).await, 0, "another address");

    // the shared function is the schema owner's alone; both paths call it
    for role in [&r.anon, &r.owner, &r.admin, &r.staff] {
        assert_refused(
            run(
                &mut c,
                (Some(f.a), Some(f.a_owner), role),
                "select app_private.throttle_retry_after('app.login_failures', 'a@b.c', null, interval '1 hour', 1, 1)",
                false,
            )
            .await,
            "42501",
            None,
            &format!("{role} calls the throttle directly"),
        );
    }
    for function in ["begin_login", "request_password_reset"] {
        let uses: bool = f
            .admin
            .query_one(
                "select pg_get_functiondef(p.oid) like '%app_private.throttle_retry_after(%'
                   from pg_proc p where p.pronamespace = 'app_private'::regnamespace and p.proname = $1",
                &[&function],
            )
            .await
            .expect("definition")
            .get(0);
        assert!(uses, "{function} uses the shared throttle");
    }
}

/// A product's SKU and barcode follow their patterns on every insert and every change of a code,
/// for every role that may write products, with the constraint names the forms translate
/// (`products_barcode_check` first when both fail); since tenant V17 these are triggers on the
/// codes, so moving stock (which sets only `stock`) and editing other fields still work. A sale
/// line's cost is the product's cost at that moment, and no request role can choose it.
#[tokio::test]
async fn product_codes_follow_their_patterns_and_a_sale_line_takes_the_products_cost() {
    let f = fixture().await;
    let r = roles();
    let mut c = f.db.app_login().await;
    let a = f.a;
    let owner: Ctx = (Some(a), Some(f.a_owner), &r.owner);
    let admin: Ctx = (Some(a), Some(f.a_admin), &r.admin);
    let staff: Ctx = (Some(a), Some(f.a_staff), &r.staff);
    let schema = format!("tenant_{a}");
    let new_product = |sku: &str, barcode: &str| {
        format!(
            "insert into products (sku, barcode, name, unit_id, price, cost)
             select {sku}, {barcode}, 'Nuevo', id, 1, 1 from units where code = 'u' returning id"
        )
    };
    for ctx in [owner, admin] {
        let who = ctx.2;
        for (sku, barcode, rule) in [
            ("' SIN-ESPACIOS'", "null", "products_sku_check"),
            ("'-GUION'", "null", "products_sku_check"),
            ("'ÑANDÚ'", "null", "products_sku_check"),
            (&format!("'{}'", "A".repeat(41)), "null", "products_sku_check"),
            ("'BUENO'", "'123'", "products_barcode_check"),
            ("'BUENO'", "'12 34'", "products_barcode_check"),
            ("'MAL SKU'", "'X'", "products_barcode_check"),
        ] {
            assert_refused(
                run(&mut c, ctx, &new_product(sku, barcode), false).await,
                "23514",
                Some(rule),
                &format!("{who}: sku {sku}, barcode {barcode}"),
            );
        }
        assert_ok(run(&mut c, ctx, &new_product("'A1._/-z'", "'0-ab-9'"), false).await, who);
        assert_ok(run(&mut c, ctx, &new_product(&format!("'{}'", "9".repeat(40)), "null"), false).await, who);
        for (set, rule) in [
            ("sku = 'otro sku'", "products_sku_check"),
            ("barcode = '!!!!'", "products_barcode_check"),
            ("sku = sku || '?'", "products_sku_check"),
        ] {
            assert_refused(
                run(&mut c, ctx, &format!("update products set {set} where id = {}", f.whole), false).await,
                "23514",
                Some(rule),
                &format!("{who}: {set}"),
            );
        }
        assert_ok(
            run(
                &mut c,
                ctx,
                &format!("update products set sku = 'TORN-2', barcode = '7791234' where id = {}", f.whole),
                false,
            )
            .await,
            &format!("{who}: valid codes"),
        );
    }
    // a product whose codes no longer follow the patterns (written with the rules off, as a
    // superuser could) still moves stock and takes other edits: the rules look only at codes
    // being written
    f.admin
        .batch_execute(&format!(
            "set session_replication_role = replica;
             update {s}.products set sku = 'legacy sku' where id = {w};
             set session_replication_role = origin;",
            s = schema,
            w = f.whole
        ))
        .await
        .expect("legacy code");
    assert_ok(
        run(
            &mut c,
            admin,
            &format!(
                "insert into stock_movements (product_id, kind, quantity) values ({}, 'adjustment', 1)",
                f.whole
            ),
            false,
        )
        .await,
        "stock moves",
    );
    assert_ok(
        run(&mut c, owner, &format!("update products set price = 11 where id = {}", f.whole), false).await,
        "price",
    );
    assert_refused(
        run(&mut c, owner, &format!("update products set sku = sku where id = {}", f.whole), false).await,
        "23514",
        Some("products_sku_check"),
        "writing the legacy code again",
    );

    // the line's cost: the product's (5), whatever the shop's people may do
    let sale =
        |extra_col: &str, extra_val: &str| one_line_sale(f.customer, f.whole, "1", (extra_col, extra_val));
    for ctx in [owner, admin, staff] {
        let line = assert_ok(run(&mut c, ctx, &sale("", ""), true).await, ctx.2).expect("a line id");
        let cost: rust_decimal::Decimal = f
            .admin
            .query_one(&format!("select unit_cost from {schema}.sale_lines where id = {line}"), &[])
            .await
            .expect("line")
            .get(0);
        assert_eq!(cost, rust_decimal::Decimal::from(5), "{}: the line's cost is the product's", ctx.2);
        assert_refused(run(&mut c, ctx, &sale(", unit_cost", ", 0"), false).await, "42501", None, ctx.2);
    }
}
