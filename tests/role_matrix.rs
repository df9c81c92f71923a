//! The permission table of docs/PERMISSIONS.md, enforced by PostgreSQL: for every row that has
//! tables today, every role runs every SQL probe of that row as the app's login role in its shop's
//! context (one rolled-back transaction per probe) and must be allowed exactly where the table
//! says ✓. Rows without tables yet are listed in `PENDING`; a row that is neither mapped nor
//! pending, or a shop table that no probe touches, fails the suite.
mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{roles, set_ctx, TestDb};
use tokio_postgres::{Client, GenericClient};

/// Rows of docs/PERMISSIONS.md with no tables yet. Map a row (in `mapped()`) when its module lands.
const PENDING: &[&str] = &[];

const ROLES: [&str; 3] = ["OWNER", "ADMIN", "STAFF"];

// ---------------------------------------------------------------------------------------------
// the documented table

/// `action -> [owner, admin, staff]` from the first markdown table whose header names the roles.
fn documented() -> BTreeMap<String, [bool; 3]> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/PERMISSIONS.md"))
        .expect("read docs/PERMISSIONS.md");
    let cells = |l: &str| -> Vec<String> {
        let l = l.trim();
        l.trim_start_matches('|').trim_end_matches('|').split('|').map(|c| c.trim().to_string()).collect()
    };
    let mut lines = doc.lines().skip_while(|l| {
        let c = cells(l);
        !(l.trim_start().starts_with('|')
            && ROLES.iter().all(|r| c.iter().any(|x| x.eq_ignore_ascii_case(r))))
    });
    let header =
        cells(lines.next().expect("no permission table (| action | OWNER | ADMIN | STAFF |) in docs"));
    let col: Vec<usize> = ROLES
        .iter()
        .map(|r| header.iter().position(|h| h.eq_ignore_ascii_case(r)).expect("role column"))
        .collect();
    let sep = lines.next().expect("separator row");
    assert!(sep.contains("---"), "expected the separator row after the header, got {sep:?}");
    let mut out = BTreeMap::new();
    for line in lines.take_while(|l| l.trim_start().starts_with('|')) {
        let c = cells(line);
        let mut marks = [false; 3];
        for (i, &ci) in col.iter().enumerate() {
            marks[i] = match c.get(ci).map(String::as_str) {
                Some("✓") => true,
                Some("✗") => false,
                other => panic!("row {line:?}: cell {} is {other:?}, expected ✓ or ✗", ROLES[i]),
            };
        }
        assert!(out.insert(c[0].clone(), marks).is_none(), "duplicate row {:?}", c[0]);
    }
    assert!(out.len() >= 10, "parsed only {} rows from docs/PERMISSIONS.md", out.len());
    out
}

// ---------------------------------------------------------------------------------------------
// probes

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Succeeds, with exactly this many rows returned or affected.
    Rows(u64),
    /// SQLSTATE 42501 (no grant, or a row-level security WITH CHECK violation).
    Denied,
    /// Succeeds but RLS filters every row: 0 rows returned or affected.
    ZeroRows,
    /// Fails with this SQLSTATE (another refusal than 42501, for a stated reason).
    Code(&'static str),
}

struct Probe {
    /// `settings` (in the shop's schema) or `app.memberships` (shared).
    table: &'static str,
    command: &'static str,
    /// Placeholders: {s} schema, {t} tenant id, {u} a member (staff) of the shop to change,
    /// {n} an account with no shop, {unit} a unit, {c} a category in use, {c2} an unused category,
    /// {p} a product with stock and an image, {p2} a product without movements or image,
    /// {m} a missing-product entry, {imp} a previewed CSV import.
    sql: &'static str,
    /// Rows when allowed (writes touch exactly one row; reads are limited to one).
    rows: u64,
    /// In the own shop, for a role without the permission.
    refused: Expect,
    /// In another shop's schema/rows for a role that holds the permission in its own shop; `None`
    /// derives it: INSERT -> 42501 (WITH CHECK), anything else -> zero rows.
    cross: Option<Expect>,
}

const fn probe(table: &'static str, command: &'static str, sql: &'static str) -> Probe {
    Probe { table, command, sql, rows: 1, refused: Expect::Denied, cross: None }
}

