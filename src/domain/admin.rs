//! The operator's super-admin panel: accounts and throttled login (never a shop role), shops and
//! their usage, suspension, plans, subscriptions, manual payments, "view as" and the audit trail.
//! Every write here is recorded in `app.admin_audit` by the database (definer functions and
//! triggers), so no handler can forget it.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use tokio_postgres::GenericClient;

use super::auth::{verify_password, ClientInfo, Email, Password, SessionToken};
use super::money::Money;
use super::text::Name;
use crate::db::tx::Tx;
use crate::error::{violated_constraint, AppError};
use crate::i18n::Locale;

pub const PAGE_SIZE: i64 = 50;

#[derive(Debug)]
pub enum AdminLoginOutcome {
    Ok,
    WrongCredentials,
    Throttled { retry_after: Duration },
}

/// Like shop logins: the throttle first (per address and per client address), then the password;
/// a failure is counted, a success opens a fresh session and is recorded in the audit trail.
pub async fn login(
    tx: &Tx<'_>,
    email: &Email,
    password: &Password,
    old: Option<&SessionToken>,
    new: &SessionToken,
    ttl: Duration,
    client: &ClientInfo,
) -> Result<AdminLoginOutcome, AppError> {
    let row = tx
        .query_one(
            "select admin_id, password_hash, retry_after_seconds from app_private.admin_begin_login($1, $2)",
            &[&email.as_str(), &client.ip],
        )
        .await?;
    let retry: i32 = row.get(2);
    if retry > 0 {
        return Ok(AdminLoginOutcome::Throttled { retry_after: Duration::from_secs(retry as u64) });
    }
    let admin_id: Option<i64> = row.get(0);
    let ok = verify_password(password, row.get(1)).await?;
    let signed_in: bool = tx
        .query_one(
            "select app_private.admin_finish_login($1, $2, $3, $4, $5, $6, make_interval(secs => $7), $8)",
            &[
                &email.as_str(),
                &client.ip,
                &admin_id,
                &ok,
                &old.map(SessionToken::hash),
                &new.hash(),
                &ttl.as_secs_f64(),
                &client.user_agent,
            ],
        )
        .await?
        .get(0);
    Ok(if signed_in { AdminLoginOutcome::Ok } else { AdminLoginOutcome::WrongCredentials })
}

pub async fn logout(tx: &Tx<'_>, token: &SessionToken) -> Result<(), AppError> {
    tx.execute("select app_private.end_admin_session($1)", &[&token.hash()]).await?;
    Ok(())
}

/// Opens "view as" for this session on a shop (recorded), or closes it with `None`.
pub async fn set_view(tx: &Tx<'_>, token: &SessionToken, tenant_id: Option<i64>) -> Result<bool, AppError> {
    Ok(tx
        .query_one("select app_private.admin_start_view($1, $2)", &[&token.hash(), &tenant_id])
        .await?
        .get(0))
}

/// A shop with its usage, as the panel lists it.
#[derive(Clone, Debug)]
pub struct ShopUsage {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub plan_code: Option<String>,
    pub subscription_status: Option<String>,
    pub trial_ends_on: Option<NaiveDate>,
    pub members: i64,
    pub products: i64,
    pub sales_this_month: i64,
    pub last_activity: Option<DateTime<Utc>>,
    pub schema_bytes: i64,
}

impl ShopUsage {
    /// A trial whose end date has passed: the operator decides what happens next.
    pub fn trial_ended(&self, today: NaiveDate) -> bool {
        self.subscription_status.as_deref() == Some("trialing")
            && self.trial_ends_on.is_some_and(|d| d < today)
    }
}

const USAGE: &str =
    "select tenant_id, name, slug, status, created_at, plan_code, subscription_status, members,
        products, sales_this_month, last_activity, schema_bytes, trial_ends_on
   from app_private.admin_shop_usage($1, $2, $3, $4)";

fn usage_row(r: &tokio_postgres::Row) -> ShopUsage {
    ShopUsage {
        id: r.get(0),
        name: r.get(1),
        slug: r.get(2),
        active: r.get::<_, String>(3) == "active",
        created_at: r.get(4),
        plan_code: r.get(5),
        subscription_status: r.get(6),
        members: r.get(7),
        products: r.get(8),
        sales_this_month: r.get(9),
        last_activity: r.get(10),
        schema_bytes: r.get(11),
        trial_ends_on: r.get(12),
    }
}

