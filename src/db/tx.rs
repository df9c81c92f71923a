//! One transaction per request. `tenant_tx` resolves the session cookie and, in the same single
//! statement, sets user, tenant, role and search_path with `set_config(…, true)`: the settings are
//! transaction-local, so they vanish at COMMIT or ROLLBACK and never reach the connection's next
//! user. GET requests run READ ONLY. Handlers get a `Tx`, never a raw client.
//!
//! `Tx` is our own transaction type rather than `deadpool_postgres::Transaction` so that a request
//! pays as few round trips as the protocol allows (issue 8): `BEGIN` is sent in the same flush as
//! the session statement (pipelined: PostgreSQL runs them in order, the session statement inside
//! the transaction), and a READ ONLY transaction's `COMMIT` is sent without waiting for its answer
//! (the connection runs it before anything its next user sends; a read-only transaction has
//! nothing to lose). A read-write `COMMIT` is always awaited: deferred checks run there, and
//! nothing is reported done before it is durable. A page of one statement can send that statement
//! in the same flush too (`Conn::tenant_tx_then`, GET /dashboard): one round trip per request.

use std::ops::Deref;

use deadpool_postgres::{ClientWrapper, Object};
use futures_util::future::join3;
use futures_util::FutureExt;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::roles::RoleNames;
use super::{AppPools, DbError};
use crate::domain::member::Role;

/// An open transaction on a pooled connection. It derefs to the connection's client (queries and
/// `prepare_cached`); `commit` ends it, and dropping it without `commit` rolls it back (the
/// ROLLBACK is queued on the connection at once, before the connection can go back to the pool).
pub struct Tx<'a> {
    client: &'a ClientWrapper,
    read_only: bool,
    done: bool,
}

impl<'a> Tx<'a> {
    /// `BEGIN` (READ ONLY or READ WRITE) on `client`, awaited: one round trip.
    pub async fn begin(
        client: &'a mut ClientWrapper,
        access: Access,
    ) -> Result<Tx<'a>, tokio_postgres::Error> {
        let mut tx = Tx::sent(client, access);
        if let Err(e) = tx.client.batch_execute(begin_sql(access)).await {
            tx.done = true; // no transaction to roll back
            return Err(e);
        }
        Ok(tx)
    }

    /// A transaction whose `BEGIN` the caller sends in the same flush as its first statement.
    /// The exclusive borrow keeps anyone else off the connection for the transaction's life.
    fn sent(client: &'a mut ClientWrapper, access: Access) -> Tx<'a> {
        Tx { client, read_only: access == Access::ReadOnly, done: false }
    }

    /// Commits. A READ ONLY transaction's COMMIT is queued on the connection without waiting for
    /// its answer; a read-write one is awaited, so its errors (deferred checks) reach the caller.
    pub async fn commit(mut self) -> Result<(), tokio_postgres::Error> {
        self.done = true;
        if self.read_only {
            send_without_waiting(self.client, "COMMIT");
            return Ok(());
        }
        self.client.batch_execute("COMMIT").await
    }

    /// Rolls back and waits for it.
    pub async fn rollback(mut self) -> Result<(), tokio_postgres::Error> {
        self.done = true;
        self.client.batch_execute("ROLLBACK").await
    }
}

impl Deref for Tx<'_> {
    type Target = ClientWrapper;

    fn deref(&self) -> &ClientWrapper {
        self.client
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            send_without_waiting(self.client, "ROLLBACK");
        }
    }
}

fn begin_sql(access: Access) -> &'static str {
    match access {
        Access::ReadOnly => "START TRANSACTION READ ONLY",
        Access::ReadWrite => "START TRANSACTION READ WRITE",
    }
}

/// Queues `sql` on the connection and does not wait for the answer. tokio-postgres hands a
/// request to the connection task on the future's first poll; the answer of a dropped future is
/// read and discarded by the connection task, and requests run in the order they were queued.
fn send_without_waiting(client: &ClientWrapper, sql: &str) {
    let _ = client.batch_execute(sql).now_or_never();
}

/// A pooled connection that can only open request transactions. It is taken from the pools
/// when the first transaction begins, from the shard the session picks (`AppPools`). The flag
/// selects unnamed statements for the context statements (PgBouncer < 1.21 in transaction mode,
/// where a named statement cached on one server connection is missing on the next).
pub struct Conn {
    pools: AppPools,
    obj: Option<Object>,
    unnamed: bool,
}

/// Who is asking: the signed-in person and, when they have one, the shop in context.
#[derive(Clone, Debug)]
pub struct SessionCtx {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub user_locale: Option<String>,
    pub shop: Option<ShopCtx>,
}

