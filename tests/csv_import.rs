//! Catalog CSV through the real app: an export imports back unchanged; a Spanish spreadsheet file
//! (';' and "1.234,50") previews as a dry run, then applies once (new products' stock as `import`
//! movements, existing stock never overwritten); whole-file refusals store nothing; row errors are
//! listed by line and column and block the apply; a 50,000-row file; staff may not import.
mod common;

use common::{Page, TestApp, PASSWORD};
use rust_decimal::Decimal;
use std::str::FromStr;
use tokio_postgres::Client;

// ---------------------------------------------------------------------------------------------
// fixture and helpers

const OWNER: &str = "dueno@example.com";
const STAFF: &str = "empleado@example.com";
const BOUNDARY: &str = "----StockCsvTestBoundary7MA4YWxkTrZu0gW";

struct Shop {
    app: TestApp,
    /// Superuser connection to the test database, for seeding and checking.
    admin: Client,
    schema: String,
}

/// A shop with an owner (the app's client is signed in as the owner) and a staff member.
async fn shop() -> Shop {
    let db = common::TestDb::new().await;
    let (tenant, schema) = db.create_shop("Almacén La Esquina").await;
    db.add_member(tenant, OWNER, "owner").await;
    db.add_member(tenant, STAFF, "staff").await;
    let admin = db.admin().await;
    // the stock trigger runs as the schema owner, under the shop's row-level security
    admin
        .query_one("select set_config('app.tenant_id', $1, false)", &[&tenant.to_string()])
        .await
        .expect("tenant context");
    let app = common::spawn_app_on(db).await;
    let r = app.login(OWNER, PASSWORD).await;
    assert_eq!(r.status, 303, "owner login: {}", r.body);
    Shop { app, admin, schema }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("decimal {s}: {e}"))
}

/// A `multipart/form-data` body with text fields and one file part.
fn multipart(fields: &[(&str, &str)], file_field: &str, filename: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{file_field}\"; filename=\"{filename}\"\r\n\
             content-type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn read(r: reqwest::Response) -> Page {
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    let set_cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let body = r.text().await.expect("body");
    Page { status, location, set_cookies, body }
}

/// Text of an HTML fragment without its tags.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// The number shown next to `label` in the preview's facts list.
fn fact(page: &Page, label: &str) -> usize {
    let key = format!("<dt>{label}</dt>");
    let i = page.body.find(&key).unwrap_or_else(|| panic!("no fact {label:?} in:\n{}", page.body));
    let rest = &page.body[i + key.len()..];
    let end = rest.find("</dd>").expect("end of dd");
    text(&rest[..end]).parse().unwrap_or_else(|e| panic!("fact {label}: {e}"))
}

/// (rows, new, updated, unchanged, new categories, errors) of a preview page.
fn counts(page: &Page) -> [usize; 6] {
    [
        fact(page, "Filas"),
        fact(page, "Productos nuevos"),
        fact(page, "Productos actualizados"),
        fact(page, "Productos sin cambios"),
        fact(page, "Categorías nuevas"),
        fact(page, "Errores"),
    ]
}

/// (line, column, message) of every row of the preview's error table.
fn row_errors(page: &Page) -> Vec<(usize, String, String)> {
    let Some(start) = page.body.find("<tbody>") else { return Vec::new() };
    let end = page.body[start..].find("</tbody>").expect("end of tbody");
    page.body[start..start + end]
        .split("<tr>")
        .skip(1)
        .map(|tr| {
            let cells: Vec<String> = tr
                .split("<td")
                .skip(1)
                .map(|td| {
                    let td = &td[td.find('>').expect("td") + 1..];
                    text(&td[..td.find("</td>").expect("end of td")])
                })
                .collect();
            assert_eq!(cells.len(), 3, "error row: {tr}");
            (cells[0].parse().expect("line"), cells[1].clone(), cells[2].clone())
        })
        .collect()
}

#[derive(Debug, PartialEq)]
struct State {
    products: Vec<String>,
    categories: Vec<String>,
    movements: Vec<String>,
}