/// One page of shops matching `search` (name, slug or id); `true` when there is a next page.
pub async fn shops(tx: &Tx<'_>, search: &str, page: i64) -> Result<(Vec<ShopUsage>, bool), AppError> {
    let search: String = search.trim().chars().take(100).collect();
    let offset = (page.max(1) - 1) * PAGE_SIZE;
    let limit = (PAGE_SIZE + 1) as i32;
    let rows = tx.query(USAGE, &[&search, &None::<i64>, &limit, &(offset as i32)]).await?;
    let mut list: Vec<ShopUsage> = rows.iter().map(usage_row).collect();
    let more = list.len() as i64 > PAGE_SIZE;
    list.truncate(PAGE_SIZE as usize);
    Ok((list, more))
}

pub async fn shop(tx: &Tx<'_>, id: i64) -> Result<Option<ShopUsage>, AppError> {
    let row = tx.query_opt(USAGE, &[&"", &Some(id), &1i32, &0i32]).await?;
    Ok(row.as_ref().map(usage_row))
}

#[derive(Clone, Debug)]
pub struct ShopMember {
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

pub async fn members(tx: &Tx<'_>, id: i64) -> Result<Vec<ShopMember>, AppError> {
    let rows = tx
        .query("select email, display_name, role, joined_at from app_private.admin_shop_members($1)", &[&id])
        .await?;
    Ok(rows
        .iter()
        .map(|r| ShopMember { email: r.get(0), display_name: r.get(1), role: r.get(2), joined_at: r.get(3) })
        .collect())
}

/// Suspends (`false`) or reactivates (`true`) a shop; `false` when there is no such shop.
pub async fn set_active(tx: &Tx<'_>, id: i64, active: bool) -> Result<bool, AppError> {
    let status = if active { "active" } else { "suspended" };
    let n = tx.execute("update app.tenants set status = $2 where id = $1", &[&id, &status]).await?;
    Ok(n == 1)
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub code: String,
    pub name: String,
    pub max_members: Option<i32>,
    pub max_products: Option<i32>,
    pub max_monthly_sales: Option<i32>,
    pub monthly_price: Decimal,
    pub shops: i64,
}

pub async fn plans(tx: &Tx<'_>) -> Result<Vec<Plan>, AppError> {
    let rows = tx
        .query(
            "select p.code, p.name, p.max_members, p.max_products, p.max_monthly_sales, p.monthly_price,
                    (select count(*) from app.subscriptions s where s.plan_code = p.code)
               from app.plans p order by p.monthly_price, p.code",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Plan {
            code: r.get(0),
            name: r.get(1),
            max_members: r.get(2),
            max_products: r.get(3),
            max_monthly_sales: r.get(4),
            monthly_price: r.get(5),
            shops: r.get(6),
        })
        .collect())
}

/// A plan as submitted; errors are i18n keys per field.
#[derive(Clone, Debug, Default)]
pub struct PlanErrors {
    pub code: Option<&'static str>,
    pub name: Option<&'static str>,
    pub max_members: Option<&'static str>,
    pub max_products: Option<&'static str>,
    pub max_monthly_sales: Option<&'static str>,
    pub monthly_price: Option<&'static str>,
}

impl PlanErrors {
    pub fn any(&self) -> bool {
        self.code.is_some()
            || self.name.is_some()
            || self.max_members.is_some()
            || self.max_products.is_some()
            || self.max_monthly_sales.is_some()
            || self.monthly_price.is_some()
    }
}

#[derive(Clone, Debug)]
pub struct PlanInput {
    pub code: String,
    pub name: Name,
    pub max_members: Option<i32>,
    pub max_products: Option<i32>,
    pub max_monthly_sales: Option<i32>,
    pub monthly_price: Money,
}

/// A plan code: 2 to 20 of A-Z, 0-9 and _, starting with a letter (upper-cased).
pub fn plan_code(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim().to_ascii_uppercase();
    if s.is_empty() {
        return Err("error.required");
    }
    let ok = (2..=20).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(s)
    } else {
        Err("sa.error_plan_code")
    }
}

/// A limit: empty means "no limit"; otherwise a whole number from 1 to 1,000,000,000.
pub fn limit(raw: &str) -> Result<Option<i32>, &'static str> {
    let s: String = raw.trim().chars().filter(|c| !matches!(c, '.' | ',' | ' ')).collect();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<i64>() {
        Ok(n) if (1..=1_000_000_000).contains(&n) => Ok(Some(n as i32)),
        _ => Err("sa.error_limit"),
    }
}

