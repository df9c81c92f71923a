//! Spare shops (issue 8): shops made ahead, so that sign-up claims one instead of running every
//! tenant migration's DDL in the request (`app_private.create_tenant`, sql/app/V23). Spares are
//! made here, always on the administrative connection: by `stock tenant spares` and by the refill
//! task of `stock serve`, which tops the stock up at start, after each claim (the claim notifies
//! `stock_spare_claimed`) and once a minute. Replicas share the work through an advisory lock.

use std::time::Duration;

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use super::{parse_url, DbError};
use crate::config::Config;

/// The channel `create_tenant` notifies when it claims a spare.
pub const CLAIM_CHANNEL: &str = "stock_spare_claimed";
/// Held (per transaction) by whoever is provisioning a spare, so replicas do not all refill.
const REFILL_LOCK: i64 = 0x5354_4f43_4b53_5052; // "STOCKSPR"
/// How often the refill task looks even without a notification (claims by a replica whose
/// notification was missed, a spare dropped by hand).
const CHECK_EVERY: Duration = Duration::from_secs(60);
/// Wait before retrying after the refill task lost its connection or failed.
const RETRY_AFTER: Duration = Duration::from_secs(30);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

const COUNT_CURRENT: &str = "select count(*) from app.tenants
     where status = 'spare'
       and schema_version = (select coalesce(max(version), 0) from app_private.tenant_migrations)";

/// Spares at the latest tenant migration (the ones a sign-up can claim).
pub async fn count(client: &Client) -> Result<i64, DbError> {
    Ok(client.query_one(COUNT_CURRENT, &[]).await?.get(0))
}

/// Provisions spares, one transaction each, until `keep` claimable ones exist; returns how many it
/// made. With `wait` it queues behind another provisioner; without, it leaves the work to the one
/// holding the lock and returns.
pub async fn top_up(client: &mut Client, keep: usize, wait: bool) -> Result<usize, DbError> {
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    let mut made = 0;
    loop {
        let tx = client.transaction().await?;
        if wait {
            tx.execute("select pg_advisory_xact_lock($1)", &[&REFILL_LOCK]).await?;
        } else if !tx
            .query_one("select pg_try_advisory_xact_lock($1)", &[&REFILL_LOCK])
            .await?
            .get::<_, bool>(0)
        {
            return Ok(made);
        }
        let have: i64 = tx.query_one(COUNT_CURRENT, &[]).await?.get(0);
        if have >= keep {
            return Ok(made);
        }
        tx.query_one("select app_private.provision_spare()", &[]).await?;
        tx.commit().await?;
        made += 1;
    }
}

/// Starts `stock serve`'s refill task (nothing when `STOCK_SPARE_SHOPS` is 0). It runs until the
/// process ends (a provisioning cut off by shutdown rolls back), retrying a lost connection with a
/// growing wait, and stops for good when `DATABASE_URL` may not provision.
pub fn spawn_refill(config: &Config) {
    if config.spare_shops == 0 {
        return;
    }
    let config = config.clone();
    tokio::spawn(async move {
        let mut wait = RETRY_AFTER;
        loop {
            match refill(&config).await {
                Err(DbError::Pg(e))
                    if e.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) =>
                {
                    // the web process was given only the app login (docker/compose.yaml): the
                    // administrative side provisions them (`stock tenant spares`)
                    tracing::warn!(
                        "spare shops: DATABASE_URL is not the administrative connection; this process \
                         makes none (set STOCK_SPARE_SHOPS=0 and run `stock tenant spares` instead)"
                    );
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "spare shops: refill failed; retrying in {}s", wait.as_secs())
                }
                Ok(()) => {}
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_RETRY_AFTER);
        }
    });
}

/// One connection's life of the refill task: listen for claims, top up, wait, again.
async fn refill(config: &Config) -> Result<(), DbError> {
    let cfg = parse_url(config.database_url.expose())?;
    let (mut client, mut conn) = cfg.connect(NoTls).await.map_err(DbError::Connect)?;
    let (claimed_tx, mut claimed) = tokio::sync::mpsc::unbounded_channel::<()>();
    // the connection must be polled for its notifications, not only awaited
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    if claimed_tx.send(()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "spare shops: connection closed");
                    break;
                }
            }
        }
    });
    client.batch_execute(&format!("set client_min_messages = warning; listen {CLAIM_CHANNEL}")).await?;
    loop {
        let made = top_up(&mut client, config.spare_shops, false).await?;
        if made > 0 {
            tracing::info!(made, keep = config.spare_shops, "spare shops provisioned");
        }
        tokio::select! {
            got = claimed.recv() => {
                if got.is_none() {
                    return Err(DbError::Other("the listening connection closed".into()));
                }
                while claimed.try_recv().is_ok() {}
            }
            () = tokio::time::sleep(CHECK_EVERY) => {}
        }
    }
}
