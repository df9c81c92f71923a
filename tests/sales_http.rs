//! The counter and the sales pages through the real app, in Spanish (the default): ringing up a
//! sale with the scanner, editing a line, paying with change, split and on-account payments, the
//! refusals (nothing is written and the cart stays as it was), idempotent checkout, the cart of
//! each person, voiding (owner/admin only, exactly once), and the sales list. Every scenario
//! checks the exact rows left in the shop's schema.
mod common;

use std::str::FromStr;

use common::{Page, TestApp, PASSWORD};
use rust_decimal::Decimal;
use tokio_postgres::Client;

// ---------------------------------------------------------------------------------------------
// fixture and helpers

const ADMIN: &str = "ana@example.com";
const STAFF: &str = "sol@example.com";
const STAFF2: &str = "leo@example.com";

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

struct Shop {
    app: TestApp,
    /// Superuser connection to the test database, for seeding and checking.
    su: Client,
    tenant: i64,
    schema: String,
    owner_id: i64,
    admin_id: i64,
    staff_id: i64,
    staff2_id: i64,
}

/// A signed-in browser with its CSRF token.
struct Browser {
    http: reqwest::Client,
    csrf: String,
}

/// One line of someone's cart, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DraftLine {
    id: i64,
    product_id: i64,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
}

/// Row counts of everything a checkout or a void may write, and stock of every product.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    sales: i64,
    sale_lines: i64,
    sale_payments: i64,
    money_ledger: i64,
    customer_ledger: i64,
    movements: i64,
    stock: Vec<(i64, Decimal)>,
    balances: Vec<(i64, Decimal)>,
}

async fn shop() -> Shop {
    let db = common::TestDb::new().await;
    let (tenant, schema) = db.create_shop("Almacén Las Rosas").await;
    let owner_id = db.add_member(tenant, "owner@example.com", "owner").await;
    let admin_id = db.add_member(tenant, ADMIN, "admin").await;
    let staff_id = db.add_member(tenant, STAFF, "staff").await;
    let staff2_id = db.add_member(tenant, STAFF2, "staff").await;
    let su = db.admin().await;
    let app = common::spawn_app_on(db).await;
    Shop { app, su, tenant, schema, owner_id, admin_id, staff_id, staff2_id }
}