pub fn parse_plan(
    code: &str,
    name: &str,
    members: &str,
    products: &str,
    sales: &str,
    price: &str,
    l: Locale,
) -> Result<PlanInput, PlanErrors> {
    let code = plan_code(code);
    let name = Name::parse(name, 60);
    let (m, p, s) = (limit(members), limit(products), limit(sales));
    let price = Money::parse(price, l);
    let errors = PlanErrors {
        code: code.as_ref().err().copied(),
        name: name.as_ref().err().copied(),
        max_members: m.as_ref().err().copied(),
        max_products: p.as_ref().err().copied(),
        max_monthly_sales: s.as_ref().err().copied(),
        monthly_price: price.as_ref().err().copied(),
    };
    match (code, name, m, p, s, price) {
        (Ok(code), Ok(name), Ok(max_members), Ok(max_products), Ok(max_monthly_sales), Ok(monthly_price)) => {
            Ok(PlanInput { code, name, max_members, max_products, max_monthly_sales, monthly_price })
        }
        _ => Err(errors),
    }
}

/// Creates a plan; `Err(())` when the code is taken.
pub async fn create_plan(tx: &Tx<'_>, p: &PlanInput) -> Result<Result<(), ()>, AppError> {
    let r = tx
        .execute(
            "insert into app.plans (code, name, max_members, max_products, max_monthly_sales, monthly_price)
             values ($1, $2, $3, $4, $5, $6)",
            &[
                &p.code,
                &p.name.as_str(),
                &p.max_members,
                &p.max_products,
                &p.max_monthly_sales,
                &p.monthly_price.value(),
            ],
        )
        .await;
    match r {
        Ok(_) => Ok(Ok(())),
        Err(e) if violated_constraint(&e) == Some("plans_pkey") => Ok(Err(())),
        Err(e) => Err(e.into()),
    }
}

/// Updates a plan's name, limits and price (the code stays); `false` when there is no such plan.
pub async fn update_plan(tx: &Tx<'_>, code: &str, p: &PlanInput) -> Result<bool, AppError> {
    let n = tx
        .execute(
            "update app.plans set name = $2, max_members = $3, max_products = $4, max_monthly_sales = $5,
                    monthly_price = $6, updated_at = now()
              where code = $1",
            &[
                &code,
                &p.name.as_str(),
                &p.max_members,
                &p.max_products,
                &p.max_monthly_sales,
                &p.monthly_price.value(),
            ],
        )
        .await?;
    Ok(n == 1)
}

pub const SUBSCRIPTION_STATUSES: &[&str] = &["trialing", "active", "past_due", "canceled"];
pub const PAYMENT_METHODS: &[&str] = &["transfer", "cash", "card", "other"];

#[derive(Clone, Debug)]
pub struct Subscription {
    pub plan_code: String,
    pub status: String,
    pub trial_ends_on: Option<NaiveDate>,
    pub renews_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

pub async fn subscription(tx: &Tx<'_>, tenant_id: i64) -> Result<Option<Subscription>, AppError> {
    let row = tx
        .query_opt(
            "select plan_code, status, trial_ends_on, renews_on, updated_at from app.subscriptions where tenant_id = $1",
            &[&tenant_id],
        )
        .await?;
    Ok(row.map(|r| Subscription {
        plan_code: r.get(0),
        status: r.get(1),
        trial_ends_on: r.get(2),
        renews_on: r.get(3),
        updated_at: r.get(4),
    }))
}

#[derive(Clone, Debug, Default)]
pub struct SubscriptionErrors {
    pub plan: Option<&'static str>,
    pub status: Option<&'static str>,
    pub trial_ends_on: Option<&'static str>,
    pub renews_on: Option<&'static str>,
}

#[derive(Clone, Debug)]
pub struct SubscriptionInput {
    pub plan_code: String,
    pub status: &'static str,
    pub trial_ends_on: Option<NaiveDate>,
    pub renews_on: Option<NaiveDate>,
}

/// A date as a date input sends it (2025-03-31) or as people write it (31/03/2025).
pub fn date(raw: &str) -> Result<NaiveDate, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("error.required");
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| "sa.error_date")
}

fn optional_date(raw: &str) -> Result<Option<NaiveDate>, &'static str> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        date(raw).map(Some)
    }
}

pub fn parse_subscription(
    plan: &str,
    status: &str,
    trial_ends_on: &str,
    renews_on: &str,
    plans: &[Plan],
) -> Result<SubscriptionInput, SubscriptionErrors> {
    let plan = plans.iter().find(|p| p.code == plan.trim()).map(|p| p.code.clone()).ok_or("sa.error_plan");
    let status = SUBSCRIPTION_STATUSES.iter().copied().find(|s| *s == status.trim()).ok_or("sa.error_status");
    let trial = optional_date(trial_ends_on);
    let renews = optional_date(renews_on);
    // a trial needs its end date
    let trial = match (&status, trial) {
        (Ok("trialing"), Ok(None)) => Err("sa.error_trial_end"),
        (_, t) => t,
    };
    match (plan, status, trial, renews) {
        (Ok(plan_code), Ok(status), Ok(trial_ends_on), Ok(renews_on)) => {
            Ok(SubscriptionInput { plan_code, status, trial_ends_on, renews_on })
        }
        (p, s, t, r) => Err(SubscriptionErrors {
            plan: p.err(),
            status: s.err(),
            trial_ends_on: t.err(),
            renews_on: r.err(),
        }),
    }
}