impl SessionCtx {
    /// The shop in context, if any (always there after `Req::shop_tx`).
    pub fn tenant_id(&self) -> Option<i64> {
        self.shop.as_ref().map(|s| s.tenant_id)
    }
}

#[derive(Clone, Debug)]
pub struct ShopCtx {
    pub tenant_id: i64,
    pub name: String,
    pub slug: String,
    /// Checked by the database (`tenant_<id>`), never user text.
    pub schema: String,
    pub role: Role,
    pub active: bool,
    /// The shop's language setting (`es` or `en`).
    pub locale: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

const RESOLVE_AND_SET: &str = "\
select s.user_id, s.email, s.display_name, s.user_locale, s.tenant_id, s.tenant_name, s.tenant_slug,
       s.schema_name, s.tenant_status, s.member_role, s.shop_locale,
       set_config('app.user_id', s.user_id::text, true),
       set_config('app.tenant_id', case when s.tenant_status = 'active' then s.tenant_id::text else '' end, true),
       set_config('search_path', case when s.tenant_status = 'active'
                                      then quote_ident(s.schema_name) || ', app' else 'app' end, true),
       set_config('role', s.db_role, true)
  from app_private.resolve_session($1) s";

/// The statement text a shop's cached statement is prepared under: `sql` behind a comment naming
/// the shop (its numeric id, never user text).
pub fn shop_statement_text(tenant_id: i64, sql: &str) -> String {
    format!("/* shop {tenant_id} */ {sql}")
}

/// Prepares `sql` for the shop in context and caches it on the connection under a text of that
/// shop's own. A prepared statement remembers the `search_path` it was planned under, and the
/// session statement points `search_path` at the shop's schema, so one text shared by every shop
/// is parsed, rewritten (every table's policies) and planned again whenever the connection
/// serves another shop than the last. With one text per shop each keeps its plan
/// (docs/SCALING.md §3.1). Correctness never depends on the text: PostgreSQL re-plans a
/// statement run under another `search_path`, and the policies still decide what it reads. The
/// pool bounds the cache (`STOCK_DB_STATEMENT_CACHE_MAX`) and the connection's lifetime.
pub async fn prepare_for_shop(
    tx: &Tx<'_>,
    tenant_id: i64,
    sql: &str,
) -> Result<tokio_postgres::Statement, tokio_postgres::Error> {
    tx.prepare_cached(&shop_statement_text(tenant_id, sql)).await
}

/// A connection to be taken from `pools` when needed; `unnamed_statements` as in
/// `Config::unnamed_statements`.
pub fn conn(pools: &AppPools, unnamed_statements: bool) -> Conn {
    Conn { pools: pools.clone(), obj: None, unnamed: unnamed_statements }
}

impl Conn {
    /// The pooled connection, taken on first use from the shard `key` (a session's token hash)
    /// picks.
    async fn object(&mut self, key: Option<&[u8]>) -> Result<&mut Object, DbError> {
        if self.obj.is_none() {
            let o = self.pools.shard(key).get().await.map_err(|e| DbError::Pool(e.to_string()))?;
            self.obj = Some(o);
        }
        self.obj.as_mut().ok_or_else(|| DbError::Pool("no connection".into()))
    }