impl Shop {
    fn sql(&self, sql: &str) -> String {
        sql.replace("{s}", &self.schema)
    }

    async fn one_i64(&self, sql: &str) -> i64 {
        let sql = self.sql(sql);
        self.admin.query_one(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    async fn imports(&self) -> i64 {
        self.one_i64("select count(*) from {s}.product_imports").await
    }

    async fn rows_as_json(&self, table: &str) -> Vec<String> {
        let sql = self.sql(&format!("select to_jsonb(t)::text from {{s}}.{table} t order by id"));
        self.admin
            .query(&sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// Every column of every product, category and stock movement.
    async fn state(&self) -> State {
        State {
            products: self.rows_as_json("products").await,
            categories: self.rows_as_json("categories").await,
            movements: self.rows_as_json("stock_movements").await,
        }
    }

    /// The stock of every tracked product equals the sum of its movements.
    async fn assert_stock_is_sum_of_movements(&self) {
        let bad = self
            .one_i64(
                "select count(*) from {s}.products p
                  where p.track_stock and p.stock <> coalesce(
                        (select sum(m.quantity) from {s}.stock_movements m where m.product_id = p.id), 0)",
            )
            .await;
        assert_eq!(bad, 0, "products whose stock is not the sum of their movements");
    }

    /// A token for a multipart form (the session's token is on every signed-in page).
    async fn csrf_with(&self, http: &reqwest::Client) -> String {
        self.app.get_with(http, "/products").await.csrf()
    }

    async fn upload_with(&self, http: &reqwest::Client, filename: &str, bytes: &[u8]) -> Page {
        let token = self.csrf_with(http).await;
        let body = multipart(&[("csrf", &token)], "file", filename, bytes);
        read(
            http.post(self.app.url("/products/import"))
                .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
                .body(body)
                .send()
                .await
                .expect("upload"),
        )
        .await
    }

    async fn upload(&self, filename: &str, bytes: &[u8]) -> Page {
        self.upload_with(&self.app.http, filename, bytes).await
    }

    /// Uploads a file that must be stored; returns its preview path.
    async fn upload_ok(&self, filename: &str, bytes: &[u8]) -> String {
        let r = self.upload(filename, bytes).await;
        assert_eq!(r.status, 303, "upload of {filename}: {}", r.body);
        let loc = r.location.expect("location");
        let id = loc.strip_prefix("/products/import/").expect("preview location");
        assert!(id.parse::<i64>().is_ok(), "preview location {loc}");
        loc
    }

    async fn apply_with(&self, http: &reqwest::Client, preview: &str) -> Page {
        let token = self.csrf_with(http).await;
        self.app.post_with(http, &format!("{preview}/apply"), &[("csrf", &token)]).await
    }

    async fn apply(&self, preview: &str) -> Page {
        self.apply_with(&self.app.http, preview).await
    }

    async fn unit(&self, code: &str) -> i64 {
        self.one_i64(&format!("select id from {{s}}.units where code = '{code}'")).await
    }

    async fn category(&self, name: &str) -> i64 {
        let sql = self.sql("insert into {s}.categories (name) values ($1) returning id");
        self.admin.query_one(&sql, &[&name]).await.expect("category").get(0)
    }

    /// Inserts a product as the database allows it, then posts `stock` as an opening movement.
    #[allow(clippy::too_many_arguments)]
    async fn product(
        &self,
        sku: &str,
        barcode: Option<&str>,
        name: &str,
        description: &str,
        category: Option<i64>,
        unit: &str,
        price: &str,
        cost: &str,
        min_stock: &str,
        stock: &str,
        track_stock: bool,
        active: bool,
    ) -> i64 {
        let unit = self.unit(unit).await;
        let sql = self.sql(
            "insert into {s}.products (sku, barcode, name, description, category_id, unit_id, price, cost,
                                       min_stock, track_stock, active)
             values ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8::text::numeric, $9::text::numeric, true, $10)
             returning id",
        );
        let id: i64 = self
            .admin
            .query_one(
                &sql,
                &[&sku, &barcode, &name, &description, &category, &unit, &price, &cost, &min_stock, &active],
            )
            .await
            .unwrap_or_else(|e| panic!("product {sku}: {e}"))
            .get(0);
        if dec(stock) != Decimal::ZERO {
            self.movement(id, "opening", stock).await;
        }
        if !track_stock {
            let sql = self.sql("update {s}.products set track_stock = false where id = $1");
            self.admin.execute(&sql, &[&id]).await.expect("untrack");
        }
        id
    }

    async fn movement(&self, product: i64, kind: &str, qty: &str) {
        let sql = self.sql(
            "insert into {s}.stock_movements (product_id, kind, quantity, reason) values ($1, $2, $3::text::numeric, 'seed')",
        );
        self.admin
            .execute(&sql, &[&product, &kind, &qty])
            .await
            .unwrap_or_else(|e| panic!("movement: {e:?}"));
    }

    /// (price, cost, min_stock, stock, unit code, category name, barcode, description, track, active)
    async fn product_row(&self, sku: &str) -> ProductRow {
        let sql = self.sql(
            "select p.price, p.cost, p.min_stock, p.stock, u.code, c.name, p.barcode, p.description, p.track_stock,
                    p.active, p.name, p.id
               from {s}.products p join {s}.units u on u.id = p.unit_id
               left join {s}.categories c on c.id = p.category_id
              where p.sku = $1",
        );
        let r = self.admin.query_one(&sql, &[&sku]).await.unwrap_or_else(|e| panic!("product {sku}: {e}"));
        ProductRow {
            price: r.get(0),
            cost: r.get(1),
            min_stock: r.get(2),
            stock: r.get(3),
            unit: r.get(4),
            category: r.get(5),
            barcode: r.get(6),
            description: r.get(7),
            track_stock: r.get(8),
            active: r.get(9),
            name: r.get(10),
            id: r.get(11),
        }
    }

    /// (kind, quantity, reason) of a product's movements, oldest first.
    async fn movements_of(&self, product: i64) -> Vec<(String, Decimal, String)> {
        let sql = self
            .sql("select kind, quantity, reason from {s}.stock_movements where product_id = $1 order by id");
        self.admin
            .query(&sql, &[&product])
            .await
            .expect("movements")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }

    async fn export(&self) -> Vec<u8> {
        let r = self.app.http.get(self.app.url("/products/export.csv")).send().await.expect("export");
        assert_eq!(r.status().as_u16(), 200, "export");
        let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert!(ct.starts_with("text/csv"), "export content-type {ct}");
        r.bytes().await.expect("export body").to_vec()
    }
}

#[derive(Debug)]
struct ProductRow {
    price: Decimal,
    cost: Decimal,
    min_stock: Decimal,
    stock: Decimal,
    unit: String,
    category: Option<String>,
    barcode: Option<String>,
    description: String,
    track_stock: bool,
    active: bool,
    name: String,
    id: i64,
}

/// ~30 products covering what the export has to carry: categories (with accents), kg and litre
/// products with fractional stock and minimums, inactive and untracked products, barcodes, text
/// with commas, quotes, semicolons and line breaks, SKUs with every allowed punctuation.
async fn seed_catalog(s: &Shop) {
    let cats = [
        s.category("Almacén").await,
        s.category("Bebidas").await,
        s.category("Fiambres y Quesos").await,
        s.category("Limpieza").await,
    ];
    let special_names = [
        "Queso \"Cremoso\", 1 kg",
        "Aceite; girasol 900 ml",
        "Ñandú ÁÉÍÓÚ ñ",
        "Galletitas, surtidas",
        "Agua 'sin gas'",
    ];
    for i in 1..=30usize {
        let unit = if i % 5 == 0 {
            "kg"
        } else if i % 7 == 0 {
            "l"
        } else {
            "u"
        };
        let divisible = unit != "u";
        let sku = match i {
            1 => "ACE/GIR.900_ml-1".to_string(),
            2 => "a-lower-case".to_string(),
            _ => format!("P-{i:03}"),
        };
        let name = special_names.get(i % 6).map(|n| n.to_string()).unwrap_or(format!("Producto número {i}"));
        let description = match i % 3 {
            0 => String::new(),
            1 if i == 4 => "Línea uno, con coma\nLínea \"dos\"; con punto y coma".to_string(),
            _ => format!("Descripción {i}"),
        };
        let barcode = (i % 2 == 0).then(|| format!("779{i:010}"));
        let category = if i % 4 == 3 { None } else { Some(cats[i % 4]) };
        let price = format!("{}.{:02}", i * 1370, (i * 29) % 100);
        let cost = if i % 3 == 0 { "0".to_string() } else { format!("{}.{:02}", i * 800, (i * 7) % 100) };
        let min_stock = if divisible { format!("{}.5", i % 4) } else { (i % 4).to_string() };
        let stock = if divisible { format!("{}.{:03}", i, (i * 123) % 1000) } else { (i * 3).to_string() };
        let track = i % 6 != 0;
        let active = i % 8 != 0;
        let stock = if track { stock } else { "0".to_string() };
        let id = s
            .product(
                &sku,
                barcode.as_deref(),
                &name,
                &description,
                category,
                unit,
                &price,
                &cost,
                &min_stock,
                &stock,
                track,
                active,
            )
            .await;
        if track && i % 3 == 1 {
            s.movement(id, "purchase", if divisible { "0.250" } else { "2" }).await;
        }
    }
    // an untracked product that kept the stock it had when it was tracked
    let id =
        s.product("KEPT-1", None, "Con stock viejo", "", None, "u", "10", "0", "0", "4", true, true).await;
    let sql = s.sql("update {s}.products set track_stock = false where id = $1");
    s.admin.execute(&sql, &[&id]).await.expect("untrack");
    // price with no cents, zero price
    s.product("ZERO-1", None, "Regalo", "", None, "u", "0", "0", "0", "1", true, true).await;
    s.product(
        "ROUND-1",
        None,
        "Precio redondo",
        "",
        Some(cats[0]),
        "u",
        "1000",
        "1000",
        "0",
        "0",
        true,
        true,
    )
    .await;
    assert_eq!(s.one_i64("select count(*) from {s}.products").await, 33);
}

// ---------------------------------------------------------------------------------------------
// export → import

#[tokio::test]
async fn an_export_imports_back_unchanged() {
    let s = shop().await;
    seed_catalog(&s).await;
    let before = s.state().await;

    let exported = s.export().await;
    assert!(exported.starts_with(b"\xEF\xBB\xBF"), "the export starts with a byte-order mark");
    let text = String::from_utf8(exported[3..].to_vec()).expect("utf-8 export");
    assert!(text.starts_with("sku,barcode,name,description,category,unit,price,cost,min_stock,stock,"));
    assert!(text.contains("Línea uno, con coma\nLínea \"\"dos\"\"; con punto y coma"), "{text}");

    let preview = s.upload_ok("catalogo.csv", &exported).await;
    let p = s.app.get(&preview).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(counts(&p), [33, 0, 0, 33, 0, 0], "preview of an unchanged export:\n{}", p.body);
    assert!(!p.body.contains("tienen otro stock"), "no stock differs: {}", p.body);
    assert!(p.body.contains("Todavía no se cambió nada."), "{}", p.body);
    assert!(p.body.contains(&format!("action=\"{preview}/apply\"")), "the apply form: {}", p.body);
    assert_eq!(s.state().await, before, "the upload and preview change nothing");

    let r = s.apply(&preview).await;
    assert_eq!(r.status, 303, "apply: {}", r.body);
    assert_eq!(r.location.as_deref(), Some("/products"));
    let after = s.state().await;
    assert_eq!(after.products, before.products, "every column of every product is as it was");
    assert_eq!(after.categories, before.categories);
    assert_eq!(after.movements, before.movements, "no new stock movements");
    let applied = s.one_i64("select count(*) from {s}.product_imports where status = 'applied'").await;
    assert_eq!(applied, 1);
    assert_eq!(s.export().await, exported, "exporting again gives the same bytes");
    s.assert_stock_is_sum_of_movements().await;
}

#[tokio::test]
async fn an_export_with_negative_stock_imports_back() {
    // A shop may allow selling below zero; its export must still import back.
    let s = shop().await;
    s.admin
        .execute(&s.sql("update {s}.settings set allow_negative_stock = true"), &[])
        .await
        .expect("allow negative stock");
    let id = s.product("NEG-1", None, "Vendido de más", "", None, "u", "10", "0", "0", "2", true, true).await;
    s.movement(id, "sale", "-5").await;
    let kg =
        s.product("NEG-2", None, "Fiambre de más", "", None, "kg", "10", "0", "0", "0.5", true, true).await;
    s.movement(kg, "sale", "-1.250").await;
    let before = s.state().await;

    let exported = s.export().await;
    let preview = s.upload_ok("catalogo.csv", &exported).await;
    let p = s.app.get(&preview).await;
    assert_eq!(row_errors(&p), vec![], "row errors on an unchanged export");
    assert_eq!(counts(&p), [2, 0, 0, 2, 0, 0], "{}", p.body);
    let r = s.apply(&preview).await;
    assert_eq!(r.status, 303, "apply: {}", r.body);
    assert_eq!(s.state().await, before);
}

// ---------------------------------------------------------------------------------------------
// a Spanish spreadsheet: preview, apply once

const SPANISH: &str =
    "\u{feff}sku;barcode;name;description;category;unit;price;cost;min_stock;stock;track_stock;active\r\n\
NEW-1;7790000000028;Yerba mate 1 kg;Suave;Almacén;u;1.234,50;900;2;10;si;si\r\n\
NEW-2;;Queso cremoso;\"Horma; trozada\";Fiambres;kg;5.432,10;3.000,00;1,5;2,75;sí;sí\r\n\
OLD-1;7790000000011;Arroz largo fino 1 kg;Largo fino;almacen;u;999,99;500;0;50;si;si\r\n";

#[tokio::test]
async fn a_spanish_file_previews_then_applies_once() {
    let s = shop().await;
    let almacen = s.category("Almacén").await;
    let old = s
        .product(
            "OLD-1",
            Some("7790000000011"),
            "Arroz 1 kg",
            "Largo fino",
            Some(almacen),
            "u",
            "850",
            "500",
            "0",
            "7",
            true,
            true,
        )
        .await;
    let untouched = s
        .product("KEEP-1", None, "No está en el archivo", "", None, "u", "10", "5", "0", "3", true, true)
        .await;
    let before = s.state().await;

    let preview = s.upload_ok("planilla.csv", SPANISH.as_bytes()).await;
    let p = s.app.get(&preview).await;
    assert_eq!(p.status, 200, "{}", p.body);
    // rows, new, updated, unchanged, new categories ("Fiambres"; "almacen" is "Almacén"), errors
    assert_eq!(counts(&p), [3, 2, 1, 0, 1, 0], "{}", p.body);
    assert!(
        p.body.contains("1 productos existentes tienen otro stock en el archivo: se mantiene su stock"),
        "the preview says the stock of OLD-1 is kept: {}",
        p.body
    );
    assert_eq!(s.state().await, before, "dry run: nothing changed before apply");

    let r = s.apply(&preview).await;
    assert_eq!(r.status, 303, "apply: {}", r.body);
    let after = s.state().await;

    let n1 = s.product_row("NEW-1").await;
    assert_eq!(
        (n1.price, n1.cost, n1.min_stock, n1.stock),
        (dec("1234.50"), dec("900"), dec("2"), dec("10"))
    );
    assert_eq!(n1.category.as_deref(), Some("Almacén"), "matched the existing category");
    assert_eq!(n1.barcode.as_deref(), Some("7790000000028"));
    assert_eq!(n1.name, "Yerba mate 1 kg");
    let m1 = s.movements_of(n1.id).await;
    assert_eq!(m1.len(), 1, "{m1:?}");
    assert_eq!((m1[0].0.as_str(), m1[0].1), ("import", dec("10")));
    assert!(m1[0].2.contains("planilla.csv"), "the movement names the file: {:?}", m1[0].2);

    let n2 = s.product_row("NEW-2").await;
    assert_eq!(
        (n2.price, n2.cost, n2.min_stock, n2.stock),
        (dec("5432.10"), dec("3000"), dec("1.5"), dec("2.75"))
    );
    assert_eq!((n2.unit.as_str(), n2.category.as_deref()), ("kg", Some("Fiambres")));
    assert_eq!(n2.description, "Horma; trozada");
    assert_eq!(n2.barcode, None);
    assert!(n2.track_stock && n2.active);
    let m2 = s.movements_of(n2.id).await;
    assert_eq!(m2.iter().map(|m| (m.0.as_str(), m.1)).collect::<Vec<_>>(), vec![("import", dec("2.75"))]);

    let o = s.product_row("OLD-1").await;
    assert_eq!(o.id, old);
    assert_eq!(o.price, dec("999.99"), "the price is updated");
    assert_eq!(o.name, "Arroz largo fino 1 kg");
    assert_eq!(o.stock, dec("7"), "the stock of an existing product is never overwritten (file says 50)");
    assert_eq!(o.category.as_deref(), Some("Almacén"), "'almacen' matched, no new category");
    assert_eq!(s.movements_of(old).await.len(), 1, "no movement for the existing product");
    assert_eq!(
        before.products.iter().find(|p| p.contains("KEEP-1")),
        after.products.iter().find(|p| p.contains("KEEP-1"))
    );
    assert_eq!(s.movements_of(untouched).await.len(), 1);
    assert_eq!(after.categories.len(), before.categories.len() + 1);
    assert_eq!(after.movements.len(), before.movements.len() + 2);
    s.assert_stock_is_sum_of_movements().await;

    // a second apply is refused and changes nothing
    let again = s.apply(&preview).await;
    assert_eq!(again.status, 409, "second apply: {}", again.body);
    assert!(again.body.contains("Este archivo ya fue importado."), "{}", again.body);
    assert_eq!(s.state().await, after, "the second apply changed nothing");
    // the preview of an applied file offers no apply form
    let p = s.app.get(&preview).await;
    assert!(!p.body.contains(&format!("action=\"{preview}/apply\"")), "{}", p.body);
}

#[tokio::test]
async fn a_file_without_some_columns_keeps_those_columns_of_existing_products() {
    // The usual price-update file: only sku, name and price. The columns that are not in the file
    // must keep their values (barcode, description, category, unit, cost, minimum, tracking, active).
    let s = shop().await;
    let cat = s.category("Fiambres").await;
    s.product(
        "JAM-1",
        Some("7791234567890"),
        "Jamón cocido",
        "Feteado",
        Some(cat),
        "kg",
        "5000",
        "3200.50",
        "1.5",
        "2.375",
        true,
        false,
    )
    .await;
    let preview =
        s.upload_ok("precios.csv", "sku;name;price\nJAM-1;Jamón cocido;5.500,00\n".as_bytes()).await;
    let p = s.app.get(&preview).await;
    assert_eq!(counts(&p), [1, 0, 1, 0, 0, 0], "{}", p.body);
    let r = s.apply(&preview).await;
    assert_eq!(r.status, 303, "apply: {}", r.body);
    let j = s.product_row("JAM-1").await;
    assert_eq!(j.price, dec("5500"));
    assert_eq!(j.stock, dec("2.375"));
    assert_eq!(
        (j.barcode.as_deref(), j.description.as_str(), j.category.as_deref(), j.unit.as_str()),
        (Some("7791234567890"), "Feteado", Some("Fiambres"), "kg"),
        "columns absent from the file were overwritten with defaults"
    );
    assert_eq!(
        (j.cost, j.min_stock, j.track_stock, j.active),
        (dec("3200.50"), dec("1.5"), true, false),
        "columns absent from the file were overwritten with defaults"
    );
}

// ---------------------------------------------------------------------------------------------
// whole-file refusals

#[tokio::test]
async fn whole_file_problems_are_refused_and_nothing_is_stored() {
    let s = shop().await;
    s.product("EX-1", None, "Existente", "", None, "u", "10", "0", "0", "1", true, true).await;
    let before = s.state().await;
    let cases: &[(&str, &[u8], &str)] = &[
        ("latin-1", b"sku,name,price\nC1,Caf\xe9,10\n", "El archivo no es texto UTF-8"),
        ("unknown column", b"sku,nombre,price\nC1,Cafe,10\n", "Columnas desconocidas: nombre"),
        ("missing price", b"sku,name\nC1,Cafe\n", "Faltan columnas: price"),
        ("duplicate column", b"sku,name,price,name\nC1,Cafe,10,Otro\n", "Columnas repetidas: name"),
        ("empty file", b"", "Elija un archivo CSV."),
        ("blank file", b" \r\n\r\n", "El archivo no tiene filas."),
        ("header only", b"sku,name,price\n", "El archivo no tiene filas."),
        (
            "wrong number of fields",
            b"sku,name,price\nC1,Cafe,10\nC2,Te\nC3,Mate,5\n",
            "El archivo no es un CSV válido cerca de la línea 3",
        ),
        ("unclosed quote", b"sku,name,price\nC1,\"Cafe,10\nC2,Te,5\n", "El archivo no es un CSV válido"),
    ];
    for (what, bytes, message) in cases {
        let r = s.upload("archivo.csv", bytes).await;
        assert_eq!(r.status, 422, "{what}: {}", r.body);
        assert!(r.body.contains(message), "{what}: expected {message:?} in:\n{}", r.body);
        assert!(r.body.contains("name=\"file\""), "{what}: the upload form again");
        assert_eq!(s.imports().await, 0, "{what}: nothing stored");
    }
    assert_eq!(s.state().await, before);
}

// ---------------------------------------------------------------------------------------------
// row errors

#[tokio::test]
async fn row_errors_are_listed_by_line_and_column_and_block_the_apply() {
    let s = shop().await;
    s.product("EX-1", Some("7790001112223"), "Existente", "", None, "u", "10", "0", "0", "1", true, true)
        .await;
    let before = s.state().await;
    let file = "sku,barcode,name,price,unit,stock\n\
                R-1,,Uno,10.00,u,1\n\
                R-1,,Dos,11.00,u,1\n\
                R-3,,Tres,abc,u,1\n\
                R-4,,Cuatro,-5,u,1\n\
                R-5,,Cinco,1.234,u,1\n\
                R-6,,Seis,10,zz,1\n\
                R-7,,Siete,10,u,1.5\n\
                R-8,7790001112223,Ocho,10,u,1\n\
                R-9,,Nueve,10,kg,1.5\n";
    let preview = s.upload_ok("errores.csv", file.as_bytes()).await;
    assert_eq!(s.state().await, before, "a file with errors is stored for its preview, nothing else");
    let p = s.app.get(&preview).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let errors = row_errors(&p);
    let got: Vec<(usize, &str, &str)> = errors.iter().map(|(l, c, m)| (*l, c.as_str(), m.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (3, "sku", "Este código aparece más de una vez en el archivo."),
            (4, "price", "Ingrese un número, como 1234,50."),
            (5, "price", "No puede ser negativo."),
            (6, "price", "Demasiados decimales."),
            (7, "unit", "Código de unidad desconocido."),
            (8, "stock", "Esta unidad solo admite números enteros."),
            (9, "barcode", "Otro producto tiene este código de barras."),
        ],
        "{}",
        p.body
    );
    assert_eq!(fact(&p, "Errores"), 7);
    assert_eq!(fact(&p, "Filas"), 9);
    assert!(p.body.contains("Corrija estas filas"), "{}", p.body);
    assert!(!p.body.contains(&format!("action=\"{preview}/apply\"")), "no apply form: {}", p.body);

    let r = s.apply(&preview).await;
    assert_eq!(r.status, 409, "apply of a file with errors: {}", r.body);
    assert_eq!(s.state().await, before, "nothing changed");
    let status = s.one_i64("select count(*) from {s}.product_imports where status = 'previewed'").await;
    assert_eq!(status, 1, "still not applied");
}

// ---------------------------------------------------------------------------------------------
// a big file

#[tokio::test]
async fn a_50000_row_file_previews_and_applies() {
    const N: usize = 50_000;
    let s = shop().await;
    let mut file = String::from("sku,name,category,unit,price,cost,stock\n");
    for i in 1..=N {
        let (unit, stock) = if i % 10 == 0 {
            ("kg", format!("{}.{:03}", i % 50, i % 1000))
        } else {
            ("u", (i % 20).to_string())
        };
        file.push_str(&format!(
            "SKU-{i:05},Producto {i},Categoría {},{unit},{}.{:02},{}.50,{stock}\n",
            i % 10,
            100 + i % 900,
            i % 100,
            50 + i % 400
        ));
    }
    let started = std::time::Instant::now();
    let preview = s.upload_ok("grande.csv", file.as_bytes()).await;
    let uploaded = started.elapsed();
    let p = s.app.get(&preview).await;
    assert_eq!(p.status, 200, "{}", &p.body[..p.body.len().min(2000)]);
    assert_eq!(counts(&p), [N, N, 0, 0, 10, 0]);
    let previewed = started.elapsed();
    assert_eq!(s.one_i64("select count(*) from {s}.products").await, 0, "dry run");

    let r = s.apply(&preview).await;
    assert_eq!(r.status, 303, "apply: {}", r.body);
    let applied = started.elapsed();
    eprintln!("50,000 rows: upload {uploaded:?}, +preview {previewed:?}, +apply {applied:?} (cumulative)");

    assert_eq!(s.one_i64("select count(*) from {s}.products").await, N as i64);
    assert_eq!(s.one_i64("select count(*) from {s}.categories").await, 10);
    let with_stock = file.lines().skip(1).filter(|l| !l.ends_with(",0") && !l.ends_with(",0.000")).count();
    assert_eq!(
        s.one_i64("select count(*) from {s}.stock_movements where kind = 'import'").await,
        with_stock as i64
    );
    let last = s.product_row("SKU-50000").await;
    assert_eq!((last.unit.as_str(), last.price, last.stock), ("kg", dec("600.00"), dec("0")));
    let some = s.product_row("SKU-12345").await;
    assert_eq!(
        (some.unit.as_str(), some.price, some.cost, some.stock),
        ("u", dec("745.45"), dec("395.50"), dec("5"))
    );
    s.assert_stock_is_sum_of_movements().await;
}

// ---------------------------------------------------------------------------------------------
// who may import

#[tokio::test]
async fn staff_may_not_import_or_export() {
    let s = shop().await;
    s.product("EX-1", None, "Existente", "", None, "u", "10", "0", "0", "1", true, true).await;
    let staff = common::client();
    let r = s.app.login_with(&staff, STAFF, PASSWORD).await;
    assert_eq!(r.status, 303, "staff login: {}", r.body);

    assert_eq!(s.app.get_with(&staff, "/products/import").await.status, 403);
    let r = staff.get(s.app.url("/products/export.csv")).send().await.expect("export");
    assert_eq!(r.status().as_u16(), 403, "staff export");
    let body = r.text().await.expect("body");
    assert!(!body.contains("EX-1"), "no catalog in the refusal");

    let r = s.upload_with(&staff, "nuevo.csv", b"sku,name,price\nST-1,De staff,10\n").await;
    assert_eq!(r.status, 403, "staff upload: {}", r.body);
    assert_eq!(s.imports().await, 0, "nothing stored");

    // a file the owner uploaded: staff can neither see nor apply it
    let preview = s.upload_ok("nuevo.csv", b"sku,name,price\nOW-1,Del dueno,10\n").await;
    let before = s.state().await;
    assert_eq!(s.app.get_with(&staff, &preview).await.status, 403);
    let r = s.apply_with(&staff, &preview).await;
    assert_eq!(r.status, 403, "staff apply: {}", r.body);
    assert_eq!(s.state().await, before);
    let applied = s.one_i64("select count(*) from {s}.product_imports where status = 'applied'").await;
    assert_eq!(applied, 0);
}