/// A product of shop `schema` (unit 'u' unless `unit`), seeded as superuser in the shop's
/// context; stock only through an opening movement. Returns its id.
async fn seed_product(
    su: &mut Client,
    tenant: i64,
    user: i64,
    schema: &str,
    p: (&str, &str, &str, &str, i64),
) -> i64 {
    let (sku, barcode, name, price, opening) = p;
    let tx = su.transaction().await.unwrap();
    tx.query_one(
        "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)",
        &[&tenant.to_string(), &user.to_string()],
    )
    .await
    .unwrap();
    let id: i64 = tx
        .query_one(
            &format!(
                "insert into {schema}.products (sku, barcode, name, unit_id, price)
                 values ($1, $2, $3, (select id from {schema}.units where code = 'u'), $4) returning id"
            ),
            &[&sku, &barcode, &name, &dec(price)],
        )
        .await
        .unwrap_or_else(|e| panic!("product {sku}: {e}"))
        .get(0);
    if opening > 0 {
        tx.execute(
            &format!("insert into {schema}.stock_movements (product_id, kind, quantity) values ($1, 'opening', $2)"),
            &[&id, &Decimal::from(opening)],
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    id
}

fn field_value(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = body.find(&marker).unwrap_or_else(|| panic!("no {name} field in page:\n{body}"));
    let rest = &body[i + marker.len()..];
    rest[..rest.find('"').expect("end quote")].to_string()
}

impl Shop {
    async fn product(&mut self, sku: &str, barcode: &str, name: &str, price: &str, opening: i64) -> i64 {
        seed_product(
            &mut self.su,
            self.tenant,
            self.owner_id,
            &self.schema,
            (sku, barcode, name, price, opening),
        )
        .await
    }

    async fn customer(&self, name: &str) -> i64 {
        self.su
            .query_one(
                &format!("insert into {}.customers (name) values ($1) returning id", self.schema),
                &[&name],
            )
            .await
            .unwrap()
            .get(0)
    }

    async fn browser(&self, email: &str) -> Browser {
        let http = common::client();
        let r = self.app.login_with(&http, email, PASSWORD).await;
        assert_eq!(r.status, 303, "login {email}: {}", r.body);
        let pos = self.app.get_with(&http, "/pos").await;
        assert_eq!(pos.status, 200, "GET /pos as {email}: {}", pos.body);
        Browser { csrf: pos.csrf(), http }
    }

    async fn get(&self, b: &Browser, path: &str) -> Page {
        self.app.get_with(&b.http, path).await
    }

    async fn post(&self, b: &Browser, path: &str, form: &[(&str, &str)]) -> Page {
        let mut fields: Vec<(&str, &str)> = vec![("csrf", b.csrf.as_str())];
        fields.extend_from_slice(form);
        self.app.post_with(&b.http, path, &fields).await
    }

    async fn scan(&self, b: &Browser, code: &str) {
        let r = self.post(b, "/pos/scan", &[("code", code)]).await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/pos")), "scan {code}: {}", r.body);
    }

    /// The cart's one-time key, as the counter page shows it.
    async fn key(&self, b: &Browser) -> String {
        field_value(&self.get(b, "/pos").await.body, "key")
    }

    /// Checks out with the page's key and these payment fields.
    async fn checkout(&self, b: &Browser, payments: &[(&str, &str)]) -> Page {
        let key = self.key(b).await;
        let mut form = vec![("key", key.as_str())];
        form.extend_from_slice(payments);
        self.post(b, "/pos/checkout", &form).await
    }

    async fn cart(&self, user: i64) -> Vec<DraftLine> {
        self.su
            .query(
                &format!(
                    "select l.id, l.product_id, l.quantity, l.unit_price, l.discount
                       from {0}.sale_draft_lines l join {0}.sale_drafts d on d.id = l.draft_id
                      where d.user_id = $1 order by l.id",
                    self.schema
                ),
                &[&user],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| DraftLine {
                id: r.get(0),
                product_id: r.get(1),
                quantity: r.get(2),
                unit_price: r.get(3),
                discount: r.get(4),
            })
            .collect()
    }

    async fn count(&self, sql: &str) -> i64 {
        let sql = sql.replace("{s}", &self.schema);
        self.su.query_one(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    async fn dec(&self, sql: &str) -> Decimal {
        let sql = sql.replace("{s}", &self.schema);
        self.su.query_one(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    async fn stock(&self, product: i64) -> Decimal {
        self.dec(&format!("select stock from {{s}}.products where id = {product}")).await
    }

    async fn status_of(&self, sale: i64) -> String {
        self.su
            .query_one(&format!("select status from {}.sales where id = $1", self.schema), &[&sale])
            .await
            .unwrap()
            .get(0)
    }

    async fn snapshot(&self) -> Snapshot {
        let mut counts = Vec::new();
        for t in
            ["sales", "sale_lines", "sale_payments", "money_ledger", "customer_ledger", "stock_movements"]
        {
            counts.push(self.count(&format!("select count(*) from {{s}}.{t}")).await);
        }
        let pairs = |sql: String| {
            let su = &self.su;
            async move {
                su.query(&sql, &[])
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| (r.get::<_, i64>(0), r.get::<_, Decimal>(1)))
                    .collect::<Vec<_>>()
            }
        };
        Snapshot {
            sales: counts[0],
            sale_lines: counts[1],
            sale_payments: counts[2],
            money_ledger: counts[3],
            customer_ledger: counts[4],
            movements: counts[5],
            stock: pairs(format!("select id, stock from {}.products order by id", self.schema)).await,
            balances: pairs(format!("select id, balance from {}.customers order by id", self.schema)).await,
        }
    }

    /// Stock = sum of movements for every tracked product, and every sale is whole.
    async fn assert_invariants(&self) {
        let bad_stock = self
            .count(
                "select count(*) from (select p.id from {s}.products p
                   left join {s}.stock_movements m on m.product_id = p.id where p.track_stock
                  group by p.id having p.stock <> coalesce(sum(m.quantity), 0)) x",
            )
            .await;
        assert_eq!(bad_stock, 0, "a product's stock differs from the sum of its movements");
        let bad_sales = self
            .count(
                "select count(*) from {s}.sales s
                  where s.total <> (select coalesce(sum(total), 0) from {s}.sale_lines where sale_id = s.id)
                     or s.total <> (select coalesce(sum(amount), 0) from {s}.sale_payments where sale_id = s.id)",
            )
            .await;
        assert_eq!(bad_sales, 0, "a recorded sale is not whole");
    }
}

/// The sale id a checkout redirected to.
fn sale_id(r: &Page) -> i64 {
    assert_eq!(r.status, 303, "checkout did not record a sale: {}", r.body);
    let loc = r.location.as_deref().expect("location");
    loc.strip_prefix("/sales/").and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("redirect to {loc}"))
}

fn assert_refused(r: &Page, message: &str) {
    assert_eq!(r.status, 422, "expected a refusal with {message:?}: {}", r.body);
    assert!(r.body.contains(message), "the refusal does not say {message:?}:\n{}", r.body);
}

// ---------------------------------------------------------------------------------------------
// ringing up sales

#[tokio::test]
async fn staff_rings_up_a_sale_with_the_scanner_and_gets_change() {
    let mut shop = shop().await;
    let yerba = shop.product("Y-1", "7790011", "Yerba Suave", "5000", 10).await;
    let staff = shop.browser(STAFF).await;

    shop.scan(&staff, "7790011").await;
    shop.scan(&staff, "7790011").await;
    let cart = shop.cart(shop.staff_id).await;
    assert_eq!(cart.len(), 1, "scanning twice makes one line: {cart:?}");
    assert_eq!((cart[0].product_id, cart[0].quantity, cart[0].unit_price), (yerba, dec("2"), dec("5000")));
    let pos = shop.get(&staff, "/pos").await;
    assert!(pos.body.contains("10.000,00"), "the counter shows the total 10.000,00:\n{}", pos.body);

    // a new price (Spanish thousands) and a discount
    let line = cart[0].id;
    let r = shop
        .post(
            &staff,
            &format!("/pos/lines/{line}/update"),
            &[("quantity", "2"), ("unit_price", "4.500"), ("discount", "500")],
        )
        .await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/pos")), "{}", r.body);
    let cart = shop.cart(shop.staff_id).await;
    assert_eq!((cart[0].quantity, cart[0].unit_price, cart[0].discount), (dec("2"), dec("4500"), dec("500")));
    let key = shop.key(&staff).await;

    let r =
        shop.checkout(&staff, &[("cash", "10.000"), ("card", ""), ("transfer", ""), ("account", "")]).await;
    let sale = sale_id(&r);

    // the receipt
    let receipt = shop.get(&staff, &format!("/sales/{sale}")).await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    for text in ["Yerba Suave", "8.500,00", "10.000,00", "Vuelto", "1.500,00", "Efectivo"] {
        assert!(receipt.body.contains(text), "the receipt lacks {text:?}:\n{}", receipt.body);
    }

    // exactly this in the database
    let s = shop
        .su
        .query_one(
            &format!(
                "select idempotency_key::text, user_id, status, total, tendered, change, c.is_final_consumer
                   from {0}.sales s join {0}.customers c on c.id = s.customer_id where s.id = $1",
                shop.schema
            ),
            &[&sale],
        )
        .await
        .unwrap();
    assert_eq!(s.get::<_, String>(0), key, "recorded under the cart's key");
    assert_eq!(s.get::<_, i64>(1), shop.staff_id);
    assert_eq!(s.get::<_, String>(2), "completed");
    assert_eq!(
        (s.get::<_, Decimal>(3), s.get::<_, Decimal>(4), s.get::<_, Decimal>(5)),
        (dec("8500"), dec("10000"), dec("1500"))
    );
    assert!(s.get::<_, bool>(6), "sold to the final consumer");
    let lines = shop
        .su
        .query(
            &format!("select product_id, quantity, unit_price, discount, total from {}.sale_lines where sale_id = $1", shop.schema),
            &[&sale],
        )
        .await
        .unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].get::<_, i64>(0), yerba);
    assert_eq!(
        (
            lines[0].get::<_, Decimal>(1),
            lines[0].get::<_, Decimal>(2),
            lines[0].get::<_, Decimal>(3),
            lines[0].get::<_, Decimal>(4)
        ),
        (dec("2"), dec("4500"), dec("500"), dec("8500"))
    );
    let pays = shop
        .su
        .query(
            &format!("select method, amount from {}.sale_payments where sale_id = $1", shop.schema),
            &[&sale],
        )
        .await
        .unwrap();
    assert_eq!(
        pays.iter().map(|r| (r.get::<_, String>(0), r.get::<_, Decimal>(1))).collect::<Vec<_>>(),
        vec![("cash".into(), dec("8500"))]
    );
    let money = shop
        .su
        .query(&format!("select kind, method, amount, user_id from {}.money_ledger", shop.schema), &[])
        .await
        .unwrap();
    assert_eq!(money.len(), 1, "one money entry");
    assert_eq!(
        (
            money[0].get::<_, String>(0),
            money[0].get::<_, String>(1),
            money[0].get::<_, Decimal>(2),
            money[0].get::<_, Option<i64>>(3)
        ),
        ("sale".into(), "cash".into(), dec("8500"), Some(shop.staff_id)),
        "income is what the sale cost, not what was handed over"
    );
    assert_eq!(shop.stock(yerba).await, dec("8"));
    assert_eq!(shop.count(&format!("select count(*) from {{s}}.stock_movements where kind = 'sale' and quantity = -2 and ref_id = {sale}")).await, 1);
    // the cart is empty again, with a fresh key
    assert!(shop.cart(shop.staff_id).await.is_empty());
    assert_ne!(shop.key(&staff).await, key, "the next sale gets a new key");
    assert_eq!(shop.count("select count(*) from {s}.customer_ledger").await, 0);
    shop.assert_invariants().await;
}

#[tokio::test]
async fn empty_payment_fields_take_the_total_in_cash() {
    let mut shop = shop().await;
    let p = shop.product("A-1", "7790021", "Alfajor", "850.50", 5).await;
    let staff = shop.browser(STAFF).await;
    shop.scan(&staff, "A-1").await; // by SKU
    let sale = sale_id(&shop.checkout(&staff, &[("cash", ""), ("card", "")]).await);
    let row = shop
        .su
        .query_one(
            &format!("select total, tendered, change from {}.sales where id = $1", shop.schema),
            &[&sale],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, Decimal>(0), row.get::<_, Decimal>(1), row.get::<_, Decimal>(2)),
        (dec("850.50"), dec("850.50"), dec("0"))
    );
    assert_eq!(
        shop.dec(&format!(
            "select sum(amount) from {{s}}.money_ledger where sale_id = {sale} and method = 'cash'"
        ))
        .await,
        dec("850.50")
    );
    assert_eq!(shop.stock(p).await, dec("4"));
    shop.assert_invariants().await;
}

