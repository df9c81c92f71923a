//! Test harness: each test gets its own database cloned from a migrated template (built once per
//! migration set, under an advisory lock so parallel test binaries do not race), and can start the
//! real app on port 0 and talk to it with a real HTTP client.
#![allow(dead_code)]

pub mod smtp;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use stock::config::{Config, Secret};
use stock::db::roles::RoleNames;
use tokio_postgres::{Client, NoTls};

pub const PREFIX: &str = "stock_test";
pub const PASSWORD: &str = "correct-horse-battery";

pub fn admin_url() -> String {
    std::env::var("STOCK_TEST_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn url_for(db: &str) -> String {
    let mut u = url::Url::parse(&admin_url()).expect("STOCK_TEST_ADMIN_URL is a URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

pub fn roles() -> RoleNames {
    RoleNames::new(PREFIX).expect("prefix")
}

pub async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap_or_else(|e| panic!("connect: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

fn template_name() -> String {
    let mut all = String::from(PREFIX);
    for entry in ["sql/app", "sql/tenant", "policies", "policies/tenant"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(entry);
        let mut files: Vec<_> =
            std::fs::read_dir(&dir).expect("read dir").flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files.iter().filter(|f| f.is_file()) {
            all.push_str(&std::fs::read_to_string(f).expect("read sql"));
        }
    }
    format!("stock_tpl_{}", &stock::db::migrate::checksum(&all)[..16])
}

static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let admin = connect(&admin_url()).await;
            admin.execute("select pg_advisory_lock(727274)", &[]).await.expect("lock");
            let exists = admin
                .query_opt("select 1 from pg_database where datname = $1", &[&name])
                .await
                .expect("query")
                .is_some();
            if !exists {
                let build = format!("{name}_build");
                admin
                    .batch_execute(&format!("drop database if exists {build} with (force)"))
                    .await
                    .expect("drop build");
                admin.batch_execute(&format!("create database {build}")).await.expect("create build");
                let mut cfg = config_for(&build);
                cfg.migrate_parallelism = 2;
                let report = stock::db::migrate::migrate(&cfg).await.expect("migrate template");
                assert!(report.tenants_failed.is_empty());
                // connections of the migration may still be closing
                for _ in 0..50 {
                    admin
                        .execute(
                            "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1",
                            &[&build],
                        )
                        .await
                        .expect("terminate");
                    if admin.batch_execute(&format!("alter database {build} rename to {name}")).await.is_ok()
                    {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            admin.execute("select pg_advisory_unlock(727274)", &[]).await.expect("unlock");
            name
        })
        .await
        .clone()
}

pub fn config_for(db: &str) -> Config {
    Config {
        database_url: Secret::new(url_for(db)),
        role_prefix: PREFIX.into(),
        secret_key: Secret::new("test-secret-key-0123456789-abcdefghijklmnop"),
        pool_size: 4,
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database of this test's own, dropped when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub config: Config,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let tpl = template().await;
        let name = format!(
            "stock_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            rand::random::<u32>()
        );
        let admin = connect(&admin_url()).await;
        admin.batch_execute(&format!("create database {name} template {tpl}")).await.expect("create test db");
        let db = TestDb { config: config_for(&name), name };
        stock::db::migrate::grant_database(&db.admin().await, &roles()).await.expect("grant database");
        db
    }

    pub fn url(&self) -> String {
        url_for(&self.name)
    }

    /// A superuser connection to this database.
    pub async fn admin(&self) -> Client {
        connect(&self.url()).await
    }

    /// A connection as the web app's login role, exactly as the app's pool connects.
    pub async fn app_login(&self) -> Client {
        let cfg = stock::db::app_pg_config(&self.config, &roles()).expect("app config");
        let (client, conn) = cfg.connect(NoTls).await.expect("connect as app login");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client
    }

    /// Creates a shop through the same provisioning path as sign-up; returns (id, schema).
    pub async fn create_shop(&self, name: &str) -> (i64, String) {
        let admin = self.admin().await;
        let id: i64 = admin
            .query_one("select app_private.create_tenant($1, app_private.unique_slug('shop'))", &[&name])
            .await
            .expect("create shop")
            .get(0);
        (id, format!("tenant_{id}"))
    }

    /// Adds a person (password `PASSWORD`) with a role; returns the user id.
    pub async fn add_member(&self, tenant_id: i64, email: &str, role: &str) -> i64 {
        let pw = stock::domain::auth::Password::new_password(PASSWORD).expect("pw");
        let hash = stock::domain::auth::hash_password(&pw).await.expect("hash");
        let admin = self.admin().await;
        admin
            .query_one(
                "select app_private.add_member($1, $2, $3, $4, $5)",
                &[&tenant_id, &email, &email, &hash, &role],
            )
            .await
            .expect("add member")
            .get(0)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok((c, conn)) = tokio_postgres::connect(&admin_url(), NoTls).await {
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    let _ = c.batch_execute(&format!("drop database if exists {name} with (force)")).await;
                }
            });
        })
        .join();
    }
}

/// Sets a request context in the current transaction exactly as the app does (one statement).
pub async fn set_ctx(
    c: &impl tokio_postgres::GenericClient,
    tenant_id: Option<i64>,
    user_id: Option<i64>,
    role: &str,
) {
    let schema = tenant_id.map(|t| format!("tenant_{t}, app")).unwrap_or_else(|| "app".into());
    c.query_one(
        "select set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true),
                set_config('role', $3, true), set_config('search_path', $4, true)",
        &[
            &tenant_id.map(|t| t.to_string()).unwrap_or_default(),
            &user_id.map(|u| u.to_string()).unwrap_or_default(),
            &role,
            &schema,
        ],
    )
    .await
    .expect("set context");
}

/// The real app on a free port, with a cookie-keeping HTTP client that does not follow redirects.
pub struct TestApp {
    pub db: TestDb,
    pub base: String,
    pub http: reqwest::Client,
    /// The server's own state when it runs in this process (for what no page shows, such as
    /// `shop_hints`); `None` for a spawned binary (tests/binapp).
    pub app: Option<stock::http::App>,
}

pub async fn spawn_app() -> TestApp {
    let db = TestDb::new().await;
    spawn_app_on(db).await
}

pub async fn spawn_app_on(db: TestDb) -> TestApp {
    let app = stock::http::App::new(db.config.clone()).expect("app");
    let (addr, server) =
        stock::http::bind(app.clone(), db.config.listen, std::future::pending()).await.expect("bind");
    tokio::spawn(server);
    TestApp { db, base: format!("http://{addr}"), http: client(), app: Some(app) }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Page {
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let i = self.body.find(marker).unwrap_or_else(|| panic!("no csrf field in page:\n{}", self.body));
        let rest = &self.body[i + marker.len()..];
        rest[..rest.find('"').expect("end quote")].to_string()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get_with(&self, http: &reqwest::Client, path: &str) -> Page {
        read(http.get(self.url(path)).send().await.expect("GET")).await
    }

    pub async fn get(&self, path: &str) -> Page {
        self.get_with(&self.http, path).await
    }

    pub async fn post_with(&self, http: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> Page {
        read(http.post(self.url(path)).form(form).send().await.expect("POST")).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(&self.http, path, form).await
    }

    /// Fetches `form_page` for a CSRF token, then posts `form` (token added) to `action`.
    pub async fn submit_with(
        &self,
        http: &reqwest::Client,
        form_page: &str,
        action: &str,
        form: &[(&str, &str)],
    ) -> Page {
        let token = self.get_with(http, form_page).await.csrf();
        let mut fields: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        fields.extend_from_slice(form);
        self.post_with(http, action, &fields).await
    }

    pub async fn submit(&self, form_page: &str, action: &str, form: &[(&str, &str)]) -> Page {
        self.submit_with(&self.http, form_page, action, form).await
    }

    pub async fn login_with(&self, http: &reqwest::Client, email: &str, password: &str) -> Page {
        self.submit_with(http, "/login", "/login", &[("email", email), ("password", password)]).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Page {
        self.login_with(&self.http, email, password).await
    }

    pub async fn signup_with(&self, http: &reqwest::Client, shop: &str, email: &str) -> Page {
        self.submit_with(
            http,
            "/signup",
            "/signup",
            &[
                ("shop_name", shop),
                ("display_name", "Test Person"),
                ("email", email),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await
    }
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

/// A live session of `user` in `tenant` made as the superuser; returns the token's hash (what the
/// cookie's token resolves to).
#[allow(dead_code)]
pub async fn session_hash(admin: &Client, user: i64, tenant: i64) -> Vec<u8> {
    use sha2::Digest;
    let token: [u8; 32] = rand::random();
    let hash = sha2::Sha256::digest(token).to_vec();
    admin
        .execute(
            "select app_private.create_session($1, $2, $3, interval '1 hour', null, null)",
            &[&user, &tenant, &hash],
        )
        .await
        .expect("create session");
    hash
}