/// Every row of the documented table that has tables today, with its probes.
fn mapped() -> Vec<(&'static str, Vec<Probe>)> {
    vec![
        (
            "invite users, change roles, remove members",
            // people join through invitations (a SECURITY DEFINER path), never by a direct
            // INSERT: see the invariant "nobody inserts memberships directly"
            vec![
                probe(
                    "app.memberships",
                    "UPDATE",
                    "update app.memberships set role = 'admin' where tenant_id = {t} and user_id = {u}",
                ),
                probe("app.memberships", "DELETE", "delete from app.memberships where tenant_id = {t} and user_id = {u}"),
                probe("app.invitations", "SELECT", "select id from app.invitations where tenant_id = {t}"),
                probe(
                    "app.invitations",
                    "INSERT",
                    "insert into app.invitations (tenant_id, email, role, invited_by, nonce_hash)
                     values ({t}, 'probe-{t}@example.com', 'admin', app.current_user_id(), sha256('probe'::bytea))",
                ),
                probe("app.invitations", "UPDATE", "update app.invitations set revoked_at = now() where tenant_id = {t}"),
            ],
        ),
        (
            "manage products, categories, stock adjustments",
            vec![
                probe("categories", "INSERT", "insert into {s}.categories (name) values ('Nueva categoría')"),
                probe("categories", "UPDATE", "update {s}.categories set name = 'Renombrada' where id = {c}"),
                probe("categories", "DELETE", "delete from {s}.categories where id = {c2}"),
                probe(
                    "products",
                    "INSERT",
                    "insert into {s}.products (sku, name, unit_id, price, category_id) values ('NEW-1', 'Nuevo', {unit}, 5, {c})",
                ),
                probe("products", "UPDATE", "update {s}.products set price = price + 1, name = 'Otro' where id = {p}"),
                probe("products", "DELETE", "delete from {s}.products where id = {p2}"),
                probe("units", "INSERT", "insert into {s}.units (code, name, divisible) values ('caja', 'Caja', false)"),
                probe("units", "UPDATE", "update {s}.units set name = 'Unidades' where id = {unit}"),
                probe(
                    "product_imports",
                    "INSERT",
                    "insert into {s}.product_imports (filename, content, delimiter) values ('b.csv', 'sku,name', ',')",
                ),
                probe("product_imports", "SELECT", "select id, status from {s}.product_imports where id = {imp}"),
                probe(
                    "product_imports",
                    "UPDATE",
                    "update {s}.product_imports set status = 'applied', applied_at = now() where id = {imp}",
                ),
                probe(
                    "product_images",
                    "INSERT",
                    "insert into {s}.product_images (product_id, content_type, image, thumb, width, height)
                     values ({p2}, 'image/jpeg', '\\xffd8', '\\xffd8', 2, 2)",
                ),
                probe("product_images", "UPDATE", "update {s}.product_images set width = 3 where product_id = {p}"),
                probe("product_images", "DELETE", "delete from {s}.product_images where product_id = {p}"),
                Probe {
                    // the movement trigger (BEFORE INSERT, so before the WITH CHECK; it runs as the
                    // schema owner under the caller's context) finds no such product in another
                    // shop: 23503, and nothing moves
                    cross: Some(Expect::Code("23503")),
                    ..probe(
                        "stock_movements",
                        "INSERT",
                        "insert into {s}.stock_movements (product_id, kind, quantity, reason) values ({p}, 'adjustment', 2, 'rotura')",
                    )
                },
            ],
        ),
        (
            "view catalog and stock",
            vec![
                probe("products", "SELECT", "select id, sku, name, price, stock from {s}.products where id = {p}"),
                probe("categories", "SELECT", "select * from {s}.categories where id = {c}"),
                probe("units", "SELECT", "select * from {s}.units where id = {unit}"),
                probe("product_images", "SELECT", "select product_id, width from {s}.product_images where product_id = {p}"),
                probe("stock_movements", "SELECT", "select * from {s}.stock_movements where product_id = {p} limit 1"),
            ],
        ),
        (
            "register sales",
            // the triggers move stock and money for whoever records the sale
            vec![
                probe(
                    "sales",
                    "INSERT",
                    "insert into {s}.sales (idempotency_key, customer_id, user_id, total, tendered, change)
                     values (gen_random_uuid(), {cust}, app.current_user_id(), 0, 0, 0)",
                ),
                probe(
                    "sale_lines",
                    "INSERT",
                    "insert into {s}.sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
                     values ({sale}, 2, {p}, 'Agua', 1, 10, 0, 10)",
                ),
                probe("sale_payments", "INSERT", "insert into {s}.sale_payments (sale_id, method, amount) values ({sale}, 'card', 5)"),
                probe("sales", "SELECT", "select * from {s}.sales where id = {sale}"),
                probe("sale_lines", "SELECT", "select * from {s}.sale_lines where sale_id = {sale}"),
                probe("sale_payments", "SELECT", "select * from {s}.sale_payments where sale_id = {sale}"),
            ],
        ),
        (
            "void a sale / record a return",
            vec![
                probe("sales", "UPDATE", "update {s}.sales set status = 'voided', void_reason = 'error' where id = {sale}"),
                probe(
                    "sale_returns",
                    "INSERT",
                    "insert into {s}.sale_returns (sale_id, method, reason) values ({sale}, 'cash', 'roto')",
                ),
                Probe {
                    // the return trigger (BEFORE INSERT, as the schema owner under the caller's
                    // context) finds no such return or line in another shop: 23503, nothing moves
                    cross: Some(Expect::Code("23503")),
                    ..probe(
                        "sale_return_lines",
                        "INSERT",
                        "insert into {s}.sale_return_lines (return_id, sale_line_id, quantity) values ({ret}, {sl}, 1)",
                    )
                },
            ],
        ),
        (
            "view balance, money ledger, reports",
            vec![probe("money_ledger", "SELECT", "select * from {s}.money_ledger where sale_id = {sale} limit 1")],
        ),
        (
            "create quotes",
            vec![
                probe(
                    "quotes",
                    "INSERT",
                    "insert into {s}.quotes (customer_id, user_id, valid_until, total)
                     values ({cust}, app.current_user_id(), current_date + 15, 0)",
                ),
                probe(
                    "quote_lines",
                    "INSERT",
                    "insert into {s}.quote_lines (quote_id, position, product_id, description, quantity, unit_price, discount, total)
                     values ({q}, 2, {p}, 'Agua', 1, 10, 0, 10)",
                ),
                probe("quotes", "SELECT", "select * from {s}.quotes where id = {q}"),
                probe("quote_lines", "SELECT", "select * from {s}.quote_lines where quote_id = {q} limit 1"),
            ],
        ),
        (
            "convert quotes into sales",
            vec![probe(
                "quotes",
                "UPDATE",
                "update {s}.quotes set status = 'converted', converted_sale_id = {sale}, converted_at = now() where id = {q}",
            )],
        ),
        ("view the audit log", vec![probe("audit_log", "SELECT", "select * from {s}.audit_log limit 1")]),
        (
            "change shop settings",
            vec![
                probe("settings", "UPDATE", "update {s}.settings set currency = 'EUR', allow_negative_stock = true"),
                probe("app.tenants", "UPDATE", "update app.tenants set name = 'Renombrado' where id = {t}"),
                probe("settings", "UPDATE", "update {s}.settings set quote_validity_days = 30, time_zone = 'UTC'"),
            ],
        ),
        (
            "view balance, money ledger, reports",
            // the report views (security_invoker): staff read sales, never their aggregates or costs
            vec![
                probe("report_sales", "SELECT", "select * from {s}.report_sales where sale_id = {sale}"),
                probe(
                    "report_line_events",
                    "SELECT",
                    "select * from {s}.report_line_events where sale_line_id = {sl} and kind = 'sale'",
                ),
                probe(
                    "report_stock_valuation",
                    "SELECT",
                    "select * from {s}.report_stock_valuation where product_id = {p}",
                ),
            ],
        ),
        (
            "manage suppliers and purchase invoices",
            // staff hold no grant on any of these tables, not even SELECT
            vec![
                probe("suppliers", "SELECT", "select * from {s}.suppliers where id = {sup}"),
                probe("suppliers", "INSERT", "insert into {s}.suppliers (name, tax_id) values ('Mayorista', '30-1')"),
                probe("suppliers", "UPDATE", "update {s}.suppliers set phone = '555', active = false where id = {sup}"),
                probe("suppliers", "DELETE", "delete from {s}.suppliers where id = {sup2}"),
                probe("purchase_invoices", "SELECT", "select * from {s}.purchase_invoices where id = {rinv}"),
                probe(
                    "purchase_invoices",
                    "INSERT",
                    "insert into {s}.purchase_invoices (supplier_id, number, invoice_date, due_date)
                     values ({sup}, 'N-2', current_date, current_date + 30)",
                ),
                probe("purchase_invoices", "UPDATE", "update {s}.purchase_invoices set status = 'received' where id = {pinv}"),
                probe("purchase_invoices", "DELETE", "delete from {s}.purchase_invoices where id = {pinv}"),
                probe("purchase_invoice_lines", "SELECT", "select * from {s}.purchase_invoice_lines where invoice_id = {rinv}"),
                Probe {
                    // the line trigger (BEFORE INSERT, as the schema owner under the caller's
                    // context) finds no such invoice in another shop: 23503, nothing written
                    cross: Some(Expect::Code("23503")),
                    ..probe(
                        "purchase_invoice_lines",
                        "INSERT",
                        "insert into {s}.purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost) values ({pinv}, {p}, 2, 10)",
                    )
                },
                probe("purchase_invoice_lines", "DELETE", "delete from {s}.purchase_invoice_lines where invoice_id = {pinv}"),
                probe("purchase_payments", "SELECT", "select * from {s}.purchase_payments where invoice_id = {rinv}"),
                Probe {
                    // likewise the payment trigger: no such invoice in another shop
                    cross: Some(Expect::Code("23503")),
                    ..probe(
                        "purchase_payments",
                        "INSERT",
                        "insert into {s}.purchase_payments (invoice_id, method, amount) values ({rinv}, 'transfer', 2)",
                    )
                },
            ],
        ),
    ]
}