#[tokio::test]
async fn a_double_submit_of_the_same_key_records_one_sale() {
    let mut shop = shop().await;
    let p = shop.product("Y-1", "7790011", "Yerba", "1000", 10).await;
    let staff = shop.browser(STAFF).await;

    // two clicks at once
    shop.scan(&staff, "7790011").await;
    let key = shop.key(&staff).await;
    let form = [("key", key.as_str()), ("cash", "")];
    let (a, b) =
        tokio::join!(shop.post(&staff, "/pos/checkout", &form), shop.post(&staff, "/pos/checkout", &form));
    let (sa, sb) = (sale_id(&a), sale_id(&b));
    assert_eq!(sa, sb, "both clicks show the same sale");
    // and a retry later (the cart has a new key by now)
    let c = shop.post(&staff, "/pos/checkout", &form).await;
    assert_eq!(sale_id(&c), sa, "a retry shows the sale recorded the first time");

    assert_eq!(shop.count("select count(*) from {s}.sales").await, 1);
    assert_eq!(
        shop.count(&format!("select count(*) from {{s}}.sales where idempotency_key = '{key}'")).await,
        1
    );
    assert_eq!(shop.count("select count(*) from {s}.sale_lines").await, 1);
    assert_eq!(shop.count("select count(*) from {s}.money_ledger").await, 1);
    assert_eq!(shop.stock(p).await, dec("9"));

    // the same again, one click after the other
    shop.scan(&staff, "7790011").await;
    let key2 = shop.key(&staff).await;
    assert_ne!(key2, key);
    let form = [("key", key2.as_str()), ("cash", "")];
    let first = sale_id(&shop.post(&staff, "/pos/checkout", &form).await);
    let second = sale_id(&shop.post(&staff, "/pos/checkout", &form).await);
    assert_eq!(first, second);
    assert_ne!(first, sa);
    assert_eq!(shop.count("select count(*) from {s}.sales").await, 2);
    assert_eq!(shop.stock(p).await, dec("8"));
    shop.assert_invariants().await;
}

