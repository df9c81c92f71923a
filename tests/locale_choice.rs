//! Which language a page speaks: the person's choice in this browser, then their account's, then
//! the shop's setting, then the browser's Accept-Language.
mod common;

use common::{spawn_app, PASSWORD};

fn lang(body: &str) -> &str {
    let i = body.find("<html lang=\"").expect("html lang") + "<html lang=\"".len();
    &body[i..i + 2]
}

#[tokio::test]
async fn the_shop_setting_comes_after_the_person_and_before_the_browser() {
    let app = spawn_app().await;
    let (shop, _) = app.db.create_shop("Kiosco Idiomas").await;
    let owner = app.db.add_member(shop, "owner-lang@example.com", "owner").await;
    app.db.add_member(shop, "staff-lang@example.com", "staff").await;

    // a browser that asks for Spanish
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(
            [(reqwest::header::ACCEPT_LANGUAGE, reqwest::header::HeaderValue::from_static("es-AR,es;q=0.9"))]
                .into_iter()
                .collect(),
        )
        .build()
        .expect("client");
    let r = app.login_with(&http, "staff-lang@example.com", PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(lang(&app.get_with(&http, "/dashboard").await.body), "es");

    // the owner switches the shop to English: through the shop's settings row, as the owner role
    let mut admin = app.db.admin().await;
    let tx = admin.transaction().await.expect("tx");
    common::set_ctx(&tx, Some(shop), Some(owner), &format!("{}_shop_owner", common::PREFIX)).await;
    tx.execute("update settings set locale = 'en'", &[]).await.expect("update settings");
    tx.commit().await.expect("commit");
    let copied: String = admin
        .query_one("select locale from app.tenants where id = $1", &[&shop])
        .await
        .expect("tenant locale")
        .get(0);
    assert_eq!(copied, "en", "the trigger copies the shop's language for the session statement");

    // the shop's setting beats the browser's Accept-Language
    let page = app.get_with(&http, "/dashboard").await;
    assert_eq!(lang(&page.body), "en", "{}", page.body);

    // the person's own choice beats the shop's
    let r = app.get_with(&http, "/lang/es").await;
    assert!(r.status == 303 || r.status == 302, "{}", r.status);
    assert_eq!(lang(&app.get_with(&http, "/dashboard").await.body), "es");
}