    /// Opens the request's transaction and runs its first statement, `sql` (the session
    /// statement), in one round trip: BEGIN and the statement go out in the same flush and
    /// PostgreSQL runs them in that order. Only the first use of `sql` on a connection costs a
    /// round trip more, to prepare it.
    async fn open(
        &mut self,
        access: Access,
        key: Option<&[u8]>,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<(Tx<'_>, Option<Row>), DbError> {
        let (tx, row, _) = self.open_with(access, key, sql, params, None).await?;
        Ok((tx, row))
    }

    /// `open`, and `then` (when given, and when statements are named) in the same flush, right
    /// after the first statement and in the same transaction. `then`'s statement is the shop's
    /// own cached statement (`prepare_for_shop`); when this connection has not prepared it yet,
    /// its Parse goes out in that flush instead, after the first statement has set the context,
    /// and the statement itself follows one round trip later. Its outcome is returned apart: an
    /// error there has aborted the transaction, but the first statement's row is still good.
    async fn open_with(
        &mut self,
        access: Access,
        key: Option<&[u8]>,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
        then: Option<&ShopStatement<'_>>,
    ) -> Result<(Tx<'_>, Option<Row>, ThenRows), DbError> {
        let unnamed = self.unnamed;
        let client: &mut ClientWrapper = self.object(key).await?;
        if unnamed {
            // Behind a transaction-mode pooler that does not track prepared statements, a named
            // statement exists only on the server connection of the transaction that prepared it.
            // So every transaction starts with an empty statement cache (the handles are dropped;
            // their Close goes wherever the pooler sends it, and closing an unknown name is no
            // error), and with `deallocate all` on its own server connection, which drops what
            // earlier transactions of any client (of any replica, whose names may collide) left
            // there. Statements cached during the request are then prepared within it.
            client.statement_cache.clear();
            let tx = Tx::begin(client, access).await?;
            tx.batch_execute("deallocate all").await?;
            let row = tx.query_typed_opt(sql, params).await?;
            return Ok((tx, row, None));
        }
        let stmt = client.prepare_cached(sql).await?;
        let tx = Tx::sent(client, access);
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
        // `join3` polls the BEGIN first, then the first statement, then `then` (each request is
        // queued on the connection at its first poll); a cached statement's `prepare_cached` is
        // ready at once, so its Bind and Execute are queued in the same poll
        let then_rows = async {
            match then {
                Some(t) => {
                    let st = prepare_for_shop(&tx, t.tenant_id, t.sql).await?;
                    tx.query(&st, t.params).await.map(Some)
                }
                None => Ok(None),
            }
        };
        let (began, row, rows) =
            join3(tx.batch_execute(begin_sql(access)), tx.query_opt(&stmt, &values), then_rows).await;
        began?;
        let row = row?;
        Ok((tx, row, rows.transpose()))
    }

    /// A signed-in request: `None` when the cookie names no live session (the transaction is
    /// then rolled back and nothing was set).
    pub async fn tenant_tx(
        &mut self,
        token_hash: &[u8],
        access: Access,
    ) -> Result<Option<(Tx<'_>, SessionCtx)>, DbError> {
        let (tx, row) =
            self.open(access, Some(token_hash), RESOLVE_AND_SET, &[(&token_hash, Type::BYTEA)]).await?;
        Ok(row.map(|row| session_ctx(&row)).transpose()?.map(|ctx| (tx, ctx)))
    }

    /// `tenant_tx` that also runs `then`, a statement of the shop the caller expects this session
    /// to be in, in the same flush (one round trip instead of two for a page of one statement).
    /// The rows are only the caller's to use after it has checked that the session is in that
    /// shop with a role that may run it: the statement ran in the session's own context (user,
    /// shop, role, search_path), so a wrong guess reads nothing the session may not read, but it
    /// may be another statement than the page needs. `None` for the rows when they were not
    /// asked for in the same flush (statements behind a pooler that does not keep them) or the
    /// session is gone; an error when the statement failed, which has aborted the transaction.
    pub async fn tenant_tx_then(
        &mut self,
        token_hash: &[u8],
        access: Access,
        then: &ShopStatement<'_>,
    ) -> Result<Option<(Tx<'_>, SessionCtx, ThenRows)>, DbError> {
        let (tx, row, rows) = self
            .open_with(access, Some(token_hash), RESOLVE_AND_SET, &[(&token_hash, Type::BYTEA)], Some(then))
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some((tx, session_ctx(&row)?, rows)))
    }

    /// A signed-out request (login, sign-up): runs as the anonymous role, which can only call the
    /// narrow functions granted to it.
    pub async fn anon_tx(&mut self, roles: &RoleNames, access: Access) -> Result<Tx<'_>, DbError> {
        const SET_ROLE: &str = "select set_config('role', $1, true)";
        let (tx, _) = self.open(access, None, SET_ROLE, &[(&roles.anon, Type::TEXT)]).await?;
        Ok(tx)
    }

    /// Liveness of the database and the migration state, as the login role itself.
    pub async fn migration_status(&mut self) -> Result<(i32, i32, i32), DbError> {
        // outside a transaction: an unnamed statement, so Parse and Execute cannot land on two
        // server connections behind a transaction-mode pooler
        let row = self
            .object(None)
            .await?
            .query_typed_one(
                "select app_version, tenant_latest, tenants_behind from app_private.migration_status()",
                &[],
            )
            .await?;
        Ok((row.get(0), row.get(1), row.get(2)))
    }
}