#[tokio::test]
async fn a_split_payment_of_card_and_cash_books_each_method() {
    let mut shop = shop().await;
    let p = shop.product("V-1", "7790031", "Vino", "8500", 3).await;
    let staff = shop.browser(STAFF).await;
    shop.scan(&staff, "7790031").await;
    let sale = sale_id(&shop.checkout(&staff, &[("card", "5.000"), ("cash", "4.000")]).await);
    let row = shop
        .su
        .query_one(
            &format!("select total, tendered, change from {}.sales where id = $1", shop.schema),
            &[&sale],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, Decimal>(0), row.get::<_, Decimal>(1), row.get::<_, Decimal>(2)),
        (dec("8500"), dec("9000"), dec("500"))
    );
    let pays: Vec<(String, Decimal)> = shop
        .su
        .query(
            &format!(
                "select method, amount from {}.sale_payments where sale_id = $1 order by method",
                shop.schema
            ),
            &[&sale],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        pays,
        vec![("card".into(), dec("5000")), ("cash".into(), dec("3500"))],
        "change comes out of the cash"
    );
    let money: Vec<(String, Decimal)> = shop
        .su
        .query(&format!("select method, amount from {}.money_ledger where sale_id = $1 and kind = 'sale' order by method", shop.schema), &[&sale])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(money, pays);
    let receipt = shop.get(&staff, &format!("/sales/{sale}")).await;
    for text in ["Tarjeta", "5.000,00", "Efectivo", "3.500,00", "Vuelto", "500,00"] {
        assert!(receipt.body.contains(text), "the receipt lacks {text:?}:\n{}", receipt.body);
    }
    assert_eq!(shop.stock(p).await, dec("2"));
    shop.assert_invariants().await;
}

