//! Product images through the real app: a PNG becomes a JPEG (or a PNG when it has transparency)
//! with a ≤ 240 px thumbnail shown on the product page; other formats and damaged files are
//! refused with a message and nothing stored; bodies over 5 MiB get 413; staff may look but not
//! change; another shop gets 404 (ids are per schema); delete removes it; the row lives in the
//! shop's own schema.
mod common;

use std::io::Cursor;

use common::{Page, TestApp, PASSWORD};
use image::{DynamicImage, ImageFormat};
use tokio_postgres::Client;

const OWNER_A: &str = "duena.a@example.com";
const STAFF_A: &str = "staff.a@example.com";
const OWNER_B: &str = "dueno.b@example.com";
const BOUNDARY: &str = "----StockImageTestBoundaryX3kq9ZpL0aB";

const WRONG_TYPE: &str = "Solo se aceptan imágenes JPEG, PNG o WebP.";
const CORRUPT: &str = "No se pudo leer la imagen";

/// A 1×1 GIF.
const GIF: &[u8] =
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00\x21\xf9\x04\x01\x00\x00\x00\x00\
\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b";
const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">\
<script>alert(1)</script><rect width=\"10\" height=\"10\"/></svg>";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

struct Shops {
    app: TestApp,
    admin: Client,
    schema_a: String,
    schema_b: String,
    /// A product of shop A whose id does not exist in shop B.
    product: i64,
    /// Another product of shop A, for refusals.
    other: i64,
    /// Shop B's only product.
    product_b: i64,
}

async fn product(admin: &Client, schema: &str, sku: &str) -> i64 {
    admin
        .query_one(
            &format!(
                "insert into {schema}.products (sku, name, unit_id, price)
                 values ($1, $1, (select id from {schema}.units where code = 'u'), 10) returning id"
            ),
            &[&sku],
        )
        .await
        .unwrap_or_else(|e| panic!("product {sku}: {e}"))
        .get(0)
}

/// Shop A (owner, staff; the app's client is its owner) with five products, shop B (owner) with one.
async fn shops() -> Shops {
    let db = common::TestDb::new().await;
    let (a, schema_a) = db.create_shop("Ferretería A").await;
    let (b, schema_b) = db.create_shop("Kiosco B").await;
    db.add_member(a, OWNER_A, "owner").await;
    db.add_member(a, STAFF_A, "staff").await;
    db.add_member(b, OWNER_B, "owner").await;
    let admin = db.admin().await;
    let mut ids = Vec::new();
    for i in 1..=5 {
        ids.push(product(&admin, &schema_a, &format!("A-{i}")).await);
    }
    let product_b = product(&admin, &schema_b, "B-1").await;
    let (product, other) = (ids[3], ids[4]);
    assert!(product != product_b && other != product_b, "ids {ids:?} vs {product_b}");
    let app = common::spawn_app_on(db).await;
    let r = app.login(OWNER_A, PASSWORD).await;
    assert_eq!(r.status, 303, "owner login: {}", r.body);
    Shops { app, admin, schema_a, schema_b, product, other, product_b }
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// A gradient, so the encoders have something to do.
fn picture(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, ((x + y) % 256) as u8])
    }))
}

fn png(w: u32, h: u32) -> Vec<u8> {
    encode(&picture(w, h), ImageFormat::Png)
}

fn multipart(
    fields: &[(&str, &str)],
    file_field: &str,
    filename: &str,
    ctype: &str,
    bytes: &[u8],
) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{file_field}\"; filename=\"{filename}\"\r\n\
             content-type: {ctype}\r\n\r\n"
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
    let body = r.text().await.expect("body");
    Page { status, location, set_cookies: Vec::new(), body }
}

/// Status, content type, cache-control and bytes of a GET.
async fn fetch(http: &reqwest::Client, url: String) -> (u16, String, String, Vec<u8>) {
    let r = http.get(url).send().await.expect("GET");
    let h = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (status, ct, cc) = (r.status().as_u16(), h("content-type"), h("cache-control"));
    (status, ct, cc, r.bytes().await.expect("bytes").to_vec())
}

impl Shops {
    async fn staff(&self) -> reqwest::Client {
        let http = common::client();
        let r = self.app.login_with(&http, STAFF_A, PASSWORD).await;
        assert_eq!(r.status, 303, "staff login: {}", r.body);
        http
    }