/// The person and shop the session statement's row names.
fn session_ctx(row: &Row) -> Result<SessionCtx, DbError> {
    let shop = match (row.get::<_, Option<i64>>(4), row.get::<_, Option<String>>(9)) {
        (Some(tenant_id), Some(role)) => Some(ShopCtx {
            tenant_id,
            name: row.get(5),
            slug: row.get(6),
            schema: row.get(7),
            role: Role::try_from(role.as_str()).map_err(|e| DbError::Other(e.to_string()))?,
            active: row.get::<_, Option<String>>(8).as_deref() == Some("active"),
            locale: row.get::<_, Option<String>>(10).unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(SessionCtx {
        user_id: row.get(0),
        email: row.get(1),
        display_name: row.get(2),
        user_locale: row.get(3),
        shop,
    })
}

/// A shop's statement to run right after the session statement (`Conn::tenant_tx_then`).
pub struct ShopStatement<'p> {
    /// The shop the caller expects the session to be in (it names the cached statement).
    pub tenant_id: i64,
    pub sql: &'static str,
    pub params: &'p [&'p (dyn ToSql + Sync)],
}

/// The rows of `tenant_tx_then`'s statement: `None` when not run in the same flush.
pub type ThenRows = Option<Result<Vec<Row>, tokio_postgres::Error>>;

/// Who is asking in the operator's super-admin panel.
#[derive(Clone, Debug)]
pub struct AdminCtx {
    pub admin_id: i64,
    pub email: String,
    pub display_name: String,
    /// The shop this session opened with "view as", if any.
    pub view_tenant_id: Option<i64>,
}

/// The shop a super-admin is viewing as support (read only).
#[derive(Clone, Debug)]
pub struct ViewAsCtx {
    pub admin: AdminCtx,
    pub tenant_id: i64,
    pub name: String,
    pub slug: String,
    /// Checked by the database (`tenant_<id>`), never user text.
    pub schema: String,
    pub active: bool,
    pub locale: String,
}

const RESOLVE_ADMIN_AND_SET: &str = "\
select s.admin_id, s.email, s.display_name, s.view_tenant_id,
       set_config('app.admin_id', s.admin_id::text, true),
       set_config('app.user_id', '', true),
       set_config('app.tenant_id', '', true),
       set_config('app.client_ip', coalesce($2::text, ''), true),
       set_config('search_path', 'app', true),
       set_config('role', s.db_role, true)
  from app_private.resolve_admin_session($1) s";

const RESOLVE_VIEW_AND_SET: &str = "\
select s.admin_id, s.email, s.display_name, s.tenant_id, s.tenant_name, s.tenant_slug, s.schema_name,
       s.tenant_status, s.shop_locale,
       set_config('app.admin_id', s.admin_id::text, true),
       set_config('app.user_id', '', true),
       set_config('app.tenant_id', s.tenant_id::text, true),
       set_config('app.client_ip', coalesce($3::text, ''), true),
       set_config('search_path', quote_ident(s.schema_name) || ', app', true),
       set_config('role', s.db_role, true)
  from app_private.resolve_admin_view($1, $2) s";

impl Conn {
    /// A super-admin request: one statement resolves the admin cookie and sets the admin id, the
    /// client address and the super-admin role transaction-locally (no shop, no user). `None`
    /// when the cookie names no live session of an enabled account.
    pub async fn admin_tx(
        &mut self,
        token_hash: &[u8],
        client_ip: Option<String>,
        access: Access,
    ) -> Result<Option<(Tx<'_>, AdminCtx)>, DbError> {
        let (tx, row) = self
            .open(
                access,
                Some(token_hash),
                RESOLVE_ADMIN_AND_SET,
                &[(&token_hash, Type::BYTEA), (&client_ip, Type::TEXT)],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let ctx = AdminCtx {
            admin_id: row.get(0),
            email: row.get(1),
            display_name: row.get(2),
            view_tenant_id: row.get(3),
        };
        Ok(Some((tx, ctx)))
    }

    /// "View as" a shop: always a READ ONLY transaction, the shop's tenant context, and the
    /// SELECT-only support role. `None` unless this admin session opened exactly this shop.
    pub async fn view_as_tx(
        &mut self,
        token_hash: &[u8],
        tenant_id: i64,
        client_ip: Option<String>,
    ) -> Result<Option<(Tx<'_>, ViewAsCtx)>, DbError> {
        let (tx, row) = self
            .open(
                Access::ReadOnly,
                Some(token_hash),
                RESOLVE_VIEW_AND_SET,
                &[(&token_hash, Type::BYTEA), (&tenant_id, Type::INT8), (&client_ip, Type::TEXT)],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let admin_id: i64 = row.get(0);
        let ctx = ViewAsCtx {
            admin: AdminCtx {
                admin_id,
                email: row.get(1),
                display_name: row.get(2),
                view_tenant_id: Some(tenant_id),
            },
            tenant_id: row.get(3),
            name: row.get(4),
            slug: row.get(5),
            schema: row.get(6),
            active: row.get::<_, String>(7) == "active",
            locale: row.get(8),
        };
        Ok(Some((tx, ctx)))
    }
}