/// Rules that are not a row of the table: `[owner, admin, staff]` expectations, own shop only.
fn invariants() -> Vec<(&'static str, Probe, [Expect; 3])> {
    use Expect::*;
    let all_denied = [Denied, Denied, Denied];
    let all_one = [Rows(1), Rows(1), Rows(1)];
    vec![
        // everyone in the shop reads the settings, the shop and who is in it
        ("members read settings", probe("settings", "SELECT", "select * from {s}.settings"), all_one),
        (
            "members read their shop",
            probe("app.tenants", "SELECT", "select id, name from app.tenants where id = {t}"),
            all_one,
        ),
        (
            "members read the member list",
            probe(
                "app.memberships",
                "SELECT",
                "select * from app.memberships where tenant_id = {t} and user_id = {u}",
            ),
            all_one,
        ),
        (
            "members read member names",
            probe("app.users", "SELECT", "select id, email, display_name from app.users where id = {u}"),
            all_one,
        ),
        (
            "nobody reads password hashes",
            probe("app.users", "SELECT", "select password_hash from app.users where id = {u}"),
            all_denied,
        ),
        ("nobody reads sessions", probe("app.sessions", "SELECT", "select * from app.sessions"), all_denied),
        (
            "nobody reads login failures",
            probe("app.login_failures", "SELECT", "select * from app.login_failures"),
            all_denied,
        ),
        // the audit log is append-only and written by triggers only, even for the owner
        (
            "audit log: no UPDATE",
            probe("audit_log", "UPDATE", "update {s}.audit_log set action = 'x'"),
            all_denied,
        ),
        ("audit log: no DELETE", probe("audit_log", "DELETE", "delete from {s}.audit_log"), all_denied),
        (
            "audit log: no INSERT",
            probe(
                "audit_log",
                "INSERT",
                "insert into {s}.audit_log (action, entity) values ('forged', 'settings')",
            ),
            all_denied,
        ),
        ("audit log: no TRUNCATE", probe("audit_log", "TRUNCATE", "truncate {s}.audit_log"), all_denied),
        // settings is one row: never inserted or deleted by a request
        ("settings: no DELETE", probe("settings", "DELETE", "delete from {s}.settings"), all_denied),
        // the per-shop counters: every member reads them, only the trigger (schema owner) writes
        ("members read the counters", probe("shop_counters", "SELECT", "select * from {s}.shop_counters"), all_one),
        (
            "counters: no UPDATE",
            probe("shop_counters", "UPDATE", "update {s}.shop_counters set active_products = 0"),
            all_denied,
        ),
        (
            "counters: no INSERT",
            probe("shop_counters", "INSERT", "insert into {s}.shop_counters (id) values (2)"),
            all_denied,
        ),
        ("counters: no DELETE", probe("shop_counters", "DELETE", "delete from {s}.shop_counters"), all_denied),
        (
            "settings: no INSERT",
            probe("settings", "INSERT", "insert into {s}.settings (id) values (true)"),
            all_denied,
        ),
        // an owner attaching any account id by hand could read every e-mail in the service
        (
            "nobody inserts memberships directly",
            probe(
                "app.memberships",
                "INSERT",
                "insert into app.memberships (tenant_id, user_id, role) values ({t}, {n}, 'staff')",
            ),
            all_denied,
        ),
        // memberships never move between shops
        (
            "memberships: tenant_id is not writable",
            probe(
                "app.memberships",
                "UPDATE",
                "update app.memberships set tenant_id = {t} where user_id = {u}",
            ),
            all_denied,
        ),
        // stock moves only through movements; the ledger is append-only
        (
            "products.stock is not writable",
            probe("products", "UPDATE", "update {s}.products set stock = 999 where id = {p}"),
            all_denied,
        ),
        (
            "stock movements: no UPDATE",
            probe("stock_movements", "UPDATE", "update {s}.stock_movements set quantity = 99"),
            all_denied,
        ),
        (
            "stock movements: no DELETE",
            probe("stock_movements", "DELETE", "delete from {s}.stock_movements"),
            all_denied,
        ),
        (
            "stock movements: no hand-made sale movement",
            probe(
                "stock_movements",
                "INSERT",
                "insert into {s}.stock_movements (product_id, kind, quantity) values ({p}, 'sale', -1)",
            ),
            all_denied,
        ),
        // an import is a record of what was uploaded and applied: never removed by a request
        (
            "product imports: no DELETE",
            probe("product_imports", "DELETE", "delete from {s}.product_imports"),
            all_denied,
        ),
        // missing products (not a row of the table): every member notes them, owner/admin remove
        (
            "members note a missing product",
            probe(
                "missing_products",
                "INSERT",
                "insert into {s}.missing_products (name, note) values ('Yerba 2kg', 'pidió un cliente')",
            ),
            all_one,
        ),
        (
            "members read missing products",
            probe("missing_products", "SELECT", "select * from {s}.missing_products where id = {m}"),
            all_one,
        ),
        (
            "owner and admin remove a missing product",
            probe("missing_products", "DELETE", "delete from {s}.missing_products where id = {m}"),
            [Rows(1), Rows(1), Denied],
        ),
        // customers (not a row of the table): everyone at the counter records them
        ("members read customers", probe("customers", "SELECT", "select * from {s}.customers where id = {cust}"), all_one),
        (
            "members add customers",
            probe("customers", "INSERT", "insert into {s}.customers (name, phone) values ('Ana', '555')"),
            all_one,
        ),
        (
            "members edit customers",
            probe("customers", "UPDATE", "update {s}.customers set phone = '556' where id = {cust}"),
            all_one,
        ),
        (
            "owner and admin delete a customer without history",
            probe("customers", "DELETE", "delete from {s}.customers where id = {cust2}"),
            [Rows(1), Rows(1), Denied],
        ),
        (
            "the final consumer cannot be deleted",
            Probe {
                refused: Expect::Code("23514"),
                ..probe("customers", "DELETE", "delete from {s}.customers where is_final_consumer")
            },
            [Code("23514"), Code("23514"), Denied],
        ),
        (
            "members read customer balances",
            probe("customer_ledger", "SELECT", "select * from {s}.customer_ledger where customer_id = {cust} limit 1"),
            all_one,
        ),
        (
            "owner and admin post an opening balance or a payment",
            probe("customer_ledger", "INSERT", "insert into {s}.customer_ledger (customer_id, kind, amount) values ({cust}, 'opening', 100)"),
            [Rows(1), Rows(1), Denied],
        ),
        (
            "nobody posts a sale on account by hand",
            probe("customer_ledger", "INSERT", "insert into {s}.customer_ledger (customer_id, kind, amount) values ({cust}, 'sale', 100)"),
            all_denied,
        ),
        ("customer ledger: no UPDATE", probe("customer_ledger", "UPDATE", "update {s}.customer_ledger set amount = 1"), all_denied),
        ("customer ledger: no DELETE", probe("customer_ledger", "DELETE", "delete from {s}.customer_ledger"), all_denied),
        (
            "owner and admin record other income and expenses",
            probe(
                "money_ledger",
                "INSERT",
                "insert into {s}.money_ledger (kind, method, amount, category) values ('other_expense', 'cash', -50, 'Limpieza')",
            ),
            [Rows(1), Rows(1), Denied],
        ),
        (
            "nobody books sale income by hand",
            probe("money_ledger", "INSERT", "insert into {s}.money_ledger (kind, method, amount) values ('sale', 'cash', 1000)"),
            all_denied,
        ),
        ("money ledger: no UPDATE", probe("money_ledger", "UPDATE", "update {s}.money_ledger set amount = 1"), all_denied),
        ("money ledger: no DELETE", probe("money_ledger", "DELETE", "delete from {s}.money_ledger"), all_denied),
        (
            "a sale is recorded in the name of who records it",
            probe(
                "sales",
                "INSERT",
                "insert into {s}.sales (idempotency_key, customer_id, user_id, total, tendered, change)
                 values (gen_random_uuid(), {cust}, {u}, 0, 0, 0)",
            ),
            all_denied,
        ),
        ("sale lines: no UPDATE", probe("sale_lines", "UPDATE", "update {s}.sale_lines set unit_price = 0"), all_denied),
        ("sale lines: no DELETE", probe("sale_lines", "DELETE", "delete from {s}.sale_lines"), all_denied),
        ("sale payments: no DELETE", probe("sale_payments", "DELETE", "delete from {s}.sale_payments"), all_denied),
        ("sales: no DELETE", probe("sales", "DELETE", "delete from {s}.sales"), all_denied),
        ("members see returns", probe("sale_returns", "SELECT", "select * from {s}.sale_returns where id = {ret}"), all_one),
        (
            "members see returned lines",
            probe("sale_return_lines", "SELECT", "select * from {s}.sale_return_lines where return_id = {ret} limit 1"),
            all_one,
        ),
        ("returns: no UPDATE", probe("sale_returns", "UPDATE", "update {s}.sale_returns set reason = 'x'"), all_denied),
        ("returned lines: no DELETE", probe("sale_return_lines", "DELETE", "delete from {s}.sale_return_lines"), all_denied),
        (
            "staff cannot mark a quote converted",
            probe("quotes", "UPDATE", "update {s}.quotes set status = 'converted' where id = {q}"),
            // owner/admin: the check constraint wants the sale too; staff: the policy refuses
            [Code("23514"), Code("23514"), Denied],
        ),
        (
            "members move a quote to sent",
            probe("quotes", "UPDATE", "update {s}.quotes set status = 'sent' where id = {q}"),
            all_one,
        ),
        // the counter's cart: each person starts their own, and never sees anyone else's
        (
            "members start their own cart",
            probe("sale_drafts", "INSERT", "insert into {s}.sale_drafts (user_id) values (app.current_user_id())"),
            all_one,
        ),
        (
            "nobody sees another person's cart",
            probe("sale_drafts", "SELECT", "select * from {s}.sale_drafts where user_id = {u}"),
            [ZeroRows, ZeroRows, ZeroRows],
        ),
        (
            "nobody adds to another person's cart",
            probe(
                "sale_draft_lines",
                "INSERT",
                "insert into {s}.sale_draft_lines (draft_id, product_id, quantity, unit_price)
                 values ({draft}, {p}, 1, 10)",
            ),
            all_denied,
        ),
        // invitations close only through the accept function; rows are never deleted
        (
            "invitations: acceptance is not writable",
            probe("app.invitations", "UPDATE", "update app.invitations set accepted_at = now() where tenant_id = {t}"),
            all_denied,
        ),
        ("invitations: no DELETE", probe("app.invitations", "DELETE", "delete from app.invitations"), all_denied),
        // expense categories: owner and admin keep the list; staff see no money at all
        (
            "owner and admin read expense categories",
            probe("expense_categories", "SELECT", "select * from {s}.expense_categories limit 1"),
            [Rows(1), Rows(1), Denied],
        ),
        (
            "owner and admin add expense categories",
            probe("expense_categories", "INSERT", "insert into {s}.expense_categories (name) values ('Fletes')"),
            [Rows(1), Rows(1), Denied],
        ),
        (
            "owner and admin rename or deactivate expense categories",
            probe(
                "expense_categories",
                "UPDATE",
                "update {s}.expense_categories set name = 'Fletes', active = false
                  where id = (select min(id) from {s}.expense_categories)",
            ),
            [Rows(1), Rows(1), Denied],
        ),
        (
            "expense categories: no DELETE",
            probe("expense_categories", "DELETE", "delete from {s}.expense_categories"),
            all_denied,
        ),
        (
            "an expense names a known category",
            probe(
                "money_ledger",
                "INSERT",
                "insert into {s}.money_ledger (kind, method, amount, category) values ('other_expense', 'cash', -5, 'Sobornos')",
            ),
            [Code("23514"), Code("23514"), Denied],
        ),
        // the operator's panel (sql/app/V17): no shop role reaches its tables, even in its own shop
        ("no shop role reads super-admin accounts", probe("app.super_admins", "SELECT", "select id from app.super_admins"), all_denied),
        ("no shop role reads admin sessions", probe("app.admin_sessions", "SELECT", "select admin_id from app.admin_sessions"), all_denied),
        (
            "no shop role reads admin login failures",
            probe("app.admin_login_failures", "SELECT", "select email from app.admin_login_failures"),
            all_denied,
        ),
        ("no shop role reads the admin audit trail", probe("app.admin_audit", "SELECT", "select id from app.admin_audit"), all_denied),
        (
            "no shop role writes the admin audit trail",
            probe("app.admin_audit", "INSERT", "insert into app.admin_audit (action, tenant_id) values ('forged', {t})"),
            all_denied,
        ),
        ("no shop role reads plans", probe("app.plans", "SELECT", "select code from app.plans"), all_denied),
        (
            "no shop role changes its subscription",
            probe("app.subscriptions", "UPDATE", "update app.subscriptions set plan_code = 'PRO' where tenant_id = {t}"),
            all_denied,
        ),
        (
            "no shop role records a subscription payment",
            probe(
                "app.subscription_payments",
                "INSERT",
                "insert into app.subscription_payments (tenant_id, amount, paid_on, method) values ({t}, 1, current_date, 'cash')",
            ),
            all_denied,
        ),
        (
            "no shop role reactivates or suspends a shop",
            probe("app.tenants", "UPDATE", "update app.tenants set status = 'suspended' where id = {t}"),
            all_denied,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// fixture

struct Shop {
    id: i64,
    /// acting users: owner, admin, staff
    actors: [i64; 3],
    vars: BTreeMap<&'static str, String>,
}

impl Shop {
    fn render(&self, sql: &str) -> String {
        let mut out = sql.to_string();
        for (k, v) in &self.vars {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        assert!(!out.contains('{'), "unrendered placeholder in {out}");
        out
    }
}

async fn id(admin: &impl GenericClient, sql: &str) -> i64 {
    admin.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}")).get(0)
}

async fn shop(db: &TestDb, name: &str, outsider: i64) -> Shop {
    let (t, s) = db.create_shop(name).await;
    let actors = [
        db.add_member(t, &format!("owner-{t}@example.com"), "owner").await,
        db.add_member(t, &format!("admin-{t}@example.com"), "admin").await,
        db.add_member(t, &format!("staff-{t}@example.com"), "staff").await,
    ];
    let target = db.add_member(t, &format!("target-{t}@example.com"), "staff").await;
    let mut admin = db.admin().await;
    let tx = admin.transaction().await.unwrap();
    // movements and audit rows pass the shop's own policies: seed inside its context
    tx.query_one(
        "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
        &[&t.to_string(), &actors[0].to_string()],
    )
    .await
    .unwrap();
    let unit = id(&tx, &format!("select id from {s}.units where code = 'u'")).await;
    let c = id(&tx, &format!("insert into {s}.categories (name) values ('Bebidas') returning id")).await;
    let c2 = id(&tx, &format!("insert into {s}.categories (name) values ('Vacía') returning id")).await;
    let p = id(
        &tx,
        &format!(
            "insert into {s}.products (sku, name, unit_id, price, category_id) values ('P-1', 'Agua', {unit}, 10, {c}) returning id"
        ),
    )
    .await;
    let p2 = id(
        &tx,
        &format!("insert into {s}.products (sku, name, unit_id, price) values ('P-2', 'Soda', {unit}, 7) returning id"),
    )
    .await;
    tx.execute(
        &format!("insert into {s}.stock_movements (product_id, kind, quantity) values ({p}, 'opening', 20)"),
        &[],
    )
    .await
    .unwrap();
    let m =
        id(&tx, &format!("insert into {s}.missing_products (name) values ('Pilas AA') returning id")).await;
    tx.execute(
        &format!(
            "insert into {s}.product_images (product_id, content_type, image, thumb, width, height)
             values ({p}, 'image/png', '\\x89504e47', '\\x89504e47', 1, 1)"
        ),
        &[],
    )
    .await
    .unwrap();
    let imp = id(
        &tx,
        &format!("insert into {s}.product_imports (filename, content, delimiter) values ('a.csv', 'sku;name', ';') returning id"),
    )
    .await;
    tx.execute(&format!("update {s}.settings set receipt_header = 'Gracias'"), &[]).await.unwrap();
    let cust =
        id(&tx, &format!("insert into {s}.customers (name) values ('Cliente Uno') returning id")).await;
    let cust2 =
        id(&tx, &format!("insert into {s}.customers (name) values ('Sin historia') returning id")).await;
    let sale = id(
        &tx,
        &format!(
            "insert into {s}.sales (idempotency_key, customer_id, user_id, total, tendered, change)
             values (gen_random_uuid(), {cust}, {owner}, 20, 20, 0) returning id",
            owner = actors[0]
        ),
    )
    .await;
    let sl = id(
        &tx,
        &format!(
            "insert into {s}.sale_lines (sale_id, position, product_id, description, quantity, unit_price, discount, total)
             values ({sale}, 1, {p}, 'Agua', 2, 10, 0, 20) returning id"
        ),
    )
    .await;
    tx.execute(
        &format!("insert into {s}.sale_payments (sale_id, method, amount) values ({sale}, 'cash', 20)"),
        &[],
    )
    .await
    .unwrap();
    let ret = id(
        &tx,
        &format!("insert into {s}.sale_returns (sale_id, method, reason) values ({sale}, 'cash', 'fallado') returning id"),
    )
    .await;
    tx.execute(
        &format!(
            "insert into {s}.sale_return_lines (return_id, sale_line_id, quantity) values ({ret}, {sl}, 1)"
        ),
        &[],
    )
    .await
    .unwrap();
    tx.execute(
        &format!(
            "insert into {s}.customer_ledger (customer_id, kind, amount) values ({cust}, 'opening', 50)"
        ),
        &[],
    )
    .await
    .unwrap();
    let q = id(
        &tx,
        &format!(
            "insert into {s}.quotes (customer_id, user_id, valid_until, total) values ({cust}, {owner}, current_date + 15, 10)
             returning id",
            owner = actors[0]
        ),
    )
    .await;
    tx.execute(
        &format!(
            "insert into {s}.quote_lines (quote_id, position, product_id, description, quantity, unit_price, discount, total)
             values ({q}, 1, {p}, 'Agua', 1, 10, 0, 10)"
        ),
        &[],
    )
    .await
    .unwrap();
    let draft =
        id(&tx, &format!("insert into {s}.sale_drafts (user_id) values ({target}) returning id")).await;
    tx.execute(
        &format!(
            "insert into app.invitations (tenant_id, email, role, invited_by, nonce_hash)
             values ({t}, 'invited-{t}@example.com', 'staff', {owner}, sha256('n'::bytea))",
            owner = actors[0]
        ),
        &[],
    )
    .await
    .unwrap();
    let sup =
        id(&tx, &format!("insert into {s}.suppliers (name) values ('Distribuidora') returning id")).await;
    let sup2 =
        id(&tx, &format!("insert into {s}.suppliers (name) values ('Sin facturas') returning id")).await;
    let invoice = |number: &'static str| {
        format!(
            "insert into {s}.purchase_invoices (supplier_id, number, invoice_date, due_date)
             values ({sup}, '{number}', current_date, current_date + 30) returning id"
        )
    };
    let pinv = id(&tx, &invoice("N-1")).await;
    let rinv = id(&tx, &invoice("R-1")).await;
    for inv in [pinv, rinv] {
        tx.execute(
            &format!(
                "insert into {s}.purchase_invoice_lines (invoice_id, product_id, quantity, unit_cost) values ({inv}, {p}, 1, 10)"
            ),
            &[],
        )
        .await
        .unwrap();
    }
    tx.execute(&format!("update {s}.purchase_invoices set status = 'received' where id = {rinv}"), &[])
        .await
        .unwrap();
    tx.execute(
        &format!("insert into {s}.purchase_payments (invoice_id, method, amount) values ({rinv}, 'cash', 1)"),
        &[],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let audit = id(&admin, &format!("select count(*) from {s}.audit_log")).await;
    assert!(audit >= 1, "fixture needs an audit row in {s}");
    let mut vars = BTreeMap::new();
    for (k, v) in [
        ("t", t.to_string()),
        ("u", target.to_string()),
        ("n", outsider.to_string()),
        ("unit", unit.to_string()),
        ("c", c.to_string()),
        ("c2", c2.to_string()),
        ("p", p.to_string()),
        ("p2", p2.to_string()),
        ("m", m.to_string()),
        ("imp", imp.to_string()),
        ("cust", cust.to_string()),
        ("cust2", cust2.to_string()),
        ("sale", sale.to_string()),
        ("q", q.to_string()),
        ("draft", draft.to_string()),
        ("sl", sl.to_string()),
        ("ret", ret.to_string()),
        ("sup", sup.to_string()),
        ("sup2", sup2.to_string()),
        ("pinv", pinv.to_string()),
        ("rinv", rinv.to_string()),
    ] {
        vars.insert(k, v);
    }
    vars.insert("s", s);
    Shop { id: t, actors, vars }
}

async fn outsider(db: &TestDb) -> i64 {
    let admin = db.admin().await;
    id(
        &admin,
        "insert into app.users (email, display_name, password_hash) values ('nobody@example.com', 'Nobody', 'x') returning id",
    )
    .await
}

/// Runs `sql` as the app login role in `shop`'s context with `role`, then rolls back.
async fn run(
    c: &mut Client,
    ctx_shop: &Shop,
    user: Option<i64>,
    role: &str,
    sql: &str,
) -> Result<u64, tokio_postgres::Error> {
    let tx = c.transaction().await.expect("begin");
    set_ctx(&tx, Some(ctx_shop.id), user, role).await;
    let r = tx.execute(sql, &[]).await;
    drop(tx);
    r
}

fn check(got: &Result<u64, tokio_postgres::Error>, want: Expect) -> Result<(), String> {
    let code = |e: &tokio_postgres::Error| {
        e.as_db_error()
            .map(|d| format!("{} {}", d.code().code(), d.message()))
            .unwrap_or_else(|| format!("{e:?}"))
    };
    match (got, want) {
        (Ok(n), Expect::Rows(w)) if *n == w => Ok(()),
        (Ok(0), Expect::ZeroRows) => Ok(()),
        (Err(e), Expect::Denied) if e.code().map(|c| c.code()) == Some("42501") => Ok(()),
        (Err(e), Expect::Code(w)) if e.code().map(|c| c.code()) == Some(w) => Ok(()),
        (Ok(n), w) => Err(format!("expected {w:?}, got Ok({n} rows)")),
        (Err(e), w) => Err(format!("expected {w:?}, got error {}", code(e))),
    }
}

fn role_name(i: usize) -> String {
    let r = roles();
    [r.owner, r.admin, r.staff][i].clone()
}

// ---------------------------------------------------------------------------------------------
// tests

#[test]
fn every_documented_row_is_mapped_or_pending() {
    let doc = documented();
    let mapped_rows: BTreeSet<&str> = mapped().iter().map(|(a, _)| *a).collect();
    let pending: BTreeSet<&str> = PENDING.iter().copied().collect();
    let mut problems = Vec::new();
    for action in doc.keys() {
        match (mapped_rows.contains(action.as_str()), pending.contains(action.as_str())) {
            (false, false) => {
                problems.push(format!("row {action:?} is neither mapped nor PENDING in tests/role_matrix.rs"))
            }
            (true, true) => problems.push(format!("row {action:?} is both mapped and PENDING")),
            _ => {}
        }
    }
    for a in mapped_rows.iter().chain(pending.iter()) {
        if !doc.contains_key(*a) {
            problems.push(format!("{a:?} is mapped/pending but no longer a row of docs/PERMISSIONS.md"));
        }
    }
    for (action, probes) in mapped() {
        if probes.is_empty() {
            problems.push(format!("{action:?} is mapped without probes"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // the table's own promise: staff sells but does not edit products
    assert_eq!(doc["register sales"], [true, true, true]);
    assert!(!doc["manage products, categories, stock adjustments"][2]);
}

#[tokio::test]
async fn every_shop_table_and_shared_table_has_probes() {
    let db = TestDb::new().await;
    let (_, schema) = db.create_shop("Cobertura").await;
    let admin = db.admin().await;
    let r = roles();
    let rows = admin
        .query(
            "select case when n.nspname = 'app' then 'app.' || c.relname else c.relname end
               from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where c.relkind in ('r', 'p', 'v', 'm', 'f')
                and (n.nspname = $1
                     or (n.nspname = 'app' and exists (
                           select 1 from unnest($2::text[]) role
                            where has_table_privilege(role, c.oid, 'select, insert, update, delete')
                               or has_any_column_privilege(role, c.oid, 'select, insert, update'))))
              order by 1",
            &[&schema, &vec![r.owner.clone(), r.admin.clone(), r.staff.clone(), r.anon.clone()]],
        )
        .await
        .unwrap();
    let tables: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        tables.contains(&"settings".to_string()) && tables.contains(&"app.memberships".to_string()),
        "{tables:?}"
    );
    let mut probed: BTreeSet<&str> = mapped().iter().flat_map(|(_, ps)| ps.iter().map(|p| p.table)).collect();
    probed.extend(invariants().iter().map(|(_, p, _)| p.table));
    let missing: Vec<&String> = tables.iter().filter(|t| !probed.contains(t.as_str())).collect();
    assert!(
        missing.is_empty(),
        "tables that no role-matrix probe touches (map their permission row in tests/role_matrix.rs): {missing:?}"
    );
}

#[tokio::test]
async fn each_role_can_do_exactly_what_its_row_allows() {
    let doc = documented();
    let db = TestDb::new().await;
    let nobody = outsider(&db).await;
    let a = shop(&db, "Matriz A", nobody).await;
    let b = shop(&db, "Matriz B", nobody).await;
    let mut c = db.app_login().await;
    let anon = roles().anon;
    let mut failures = Vec::new();
    let mut checked = 0;

    for (action, probes) in mapped() {
        let marks = doc[action];
        for p in &probes {
            for (i, allowed) in marks.iter().enumerate() {
                let role = role_name(i);
                let user = Some(a.actors[i]);
                // own shop
                let want = if *allowed { Expect::Rows(p.rows) } else { p.refused };
                let got = run(&mut c, &a, user, &role, &a.render(p.sql)).await;
                if let Err(e) = check(&got, want) {
                    failures
                        .push(format!("{} / {action} / {} {} (own shop): {e}", ROLES[i], p.command, p.table));
                }
                // another shop's rows or schema, still in A's context
                let cross = if !*allowed {
                    Expect::Denied
                } else {
                    p.cross.unwrap_or(if p.command == "INSERT" { Expect::Denied } else { Expect::ZeroRows })
                };
                let got = run(&mut c, &a, user, &role, &b.render(p.sql)).await;
                if let Err(e) = check(&got, cross) {
                    failures.push(format!(
                        "{} / {action} / {} {} (other shop): {e}",
                        ROLES[i], p.command, p.table
                    ));
                }
                checked += 2;
            }
            // signed out, in A's context: nothing at all
            let got = run(&mut c, &a, None, &anon, &a.render(p.sql)).await;
            if let Err(e) = check(&got, Expect::Denied) {
                failures.push(format!("ANON / {action} / {} {}: {e}", p.command, p.table));
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} checks ran");
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));

    // nothing the probes did survived (each ran in a rolled-back transaction)
    let admin = db.admin().await;
    for s in [&a, &b] {
        let name: String =
            admin.query_one("select name from app.tenants where id = $1", &[&s.id]).await.unwrap().get(0);
        assert!(name.starts_with("Matriz"), "{name}");
        let cur: String = admin
            .query_one(&format!("select currency from {}.settings", s.vars["s"]), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(cur, "ARS");
    }
}

#[tokio::test]
async fn rules_outside_the_table_hold_for_every_role() {
    let db = TestDb::new().await;
    let nobody = outsider(&db).await;
    let a = shop(&db, "Reglas A", nobody).await;
    let mut c = db.app_login().await;
    let mut failures = Vec::new();
    for (rule, p, want) in invariants() {
        for (i, w) in want.iter().enumerate() {
            let got = run(&mut c, &a, Some(a.actors[i]), &role_name(i), &a.render(p.sql)).await;
            if let Err(e) = check(&got, *w) {
                failures.push(format!("{} / {rule} ({} {}): {e}", ROLES[i], p.command, p.table));
            }
        }
        let got = run(&mut c, &a, None, &roles().anon, &a.render(p.sql)).await;
        if let Err(e) = check(&got, Expect::Denied) {
            failures.push(format!("ANON / {rule} ({} {}): {e}", p.command, p.table));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // the audit log refuses UPDATE and DELETE even when a grant slips in: the trigger stands alone
    let admin = db.admin().await;
    let s = &a.vars["s"];
    let before: i64 =
        admin.query_one(&format!("select count(*) from {s}.audit_log"), &[]).await.unwrap().get(0);
    for stmt in [format!("update {s}.audit_log set action = 'x'"), format!("delete from {s}.audit_log")] {
        let err = admin.batch_execute(&stmt).await.expect_err("superuser change to the audit log");
        assert_eq!(err.code().map(|c| c.code()), Some("42501"), "{stmt}: {err:?}");
    }
    let after: i64 =
        admin.query_one(&format!("select count(*) from {s}.audit_log"), &[]).await.unwrap().get(0);
    assert_eq!(before, after);
}