    async fn owner_b(&self) -> reqwest::Client {
        let http = common::client();
        let r = self.app.login_with(&http, OWNER_B, PASSWORD).await;
        assert_eq!(r.status, 303, "owner B login: {}", r.body);
        http
    }

    async fn upload_with(
        &self,
        http: &reqwest::Client,
        id: i64,
        filename: &str,
        ctype: &str,
        bytes: &[u8],
    ) -> Page {
        let token = self.app.get_with(http, "/products").await.csrf();
        let body = multipart(&[("csrf", &token)], "image", filename, ctype, bytes);
        read(
            http.post(self.app.url(&format!("/products/{id}/image")))
                .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
                .body(body)
                .send()
                .await
                .expect("upload"),
        )
        .await
    }

    async fn upload(&self, id: i64, filename: &str, ctype: &str, bytes: &[u8]) -> Page {
        self.upload_with(&self.app.http, id, filename, ctype, bytes).await
    }

    async fn delete_with(&self, http: &reqwest::Client, id: i64) -> Page {
        let token = self.app.get_with(http, "/products").await.csrf();
        self.app.post_with(http, &format!("/products/{id}/image/delete"), &[("csrf", &token)]).await
    }

    async fn images_in(&self, schema: &str) -> i64 {
        self.admin
            .query_one(&format!("select count(*) from {schema}.product_images"), &[])
            .await
            .expect("count images")
            .get(0)
    }

    async fn stored(&self, id: i64) -> Option<(String, i32, i32, Vec<u8>)> {
        self.admin
            .query_opt(
                &format!(
                    "select content_type, width, height, image from {}.product_images where product_id = $1",
                    self.schema_a
                ),
                &[&id],
            )
            .await
            .expect("stored image")
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_png_is_stored_with_a_jpeg_thumbnail_shown_on_the_product_page() {
    let s = shops().await;
    let id = s.product;
    let page = s.app.get(&format!("/products/{id}")).await;
    assert!(!page.body.contains(&format!("src=\"/products/{id}/thumb\"")), "no image yet");
    assert_eq!(fetch(&s.app.http, s.app.url(&format!("/products/{id}/thumb"))).await.0, 404);

    let r = s.upload(id, "foto.png", "image/png", &png(1600, 800)).await;
    assert_eq!(r.status, 303, "upload: {}", r.body);
    assert_eq!(r.location.as_deref(), Some(format!("/products/{id}").as_str()));

    let (status, ct, cc, bytes) = fetch(&s.app.http, s.app.url(&format!("/products/{id}/thumb"))).await;
    assert_eq!(status, 200);
    assert_eq!(ct, "image/jpeg");
    assert!(cc.starts_with("private"), "cache-control {cc:?}");
    assert_eq!(image::guess_format(&bytes).ok(), Some(ImageFormat::Jpeg));
    let thumb = image::load_from_memory(&bytes).expect("thumb decodes");
    assert!(thumb.width() <= 240 && thumb.height() <= 240, "thumb {}×{}", thumb.width(), thumb.height());
    assert_eq!((thumb.width(), thumb.height()), (240, 120));

    let (status, ct, cc, bytes) = fetch(&s.app.http, s.app.url(&format!("/products/{id}/image"))).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert!(cc.starts_with("private"), "cache-control {cc:?}");
    let full = image::load_from_memory(&bytes).expect("image decodes");
    assert_eq!((full.width(), full.height()), (1200, 600), "scaled to fit 1200 px");

    let page = s.app.get(&format!("/products/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("src=\"/products/{id}/thumb\"")),
        "the <img> on the page: {}",
        page.body
    );
    assert!(page.body.contains("<img"), "{}", page.body);

    // the row is in shop A's schema, and only there
    let (ct, w, h, _) = s.stored(id).await.expect("row in the shop's schema");
    assert_eq!((ct.as_str(), w, h), ("image/jpeg", 1200, 600));
    assert_eq!(s.images_in(&s.schema_a).await, 1);
    assert_eq!(s.images_in(&s.schema_b).await, 0);
    let elsewhere: i64 = s
        .admin
        .query_one(
            "select count(*) from information_schema.tables
              where table_name = 'product_images' and table_schema not like 'tenant\\_%'",
            &[],
        )
        .await
        .expect("tables")
        .get(0);
    assert_eq!(elsewhere, 0, "no shared product_images table");

    // staff of the shop may look at it
    let staff = s.staff().await;
    let (status, ct, _, _) = fetch(&staff, s.app.url(&format!("/products/{id}/thumb"))).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));

    // replacing: a PNG with transparency stays PNG; a WebP is accepted too
    let alpha =
        DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(300, 300, image::Rgba([200, 10, 10, 100])));
    let r = s.upload(id, "logo.png", "image/png", &encode(&alpha, ImageFormat::Png)).await;
    assert_eq!(r.status, 303, "alpha upload: {}", r.body);
    let (status, ct, _, bytes) = fetch(&s.app.http, s.app.url(&format!("/products/{id}/thumb"))).await;
    assert_eq!((status, ct.as_str()), (200, "image/png"));
    let t = image::load_from_memory(&bytes).expect("png thumb");
    assert_eq!((t.width(), t.height()), (240, 240));
    assert_eq!(s.images_in(&s.schema_a).await, 1, "replaced, not added");

    let webp = encode(&picture(100, 50), ImageFormat::WebP);
    let r = s.upload(id, "foto.webp", "image/webp", &webp).await;
    assert_eq!(r.status, 303, "webp upload: {}", r.body);
    let (_, ct, _, bytes) = fetch(&s.app.http, s.app.url(&format!("/products/{id}/image"))).await;
    assert_eq!(ct, "image/jpeg");
    let i = image::load_from_memory(&bytes).expect("decodes");
    assert_eq!((i.width(), i.height()), (100, 50), "small images are not enlarged");
}