#[tokio::test]
async fn on_account_needs_a_real_customer_and_raises_their_balance() {
    let mut shop = shop().await;
    let p = shop.product("V-1", "7790031", "Vino", "8500", 3).await;
    let marta = shop.customer("Marta Gómez").await;
    let staff = shop.browser(STAFF).await;
    shop.scan(&staff, "7790031").await;
    let cart = shop.cart(shop.staff_id).await;

    // to the final consumer: refused, nothing written, the cart as it was
    let before = shop.snapshot().await;
    let r = shop.checkout(&staff, &[("account", "8.500")]).await;
    assert_refused(&r, "Para vender en cuenta corriente elija un cliente");
    assert_eq!(shop.snapshot().await, before);
    assert_eq!(shop.cart(shop.staff_id).await, cart);

    // to Marta: her balance goes up by the total, no money comes in
    let r = shop.post(&staff, "/pos/customer", &[("customer_id", &marta.to_string())]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let sale = sale_id(&shop.checkout(&staff, &[("account", "8.500")]).await);
    let row = shop
        .su
        .query_one(
            &format!("select customer_id, total, change from {}.sales where id = $1", shop.schema),
            &[&sale],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, Decimal>(1), row.get::<_, Decimal>(2)),
        (marta, dec("8500"), dec("0"))
    );
    assert_eq!(
        shop.dec(&format!("select balance from {{s}}.customers where id = {marta}")).await,
        dec("8500")
    );
    let entries = shop
        .su
        .query(
            &format!("select kind, amount, sale_id, balance_after from {}.customer_ledger", shop.schema),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (
            entries[0].get::<_, String>(0),
            entries[0].get::<_, Decimal>(1),
            entries[0].get::<_, Option<i64>>(2),
            entries[0].get::<_, Decimal>(3)
        ),
        ("sale".into(), dec("8500"), Some(sale), dec("8500"))
    );
    assert_eq!(shop.count("select count(*) from {s}.money_ledger").await, 0, "on account is not income");
    assert_eq!(shop.stock(p).await, dec("2"));
    shop.assert_invariants().await;
}

