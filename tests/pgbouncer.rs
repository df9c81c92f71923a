//! The app behind PgBouncer in transaction pool mode: a pgbouncer process of this test's own on a
//! free loopback port, fewer server connections than app connections (so every server connection
//! serves many clients in turn), many concurrent logins and page loads for two shops. Each page
//! shows only its own shop's data, every session stays valid, and a probe client that shares the
//! server connections never sees a tenant, user, role or search_path left behind by a request.
//!
//! PgBouncer before 1.21 (Debian 12 ships 1.18) cannot carry named prepared statements across
//! transactions, so the app runs with STOCK_DB_UNNAMED_STATEMENTS; from 1.21 on the test
//! enables `max_prepared_statements` and keeps the default cached statements instead.
mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{TestDb, PASSWORD};
use stock::config::Secret;

/// The installed pgbouncer's (major, minor) version.
fn pgbouncer_version() -> (u32, u32) {
    let out = Command::new("pgbouncer")
        .arg("--version")
        .output()
        .expect("pgbouncer is not installed (scripts/test.sh installs Debian's package pgbouncer)");
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text.split_whitespace().nth(1).unwrap_or_else(|| panic!("version of: {text}"));
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn supports_prepared_statements() -> bool {
    pgbouncer_version() >= (1, 21)
}

struct Bouncer {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// Starts pgbouncer in transaction mode in front of the test database, `server_conns` server
/// connections at most.
async fn start_bouncer(db: &TestDb, login: &str, server_conns: u32) -> Bouncer {
    let admin = url::Url::parse(&common::admin_url()).expect("admin url");
    let (pg_host, pg_port) =
        (admin.host_str().unwrap_or("127.0.0.1").to_string(), admin.port().unwrap_or(5432));
    let port = free_port();
    let dir = std::env::temp_dir().join(format!(
        "stock-pgbouncer-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let prepared = if supports_prepared_statements() { "max_prepared_statements = 200\n" } else { "" };
    let ini = format!(
        "[databases]\n{db} = host={pg_host} port={pg_port} dbname={db}\n\n\
         [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
         auth_type = trust\nauth_file = {auth}\npool_mode = transaction\n\
         default_pool_size = {server_conns}\nmin_pool_size = 0\nreserve_pool_size = 0\n\
         max_client_conn = 200\nserver_reset_query =\nignore_startup_parameters = extra_float_digits\n\
         log_connections = 0\nlog_disconnections = 0\n{prepared}",
        db = db.name,
        auth = dir.join("userlist.txt").display(),
    );
    std::fs::write(dir.join("pgbouncer.ini"), ini).expect("write ini");
    std::fs::write(dir.join("userlist.txt"), format!("\"{login}\" \"\"\n\"postgres\" \"\"\n"))
        .expect("userlist");
    let mut cmd = Command::new("pgbouncer");
    // pgbouncer refuses to run as root: it switches to the postgres user itself
    if is_root() {
        cmd.args(["-u", "postgres"]);
        let _ = Command::new("chmod").args(["755", &dir.display().to_string()]).status();
    }
    cmd.arg(dir.join("pgbouncer.ini")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start pgbouncer");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Bouncer { child, port, dir };
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("pgbouncer exited ({status}): {err}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("pgbouncer does not listen on {port}");
}

async fn product(admin: &tokio_postgres::Client, schema: &str, name: &str) {
    admin
        .execute(
            &format!(
                "insert into {schema}.products (sku, name, unit_id, price)
                 values ('SKU-1', $1, (select id from {schema}.units where code = 'u'), 10)"
            ),
            &[&name],
        )
        .await
        .unwrap_or_else(|e| panic!("product {name}: {e}"));
}

#[tokio::test]
async fn isolation_and_sessions_hold_behind_pgbouncer_in_transaction_mode() {
    let mut db = TestDb::new().await;
    let (a, schema_a) = db.create_shop("Bouncer A").await;
    let (b, schema_b) = db.create_shop("Bouncer B").await;
    db.add_member(a, "a@example.com", "owner").await;
    db.add_member(b, "b@example.com", "staff").await;
    let admin = db.admin().await;
    product(&admin, &schema_a, "Tornillo-del-A").await;
    product(&admin, &schema_b, "Clavo-del-B").await;

    let login = common::roles().app;
    let bouncer = start_bouncer(&db, &login, 2).await;
    let via_bouncer = format!("postgres://{login}@127.0.0.1:{}/{}", bouncer.port, db.name);
    db.config.app_database_url = Some(Secret::new(via_bouncer.clone()));
    db.config.pool_size = 8;
    db.config.unnamed_statements = !supports_prepared_statements();
    let app = common::spawn_app_on(db).await;

    // a probe on the same server connections, as the app's own login role
    let probe = common::connect(&via_bouncer).await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let probe_task = tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let rows = probe
                .simple_query(
                    "select coalesce(current_setting('app.tenant_id', true), ''),
                            coalesce(current_setting('app.user_id', true), ''),
                            current_user, current_setting('search_path')",
                )
                .await
                .expect("probe query");
            for row in rows {
                if let tokio_postgres::SimpleQueryMessage::Row(r) = row {
                    let got: Vec<String> = (0..4).map(|i| r.get(i).unwrap_or_default().to_string()).collect();
                    assert_eq!(got[0], "", "a tenant leaked to another client: {got:?}");
                    assert_eq!(got[1], "", "a user leaked to another client: {got:?}");
                    assert_eq!(got[2], login, "a role leaked to another client: {got:?}");
                    assert!(!got[3].contains("tenant_"), "a search_path leaked: {got:?}");
                    seen += 1;
                }
            }
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });

    // four browsers per shop log in at once, then each loads pages concurrently
    let app = std::sync::Arc::new(app);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (email, mine, theirs) = if i % 2 == 0 {
            ("a@example.com", "Tornillo-del-A", "Clavo-del-B")
        } else {
            ("b@example.com", "Clavo-del-B", "Tornillo-del-A")
        };
        let app = app.clone();
        tasks.spawn(async move {
            let http = common::client();
            let r = app.login_with(&http, email, PASSWORD).await;
            assert_eq!(r.status, 303, "login of {email}: {}", r.body);
            // the dashboard (its product is out of stock, so it is in the low-stock list) and the
            // counter run statements the app caches per connection: behind a pooler without
            // prepared-statement support they must still work
            for _ in 0..15 {
                for path in ["/products", "/dashboard"] {
                    let page = app.get_with(&http, path).await;
                    assert_eq!(
                        page.status, 200,
                        "{email} lost the session or failed on {path}: {}",
                        page.body
                    );
                    assert!(page.body.contains(mine), "{email} does not see its own product on {path}");
                    assert!(!page.body.contains(theirs), "{email} sees the other shop's product on {path}");
                }
                let page = app.get_with(&http, "/pos").await;
                assert_eq!(page.status, 200, "{email} failed on /pos: {}", page.body);
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("browser task");
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let probes = probe_task.await.expect("probe");
    assert!(probes > 10, "the probe ran only {probes} times");
    drop(app);
    drop(bouncer);
}