/// Saves a shop's subscription (creating it when the shop has none); recorded by a trigger.
pub async fn save_subscription(tx: &Tx<'_>, tenant_id: i64, s: &SubscriptionInput) -> Result<bool, AppError> {
    let n = tx
        .execute(
            "update app.subscriptions set plan_code = $2, status = $3, trial_ends_on = $4, renews_on = $5,
                    updated_at = now()
              where tenant_id = $1",
            &[&tenant_id, &s.plan_code, &s.status, &s.trial_ends_on, &s.renews_on],
        )
        .await?;
    Ok(n == 1)
}

#[derive(Clone, Debug)]
pub struct Payment {
    pub id: i64,
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub method: String,
    pub reference: String,
    pub recorded_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn payments(tx: &Tx<'_>, tenant_id: i64) -> Result<Vec<Payment>, AppError> {
    let rows = tx
        .query(
            "select p.id, p.amount, p.paid_on, p.method, p.reference, a.display_name, p.created_at
               from app.subscription_payments p left join app.super_admins a on a.id = p.recorded_by
              where p.tenant_id = $1 order by p.paid_on desc, p.id desc limit 200",
            &[&tenant_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Payment {
            id: r.get(0),
            amount: r.get(1),
            paid_on: r.get(2),
            method: r.get(3),
            reference: r.get(4),
            recorded_by: r.get(5),
            created_at: r.get(6),
        })
        .collect())
}

#[derive(Clone, Debug, Default)]
pub struct PaymentErrors {
    pub amount: Option<&'static str>,
    pub paid_on: Option<&'static str>,
    pub method: Option<&'static str>,
    pub reference: Option<&'static str>,
}

#[derive(Clone, Debug)]
pub struct PaymentInput {
    pub amount: Money,
    pub paid_on: NaiveDate,
    pub method: &'static str,
    pub reference: String,
}

pub fn parse_payment(
    amount: &str,
    paid_on: &str,
    method: &str,
    reference: &str,
    l: Locale,
    today: NaiveDate,
) -> Result<PaymentInput, PaymentErrors> {
    let amount =
        Money::parse(amount, l).and_then(|m| if m == Money::ZERO { Err("sa.error_amount") } else { Ok(m) });
    let paid_on = date(paid_on).and_then(|d| if d > today { Err("sa.error_future") } else { Ok(d) });
    let method = PAYMENT_METHODS.iter().copied().find(|m| *m == method.trim()).ok_or("sa.error_method");
    let reference = reference.trim();
    let reference = if reference.chars().count() > 200 {
        Err("error.too_long")
    } else if reference.chars().any(char::is_control) {
        Err("error.control_chars")
    } else {
        Ok(reference.to_string())
    };
    match (amount, paid_on, method, reference) {
        (Ok(amount), Ok(paid_on), Ok(method), Ok(reference)) => {
            Ok(PaymentInput { amount, paid_on, method, reference })
        }
        (a, p, m, r) => {
            Err(PaymentErrors { amount: a.err(), paid_on: p.err(), method: m.err(), reference: r.err() })
        }
    }
}

/// Records a manual payment by the admin in context (the database checks it is them).
pub async fn record_payment(
    tx: &Tx<'_>,
    tenant_id: i64,
    admin_id: i64,
    p: &PaymentInput,
) -> Result<i64, AppError> {
    Ok(tx
        .query_one(
            "insert into app.subscription_payments (tenant_id, amount, paid_on, method, reference, recorded_by)
             values ($1, $2, $3, $4, $5, $6) returning id",
            &[&tenant_id, &p.amount.value(), &p.paid_on, &p.method, &p.reference, &admin_id],
        )
        .await?
        .get(0))
}

#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub admin: Option<String>,
    pub action: String,
    pub tenant_id: Option<i64>,
    pub shop: Option<String>,
    pub details: serde_json::Value,
    pub ip: Option<String>,
}