#[tokio::test]
async fn other_formats_and_damaged_images_are_refused_and_nothing_is_stored() {
    let s = shops().await;
    let id = s.other;
    let mut random: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    random[..4].copy_from_slice(b"RND!");
    let mut truncated = png(200, 200);
    truncated.truncate(truncated.len() / 3);
    let jpeg = encode(&picture(200, 200), ImageFormat::Jpeg);
    let mut truncated_jpeg = jpeg.clone();
    truncated_jpeg.truncate(40);
    let cases: &[(&str, &str, &str, &[u8], &str)] = &[
        ("gif", "anim.gif", "image/gif", GIF, WRONG_TYPE),
        ("gif named png", "foto.png", "image/png", GIF, WRONG_TYPE),
        ("svg", "logo.svg", "image/svg+xml", SVG, WRONG_TYPE),
        ("pdf", "lista.pdf", "application/pdf", PDF, WRONG_TYPE),
        ("random bytes", "foto.jpg", "image/jpeg", &random, WRONG_TYPE),
        ("truncated png", "foto.png", "image/png", &truncated, CORRUPT),
        ("truncated jpeg", "foto.jpg", "image/jpeg", &truncated_jpeg, CORRUPT),
    ];
    for (what, filename, ctype, bytes, message) in cases {
        let r = s.upload(id, filename, ctype, bytes).await;
        assert_eq!(r.status, 422, "{what}: {}", r.body);
        assert!(r.body.contains(message), "{what}: expected {message:?} in:\n{}", r.body);
        assert!(r.body.contains("name=\"image\""), "{what}: the product page with its upload form");
        assert_eq!(s.stored(id).await.map(|x| x.0), None, "{what}: nothing stored");
    }
    // an upload without a file
    let r = s.upload(id, "vacio.png", "image/png", b"").await;
    assert_eq!(r.status, 422, "empty: {}", r.body);
    assert!(r.body.contains("Elija un archivo de imagen."), "{}", r.body);
    assert_eq!(s.images_in(&s.schema_a).await, 0);

    // a refused replacement keeps the image there was
    let r = s.upload(id, "foto.jpg", "image/jpeg", &jpeg).await;
    assert_eq!(r.status, 303, "jpeg upload: {}", r.body);
    let kept = s.stored(id).await.expect("stored");
    let r = s.upload(id, "foto.gif", "image/gif", GIF).await;
    assert_eq!(r.status, 422);
    assert_eq!(s.stored(id).await, Some(kept), "the previous image is untouched");
}