#[tokio::test]
async fn refused_checkouts_write_nothing_and_keep_the_cart() {
    let mut shop = shop().await;
    shop.product("V-1", "7790031", "Vino", "8500", 3).await;
    shop.product("Q-1", "7790041", "Queso", "1000", 2).await;
    let staff = shop.browser(STAFF).await;
    shop.scan(&staff, "7790031").await;
    let cart = shop.cart(shop.staff_id).await;
    let before = shop.snapshot().await;
    let key = shop.key(&staff).await;

    for (what, payments, message) in [
        ("underpaid", vec![("cash", "8.000")], "faltan 500,00"),
        ("underpaid by a cent", vec![("cash", "8.499,99")], "faltan 0,01"),
        ("card above the total", vec![("card", "9.000")], "solo el efectivo da vuelto"),
        (
            "card and transfer above the total",
            vec![("card", "5.000"), ("transfer", "4.000")],
            "solo el efectivo da vuelto",
        ),
        ("a payment that is not a number", vec![("cash", "diez")], "Pago:"),
        ("a negative payment", vec![("cash", "-8.500")], "Pago:"),
        ("a payment with 3 decimals", vec![("card", "8.500,001")], "Pago:"),
    ] {
        let r = shop.checkout(&staff, &payments).await;
        assert_refused(&r, message);
        assert_eq!(shop.snapshot().await, before, "{what}: something was written");
        assert_eq!(shop.cart(shop.staff_id).await, cart, "{what}: the cart changed");
        assert_eq!(shop.key(&staff).await, key, "{what}: the cart's key changed");
    }

    // not enough stock names the product and what is left
    let line = cart[0].id;
    let r = shop
        .post(
            &staff,
            &format!("/pos/lines/{line}/update"),
            &[("quantity", "4"), ("unit_price", "8.500"), ("discount", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cart = shop.cart(shop.staff_id).await;
    let r = shop.checkout(&staff, &[]).await;
    assert_refused(&r, "No hay stock suficiente de Vino: quedan 3");
    assert_eq!(shop.snapshot().await, before);
    assert_eq!(shop.cart(shop.staff_id).await, cart);

    // a second line short of stock: the product named is the one that is short
    shop.scan(&staff, "7790041").await;
    shop.scan(&staff, "7790041").await;
    shop.scan(&staff, "7790041").await;
    let r = shop
        .post(
            &staff,
            &format!("/pos/lines/{line}/update"),
            &[("quantity", "1"), ("unit_price", "8.500"), ("discount", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = shop.checkout(&staff, &[]).await;
    assert_refused(&r, "No hay stock suficiente de Queso: quedan 2");
    assert_eq!(shop.snapshot().await, before);
    shop.assert_invariants().await;
}

#[tokio::test]
async fn bad_line_input_is_refused_and_leaves_the_cart_as_it_was() {
    let mut shop = shop().await;
    shop.product("Y-1", "7790011", "Yerba", "1000", 10).await;
    let staff = shop.browser(STAFF).await;
    shop.scan(&staff, "7790011").await;
    shop.scan(&staff, "7790011").await;
    let cart = shop.cart(shop.staff_id).await;
    let line = cart[0].id;
    let path = format!("/pos/lines/{line}/update");
    for (what, q, p, d) in [
        ("zero quantity", "0", "1.000", "0"),
        ("negative quantity", "-1", "1.000", "0"),
        ("a word for a quantity", "abc", "1.000", "0"),
        ("a fractional quantity of a unit product", "1,5", "1.000", "0"),
        ("a fractional quantity written with a dot", "1.5", "1.000", "0"),
        ("an empty quantity", "", "1.000", "0"),
        ("a price with 3 decimals", "2", "10,125", "0"),
        ("a negative price", "2", "-10", "0"),
        ("an empty price", "2", "", "0"),
        ("a discount above the amount", "2", "1.000", "2.000,01"),
        ("a negative discount", "2", "1.000", "-5"),
    ] {
        let r = shop.post(&staff, &path, &[("quantity", q), ("unit_price", p), ("discount", d)]).await;
        assert_eq!(r.status, 422, "{what}: {}", r.body);
        assert!(r.body.contains("role=\"alert\""), "{what}: no message shown:\n{}", r.body);
        assert_eq!(shop.cart(shop.staff_id).await, cart, "{what}: the cart changed");
    }
    // the same via /pos/add
    let product = cart[0].product_id.to_string();
    for (what, q) in [("zero", "0"), ("negative", "-2"), ("a word", "abc"), ("a fraction", "0,5")] {
        let r = shop.post(&staff, "/pos/add", &[("product_id", &product), ("quantity", q)]).await;
        assert_eq!(r.status, 422, "add {what}: {}", r.body);
        assert_eq!(shop.cart(shop.staff_id).await, cart, "add {what}: the cart changed");
    }
    // and a well-formed one goes through
    let r = shop
        .post(&staff, &path, &[("quantity", "3"), ("unit_price", "1.234,50"), ("discount", "0,50")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let after = shop.cart(shop.staff_id).await;
    assert_eq!(
        (after[0].quantity, after[0].unit_price, after[0].discount),
        (dec("3"), dec("1234.50"), dec("0.50"))
    );
    assert_eq!(shop.count("select count(*) from {s}.sales").await, 0);
}

#[tokio::test]
async fn another_shops_product_cannot_be_added() {
    let mut shop = shop().await;
    shop.product("Y-1", "7790011", "Yerba", "1000", 10).await;
    // shop B with more products than A, so the last one's id does not exist in A
    let (b, sb) = shop.app.db.create_shop("Otro Almacén").await;
    let b_owner = shop.app.db.add_member(b, "owner-b@example.com", "owner").await;
    let mut b_last = 0;
    for i in 0..3 {
        b_last = seed_product(
            &mut shop.su,
            b,
            b_owner,
            &sb,
            (&format!("B-{i}"), &format!("880000{i}"), "Ajeno", "10", 5),
        )
        .await;
    }
    assert_eq!(shop.count(&format!("select count(*) from {{s}}.products where id = {b_last}")).await, 0);

    let staff = shop.browser(STAFF).await;
    shop.scan(&staff, "7790011").await;
    let cart = shop.cart(shop.staff_id).await;
    let r = shop.post(&staff, "/pos/add", &[("product_id", &b_last.to_string()), ("quantity", "1")]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(shop.cart(shop.staff_id).await, cart);
    // B's barcode scanned in A is only a search, which finds nothing of B
    let r = shop.post(&staff, "/pos/scan", &[("code", "8800002")]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/pos?q=8800002")));
    let page = shop.get(&staff, "/pos?q=8800002").await;
    assert!(!page.body.contains("Ajeno"), "B's product shows in A's counter search");
    assert_eq!(shop.cart(shop.staff_id).await, cart);
    let b_moves: i64 = shop
        .su
        .query_one(&format!("select count(*) from {sb}.stock_movements where kind <> 'opening'"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(b_moves, 0);
}

/// A key that is not the cart's (tampered, or from an old page whose cart was never sold) is not
/// a sale of its own: no sale carries it, and posting it again records nothing more. What it does
/// today: it charges the person's current cart once, under the cart's own key.
#[tokio::test]
async fn a_tampered_key_does_not_make_a_second_sale() {
    let mut shop = shop().await;
    let p = shop.product("Y-1", "7790011", "Yerba", "1000", 10).await;
    let staff = shop.browser(STAFF).await;
    shop.scan(&staff, "7790011").await;
    let real = shop.key(&staff).await;
    let fake = uuid::Uuid::new_v4().to_string();

    let r = shop.post(&staff, "/pos/checkout", &[("key", &fake), ("cash", "")]).await;
    // documented behaviour: the current cart is sold under its own key
    let sale = sale_id(&r);
    let key: String = shop
        .su
        .query_one(
            &format!("select idempotency_key::text from {}.sales where id = $1", shop.schema),
            &[&sale],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(key, real, "the sale carries the cart's key, not the posted one");
    assert_eq!(
        shop.count(&format!("select count(*) from {{s}}.sales where idempotency_key = '{fake}'")).await,
        0
    );

    // the same fake key again, and another one: the (now empty) cart is not sold twice
    for k in [fake.clone(), uuid::Uuid::new_v4().to_string()] {
        let r = shop.post(&staff, "/pos/checkout", &[("key", &k), ("cash", "")]).await;
        assert_refused(&r, "La venta no tiene líneas");
    }
    // a key that is not a UUID at all
    let r = shop.post(&staff, "/pos/checkout", &[("key", "not-a-key"), ("cash", "")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(shop.count("select count(*) from {s}.sales").await, 1);
    assert_eq!(shop.stock(p).await, dec("9"));

    // another person's sale key shows nothing of theirs and records nothing for them
    let other = shop.browser(STAFF2).await;
    let r = shop.post(&other, "/pos/checkout", &[("key", &real), ("cash", "")]).await;
    assert_eq!(shop.count("select count(*) from {s}.sales").await, 1, "a second sale: {}", r.body);
    shop.assert_invariants().await;
}

// ---------------------------------------------------------------------------------------------
// voiding and listing

#[tokio::test]
async fn only_owner_and_admin_void_and_only_once() {
    let mut shop = shop().await;
    let p = shop.product("Y-1", "7790011", "Yerba", "1000", 10).await;
    let staff = shop.browser(STAFF).await;
    shop.scan(&staff, "7790011").await;
    shop.scan(&staff, "7790011").await;
    let sale = sale_id(&shop.checkout(&staff, &[("card", "1.500"), ("cash", "1.000")]).await);
    assert_eq!(shop.stock(p).await, dec("8"));

    // staff: no void form, and a forged post is forbidden
    let page = shop.get(&staff, &format!("/sales/{sale}")).await;
    assert!(!page.body.contains(&format!("/sales/{sale}/void")), "staff sees the void form");
    let before = shop.snapshot().await;
    let r = shop.post(&staff, &format!("/sales/{sale}/void"), &[("reason", "me equivoqué")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(shop.status_of(sale).await, "completed");
    assert_eq!(shop.snapshot().await, before);

    // admin: stock back, money reversed per method, audited
    let admin = shop.browser(ADMIN).await;
    let page = shop.get(&admin, &format!("/sales/{sale}")).await;
    assert!(page.body.contains(&format!("/sales/{sale}/void")), "admin sees the void form");
    // a void needs a reason
    let r = shop.post(&admin, &format!("/sales/{sale}/void"), &[("reason", "  ")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(shop.snapshot().await, before);
    let r = shop.post(&admin, &format!("/sales/{sale}/void"), &[("reason", "cliente devolvió")]).await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some(format!("/sales/{sale}").as_str())),
        "{}",
        r.body
    );
    let s = shop
        .su
        .query_one(
            &format!("select status, voided_by, void_reason from {}.sales where id = $1", shop.schema),
            &[&sale],
        )
        .await
        .unwrap();
    assert_eq!(s.get::<_, String>(0), "voided");
    assert_eq!(s.get::<_, Option<i64>>(1), Some(shop.admin_id));
    assert_eq!(s.get::<_, Option<String>>(2).as_deref(), Some("cliente devolvió"));
    assert_eq!(shop.stock(p).await, dec("10"));
    assert_eq!(shop.count(&format!("select count(*) from {{s}}.stock_movements where kind = 'void' and quantity = 2 and ref_id = {sale}")).await, 1);
    let per_method: Vec<(String, Decimal)> = shop
        .su
        .query(&format!("select method, sum(amount) from {}.money_ledger where sale_id = $1 group by method order by method", shop.schema), &[&sale])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        per_method,
        vec![("card".into(), dec("0")), ("cash".into(), dec("0"))],
        "every method reversed"
    );
    assert_eq!(
        shop.count(&format!(
            "select count(*) from {{s}}.money_ledger where sale_id = {sale} and kind = 'sale_void'"
        ))
        .await,
        2
    );
    assert_eq!(
        shop.count(&format!(
            "select count(*) from {{s}}.audit_log where entity = 'sales' and entity_id = '{sale}' and user_id = {}
                and old_values ->> 'status' = 'completed' and new_values ->> 'status' = 'voided'",
            shop.admin_id
        ))
        .await,
        1
    );
    let receipt = shop.get(&admin, &format!("/sales/{sale}")).await;
    assert!(
        receipt.body.contains("Anulada") && receipt.body.contains("cliente devolvió"),
        "{}",
        receipt.body
    );

    // twice: refused, nothing moves again
    let before = shop.snapshot().await;
    let again = shop.post(&admin, &format!("/sales/{sale}/void"), &[("reason", "otra vez")]).await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert_eq!(shop.snapshot().await, before);
    assert_eq!(shop.stock(p).await, dec("10"));
    assert_eq!(shop.status_of(sale).await, "voided");
    // a sale that does not exist
    let r = shop.post(&admin, "/sales/999999/void", &[("reason", "x")]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    shop.assert_invariants().await;
    // the refusal says why (checked last: the page hides the void form, and its error, once voided)
    assert_refused(&again, "Esta venta ya fue anulada");
}

#[tokio::test]
async fn the_sales_list_shows_and_filters_sales() {
    let mut shop = shop().await;
    shop.product("Y-1", "7790011", "Yerba", "1000", 10).await;
    let staff = shop.browser(STAFF).await;
    let mut sales = Vec::new();
    for _ in 0..3 {
        shop.scan(&staff, "7790011").await;
        sales.push(sale_id(&shop.checkout(&staff, &[]).await));
    }
    let admin = shop.browser(ADMIN).await;
    let r = shop.post(&admin, &format!("/sales/{}/void", sales[1]), &[("reason", "prueba")]).await;
    assert_eq!(r.status, 303, "{}", r.body);

    let link = |id: i64| format!("href=\"/sales/{id}\"");
    let all = shop.get(&staff, "/sales").await;
    assert_eq!(all.status, 200, "{}", all.body);
    for id in &sales {
        assert!(all.body.contains(&link(*id)), "sale {id} missing from the list");
    }
    let voided = shop.get(&staff, "/sales?status=voided").await;
    assert!(voided.body.contains(&link(sales[1])));
    assert!(
        !voided.body.contains(&link(sales[0])) && !voided.body.contains(&link(sales[2])),
        "{}",
        voided.body
    );
    let completed = shop.get(&staff, "/sales?status=completed").await;
    assert!(completed.body.contains(&link(sales[0])) && completed.body.contains(&link(sales[2])));
    assert!(!completed.body.contains(&link(sales[1])));
    // dates: today (in the shop's time zone) holds them, a day long ago none
    let today: String = shop
        .su
        .query_one(
            &format!(
                "select to_char(now() at time zone time_zone, 'YYYY-MM-DD') from {}.settings",
                shop.schema
            ),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let r = shop.get(&staff, &format!("/sales?from={today}&to={today}")).await;
    for id in &sales {
        assert!(r.body.contains(&link(*id)), "sale {id} not in today's range");
    }
    let r = shop.get(&staff, "/sales?from=2001-01-01&to=2001-01-31").await;
    assert!(sales.iter().all(|id| !r.body.contains(&link(*id))), "{}", r.body);
    assert!(r.body.contains("No hay ventas"));
}

#[tokio::test]
async fn the_cart_survives_a_reload_and_is_nobody_elses() {
    let mut shop = shop().await;
    shop.product("Y-1", "7790011", "Yerba Mate Premium", "1000", 10).await;
    let staff = shop.browser(STAFF).await;
    shop.scan(&staff, "7790011").await;
    let line = shop.cart(shop.staff_id).await[0].id;
    let first = shop.get(&staff, "/pos").await;
    let second = shop.get(&staff, "/pos").await;
    for page in [&first, &second] {
        assert!(page.body.contains("Yerba Mate Premium"), "{}", page.body);
        assert!(page.body.contains(&format!("/pos/lines/{line}/update")));
    }
    assert_eq!(
        field_value(&first.body, "key"),
        field_value(&second.body, "key"),
        "the key survives a reload"
    );
    // a new browser of the same person sees the same cart
    let again = shop.browser(STAFF).await;
    assert!(shop.get(&again, "/pos").await.body.contains("Yerba Mate Premium"));

    // another person: an empty cart of their own, and no way to touch the first one's lines
    let other = shop.browser(STAFF2).await;
    let page = shop.get(&other, "/pos").await;
    assert!(!page.body.contains("Yerba Mate Premium"), "another person's cart is visible");
    assert!(page.body.contains("La venta está vacía"));
    assert_ne!(field_value(&page.body, "key"), field_value(&first.body, "key"));
    let before = shop.cart(shop.staff_id).await;
    let r = shop
        .post(
            &other,
            &format!("/pos/lines/{line}/update"),
            &[("quantity", "9"), ("unit_price", "1"), ("discount", "")],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = shop.post(&other, &format!("/pos/lines/{line}/remove"), &[]).await;
    assert!(r.status == 404 || r.status == 303, "{}", r.body);
    assert_eq!(shop.cart(shop.staff_id).await, before, "another person changed the cart");
    assert!(shop.cart(shop.staff2_id).await.is_empty());
    // checking out with nothing in one's own cart records nothing
    let r = shop.checkout(&other, &[]).await;
    assert_refused(&r, "La venta no tiene líneas");
    assert_eq!(shop.count("select count(*) from {s}.sales").await, 0);
}
