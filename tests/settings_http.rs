//! The settings page through the real app: only the owner opens and saves it; a valid form
//! saves every field and the change is audited; an unknown time zone, a currency that is not
//! three letters, a too-long receipt header, bad quote days or a forged language get a message
//! next to the field and write nothing; the form needs its CSRF token.
mod common;

use common::{Page, TestApp, PASSWORD};
use tokio_postgres::Client;

const OWNER: &str = "duena@example.com";
const ADMIN: &str = "admin@example.com";
const STAFF: &str = "sol@example.com";

struct Shop {
    app: TestApp,
    admin: Client,
    tenant: i64,
    other: i64,
}

async fn shop() -> Shop {
    let db = common::TestDb::new().await;
    let (tenant, _) = db.create_shop("Kiosco Central").await;
    let (other, _) = db.create_shop("Kiosco Vecino").await;
    db.add_member(tenant, OWNER, "owner").await;
    db.add_member(tenant, ADMIN, "admin").await;
    db.add_member(tenant, STAFF, "staff").await;
    db.add_member(other, "vecino@example.com", "owner").await;
    let admin = db.admin().await;
    let app = common::spawn_app_on(db).await;
    let r = app.login(OWNER, PASSWORD).await;
    assert_eq!(r.status, 303, "owner login: {}", r.body);
    Shop { app, admin, tenant, other }
}

/// (name, currency, time zone, locale, negative stock, header, footer, quote days)
type Stored = (String, String, String, String, bool, String, String, i32);

impl Shop {
    async fn stored(&self, tenant: i64) -> Stored {
        let r = self
            .admin
            .query_one(
                &format!(
                    "select t.name, s.currency, s.time_zone, s.locale, s.allow_negative_stock,
                            s.receipt_header, s.receipt_footer, s.quote_validity_days
                       from tenant_{tenant}.settings s cross join app.tenants t where t.id = $1"
                ),
                &[&tenant],
            )
            .await
            .expect("settings");
        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7))
    }

    async fn audit_rows(&self) -> i64 {
        self.admin
            .query_one(
                &format!("select count(*) from tenant_{}.audit_log where action <> 'sign_in'", self.tenant),
                &[],
            )
            .await
            .expect("audit")
            .get(0)
    }

    async fn save(&self, overrides: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = vec![
            ("name", "Kiosco Central"),
            ("currency", "ARS"),
            ("time_zone", "America/Argentina/Buenos_Aires"),
            ("locale", "es"),
            ("receipt_header", ""),
            ("receipt_footer", ""),
            ("quote_validity_days", "15"),
        ];
        for (k, v) in overrides {
            form.retain(|(f, _)| f != k);
            form.push((k, v));
        }
        self.app.submit("/settings", "/settings", &form).await
    }
}

#[tokio::test]
async fn the_owner_saves_every_setting_and_the_change_is_audited() {
    let s = shop().await;
    let page = s.app.get("/settings").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("value=\"Kiosco Central\""));
    assert!(page.body.contains("<option value=\"Europe/Madrid\""), "time zones come from a list");

    let r = s
        .save(&[
            ("name", "  Kiosco Central II "),
            ("currency", "usd"),
            ("time_zone", "Europe/Madrid"),
            ("locale", "en"),
            ("allow_negative_stock", "on"),
            ("receipt_header", "¡Gracias!\r\nCUIT 20-1"),
            ("receipt_footer", "Vuelva pronto"),
            ("quote_validity_days", "30"),
        ])
        .await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/settings")), "{}", r.body);
    assert_eq!(
        s.stored(s.tenant).await,
        (
            "Kiosco Central II".into(),
            "USD".into(),
            "Europe/Madrid".into(),
            "en".into(),
            true,
            "¡Gracias!\nCUIT 20-1".into(),
            "Vuelva pronto".into(),
            30
        )
    );
    // one row for the name (app.tenants), one for the settings row
    assert_eq!(s.audit_rows().await, 2);
    // saving the same values again writes nothing and audits nothing
    let r = s
        .save(&[
            ("name", "Kiosco Central II"),
            ("currency", "USD"),
            ("time_zone", "Europe/Madrid"),
            ("locale", "en"),
            ("allow_negative_stock", "on"),
            ("receipt_header", "¡Gracias!\nCUIT 20-1"),
            ("receipt_footer", "Vuelva pronto"),
            ("quote_validity_days", "30"),
        ])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(s.audit_rows().await, 2);
    // an unticked box turns negative stock off
    assert_eq!(s.save(&[]).await.status, 303);
    assert!(!s.stored(s.tenant).await.4);
    assert_eq!(s.stored(s.other).await.0, "Kiosco Vecino", "the other shop is untouched");
}