#[tokio::test]
async fn a_body_over_5_mib_is_refused_with_413() {
    let s = shops().await;
    let id = s.other;
    // a PNG header followed by filler: the size is refused before anything is decoded
    let mut big = png(10, 10);
    big.resize(5 * 1024 * 1024 + 1, 0);
    let r = s.upload(id, "enorme.png", "image/png", &big).await;
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(500)]);
    assert_eq!(s.images_in(&s.schema_a).await, 0);
    // the app still answers afterwards
    let r = s.upload(id, "foto.png", "image/png", &png(20, 20)).await;
    assert_eq!(r.status, 303, "{}", r.body);
}

#[tokio::test]
async fn staff_may_view_but_not_change_images() {
    let s = shops().await;
    let id = s.product;
    let r = s.upload(id, "foto.png", "image/png", &png(50, 50)).await;
    assert_eq!(r.status, 303);
    let before = s.stored(id).await.expect("stored");

    let staff = s.staff().await;
    let r = s.upload_with(&staff, id, "otra.png", "image/png", &png(60, 60)).await;
    assert_eq!(r.status, 403, "staff upload: {}", r.body);
    let r = s.upload_with(&staff, s.other, "otra.png", "image/png", &png(60, 60)).await;
    assert_eq!(r.status, 403, "staff upload to a product without image: {}", r.body);
    let r = s.delete_with(&staff, id).await;
    assert_eq!(r.status, 403, "staff delete: {}", r.body);
    assert_eq!(s.stored(id).await, Some(before), "unchanged");
    assert_eq!(s.images_in(&s.schema_a).await, 1);
    let page = s.app.get_with(&staff, &format!("/products/{id}")).await;
    assert!(page.body.contains(&format!("src=\"/products/{id}/thumb\"")), "staff sees the image");
    assert!(!page.body.contains(&format!("action=\"/products/{id}/image\"")), "but no upload form");
}

#[tokio::test]
async fn another_shop_gets_404_for_the_image() {
    let s = shops().await;
    let id = s.product;
    let r = s.upload(id, "foto.png", "image/png", &png(50, 50)).await;
    assert_eq!(r.status, 303);
    let kept = s.stored(id).await.expect("stored");

    let b = s.owner_b().await;
    for path in [format!("/products/{id}/image"), format!("/products/{id}/thumb"), format!("/products/{id}")]
    {
        let (status, ct, _, bytes) = fetch(&b, s.app.url(&path)).await;
        assert_eq!(status, 404, "{path} from shop B");
        assert!(!ct.starts_with("image/"), "{path}: {ct}");
        assert!(image::load_from_memory(&bytes).is_err(), "{path}: no image bytes");
    }
    // B's own product (a different id) has no image either
    assert_eq!(fetch(&b, s.app.url(&format!("/products/{}/thumb", s.product_b))).await.0, 404);

    let r = s.upload_with(&b, id, "pisar.png", "image/png", &png(70, 70)).await;
    assert_eq!(r.status, 404, "B uploading to A's product id: {}", r.body);
    assert_ne!(s.delete_with(&b, id).await.status, 500);
    assert_eq!(s.stored(id).await, Some(kept), "A's image untouched");
    assert_eq!(s.images_in(&s.schema_b).await, 0, "nothing stored in B");
}

#[tokio::test]
async fn delete_removes_the_image() {
    let s = shops().await;
    let id = s.product;
    let r = s.upload(id, "foto.png", "image/png", &png(50, 50)).await;
    assert_eq!(r.status, 303);
    assert_eq!(fetch(&s.app.http, s.app.url(&format!("/products/{id}/image"))).await.0, 200);

    let r = s.delete_with(&s.app.http, id).await;
    assert_eq!(r.status, 303, "delete: {}", r.body);
    assert_eq!(r.location.as_deref(), Some(format!("/products/{id}").as_str()));
    assert_eq!(fetch(&s.app.http, s.app.url(&format!("/products/{id}/image"))).await.0, 404);
    assert_eq!(fetch(&s.app.http, s.app.url(&format!("/products/{id}/thumb"))).await.0, 404);
    assert_eq!(s.stored(id).await, None);
    let page = s.app.get(&format!("/products/{id}")).await;
    assert!(!page.body.contains(&format!("src=\"/products/{id}/thumb\"")), "no <img> any more");
}