/// The audit trail, newest first; optionally one shop's entries. `true` when there is more.
pub async fn audit(
    tx: &Tx<'_>,
    tenant_id: Option<i64>,
    page: i64,
) -> Result<(Vec<AuditEntry>, bool), AppError> {
    let offset = (page.max(1) - 1) * PAGE_SIZE;
    let rows = tx
        .query(
            "select e.id, e.at, a.email, e.action, e.tenant_id, t.name, e.details, host(e.ip)
               from app.admin_audit e
               left join app.super_admins a on a.id = e.admin_id
               left join app.tenants t on t.id = e.tenant_id
              where ($1::bigint is null or e.tenant_id = $1)
              order by e.at desc, e.id desc
              limit $2 offset $3",
            &[&tenant_id, &(PAGE_SIZE + 1), &offset],
        )
        .await?;
    let mut list: Vec<AuditEntry> = rows
        .iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            at: r.get(1),
            admin: r.get(2),
            action: r.get(3),
            tenant_id: r.get(4),
            shop: r.get(5),
            details: r.get(6),
            ip: r.get(7),
        })
        .collect();
    let more = list.len() as i64 > PAGE_SIZE;
    list.truncate(PAGE_SIZE as usize);
    Ok((list, more))
}

/// Command line: creates an account, or re-enables it with a new password and name.
pub async fn add_account(
    client: &impl GenericClient,
    email: &Email,
    name: &Name,
    password_hash: &str,
) -> Result<i64, AppError> {
    Ok(client
        .query_one(
            "select app_private.add_super_admin($1, $2, $3)",
            &[&email.as_str(), &name.as_str(), &password_hash],
        )
        .await?
        .get(0))
}

pub async fn disable_account(client: &impl GenericClient, email: &Email) -> Result<bool, AppError> {
    Ok(client.query_one("select app_private.disable_super_admin($1)", &[&email.as_str()]).await?.get(0))
}

#[derive(Clone, Debug)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn accounts(client: &impl GenericClient) -> Result<Vec<Account>, AppError> {
    let rows = client
        .query(
            "select id, email, display_name, disabled_at, created_at from app.super_admins order by email",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Account {
            id: r.get(0),
            email: r.get(1),
            display_name: r.get(2),
            disabled_at: r.get(3),
            created_at: r.get(4),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_codes_and_limits_parse() {
        assert_eq!(plan_code(" pro_2 "), Ok("PRO_2".into()));
        assert_eq!(plan_code(""), Err("error.required"));
        for bad in ["P", "2PRO", "PRO-X", "ABCDEFGHIJKLMNOPQRSTU", "PRÓ"] {
            assert_eq!(plan_code(bad), Err("sa.error_plan_code"), "{bad}");
        }
        assert_eq!(limit(""), Ok(None));
        assert_eq!(limit("5.000"), Ok(Some(5000)));
        for bad in ["0", "-3", "abc", "1,5x", "99999999999"] {
            assert_eq!(limit(bad), Err("sa.error_limit"), "{bad}");
        }
    }

    #[test]
    fn payments_are_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        let ok =
            parse_payment("1.234,50", "2026-03-01", "transfer", " ref 1 ", Locale::Es, today).expect("ok");
        assert_eq!(ok.amount.value(), Decimal::new(123450, 2));
        assert_eq!(ok.reference, "ref 1");
        let e = parse_payment("0", "2026-04-01", "bitcoin", "", Locale::Es, today).expect_err("bad");
        assert_eq!(e.amount, Some("sa.error_amount"));
        assert_eq!(e.paid_on, Some("sa.error_future"));
        assert_eq!(e.method, Some("sa.error_method"));
        let e = parse_payment("-5", "31/02/2026", "cash", "", Locale::Es, today).expect_err("bad");
        assert_eq!(e.amount, Some("error.negative"));
        assert_eq!(e.paid_on, Some("sa.error_date"));
    }

    #[test]
    fn a_trial_needs_its_end() {
        let plans = vec![Plan {
            code: "PRO".into(),
            name: "Pro".into(),
            max_members: None,
            max_products: None,
            max_monthly_sales: None,
            monthly_price: Decimal::ZERO,
            shops: 0,
        }];
        let e = parse_subscription("PRO", "trialing", "", "", &plans).expect_err("bad");
        assert_eq!(e.trial_ends_on, Some("sa.error_trial_end"));
        let e = parse_subscription("GOLD", "paused", "x", "", &plans).expect_err("bad");
        assert_eq!(
            (e.plan, e.status, e.trial_ends_on),
            (Some("sa.error_plan"), Some("sa.error_status"), Some("sa.error_date"))
        );
        let ok = parse_subscription("PRO", "active", "", "2026-05-01", &plans).expect("ok");
        assert_eq!(ok.renews_on, NaiveDate::from_ymd_opt(2026, 5, 1));
    }
}