#[tokio::test]
async fn bad_input_gets_a_message_and_writes_nothing() {
    let s = shop().await;
    let before = s.stored(s.tenant).await;
    let long = "x".repeat(501);
    let cases: Vec<(&str, &str, &str)> = vec![
        ("time_zone", "Mars/Olympus", "Elija una zona horaria de la lista."),
        ("time_zone", "posix/Europe/Madrid", "Elija una zona horaria de la lista."),
        ("time_zone", "", "Elija una zona horaria de la lista."),
        ("currency", "US", "Ingrese un código de moneda de 3 letras"),
        ("currency", "DOLAR", "Ingrese un código de moneda de 3 letras"),
        ("currency", "U$D", "Ingrese un código de moneda de 3 letras"),
        ("receipt_header", &long, "Como máximo 500 caracteres."),
        ("receipt_footer", &long, "Como máximo 500 caracteres."),
        ("quote_validity_days", "0", "Un número entero de días, de 1 a 365."),
        ("quote_validity_days", "1,5", "Un número entero de días, de 1 a 365."),
        ("locale", "fr", "Elija una de las opciones."),
        ("name", "   ", "Este campo es obligatorio."),
    ];
    for (field, value, message) in cases {
        // every other field changes too: none of it may be written
        let r = s.save(&[("currency", "EUR"), ("quote_validity_days", "20"), (field, value)]).await;
        assert_eq!(r.status, 422, "{field}={value:?}: {}", r.body);
        assert!(r.body.contains(message), "{field}={value:?}: no message {message:?}");
        assert!(r.body.contains(&format!("id=\"f-{field}\"")), "{field}: the field is shown again");
        assert_eq!(s.stored(s.tenant).await, before, "{field}={value:?} wrote something");
    }
    assert_eq!(s.audit_rows().await, 0);
}

#[tokio::test]
async fn only_the_owner_opens_or_saves_settings_and_the_form_needs_its_token() {
    let s = shop().await;
    let before = s.stored(s.tenant).await;
    for email in [ADMIN, STAFF] {
        let http = common::client();
        assert_eq!(s.app.login_with(&http, email, PASSWORD).await.status, 303);
        assert_eq!(s.app.get_with(&http, "/settings").await.status, 403, "{email}");
        let token = s.app.get_with(&http, "/dashboard").await.csrf();
        let r = s
            .app
            .post_with(
                &http,
                "/settings",
                &[
                    ("csrf", token.as_str()),
                    ("name", "Tomado"),
                    ("currency", "EUR"),
                    ("time_zone", "UTC"),
                    ("locale", "es"),
                    ("quote_validity_days", "15"),
                ],
            )
            .await;
        assert_eq!(r.status, 403, "{email}");
    }
    // the owner without a token, or with a wrong one
    let form = [("name", "Tomado"), ("currency", "EUR"), ("time_zone", "UTC"), ("locale", "es")];
    assert_eq!(s.app.post("/settings", &form).await.status, 403);
    let mut forged = vec![("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")];
    forged.extend(form);
    assert_eq!(s.app.post("/settings", &forged).await.status, 403);
    assert_eq!(s.stored(s.tenant).await, before);
    assert_eq!(s.audit_rows().await, 0);
}
