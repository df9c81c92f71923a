//! Plan limits: the database refuses a member, an active product or a sale beyond the shop's plan
//! (sql/app/V16__plan_limits.sql, docs/PLANS.md); this module reads that refusal back into a
//! message naming the limit and the plan, and reads the shop's plan and usage for its settings.

use serde::Deserialize;

use crate::db::tx::Tx;
use crate::error::AppError;
use crate::i18n::{t, tf, Locale};

/// SQLSTATE of a plan limit refusal (raised by `app_private.raise_plan_limit`).
pub const SQLSTATE: &str = "LM001";

/// Which of a plan's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Members,
    Products,
    MonthlySales,
}

/// A write the plan does not allow: the limit, the plan (code and display name) and its maximum.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PlanLimit {
    pub limit: Limit,
    pub plan: String,
    pub plan_name: String,
    pub max: i64,
}

impl PlanLimit {
    /// The refusal carried by a database error, if it is one (its DETAIL is a JSON object).
    pub fn from_db_error(e: &tokio_postgres::Error) -> Option<PlanLimit> {
        let d = e.as_db_error().filter(|d| d.code().code() == SQLSTATE)?;
        serde_json::from_str(d.detail()?).ok()
    }

    /// What the person reads: which limit of which plan, and what they can do about it.
    pub fn message(&self, l: Locale) -> String {
        let key = match self.limit {
            Limit::Members => "limit.reached_members",
            Limit::Products => "limit.reached_products",
            Limit::MonthlySales => "limit.reached_monthly_sales",
        };
        tf(l, key, &[("plan", &self.plan_name), ("max", &self.max.to_string())])
    }
}

/// One line of the settings page's plan section: used against allowed (None: no limit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    pub used: i64,
    pub max: Option<i64>,
}

impl Usage {
    /// "180 / 200", or "180" with the word for no limit.
    pub fn show(&self, l: Locale) -> String {
        match self.max {
            Some(m) => format!("{} / {m}", self.used),
            None => format!("{} ({})", self.used, t(l, "limit.unlimited")),
        }
    }

    pub fn reached(&self) -> bool {
        self.max.is_some_and(|m| self.used >= m)
    }
}

/// The shop's plan and what it uses of it.
#[derive(Clone, Debug)]
pub struct PlanUsage {
    pub plan_code: String,
    pub plan_name: String,
    pub status: String,
    pub trial_ends_on: Option<chrono::NaiveDate>,
    pub members: Usage,
    pub products: Usage,
    pub monthly_sales: Usage,
}

/// The plan and usage of the shop in context (owner only: `app_private.shop_plan_usage`).
pub async fn usage(tx: &Tx<'_>) -> Result<Option<PlanUsage>, AppError> {
    let row = tx
        .query_opt(
            "select plan_code, plan_name, status, trial_ends_on, max_members, members, max_products, products,
                    max_monthly_sales, monthly_sales
               from app_private.shop_plan_usage()",
            &[],
        )
        .await?;
    Ok(row.map(|r| {
        let usage = |max: usize, used: usize| Usage {
            used: r.get(used),
            max: r.get::<_, Option<i32>>(max).map(i64::from),
        };
        PlanUsage {
            plan_code: r.get(0),
            plan_name: r.get(1),
            status: r.get(2),
            trial_ends_on: r.get(3),
            members: usage(4, 5),
            products: usage(6, 7),
            monthly_sales: usage(8, 9),
        }
    }))
}

/// The i18n key of a subscription status.
pub fn status_key(status: &str) -> &'static str {
    match status {
        "trialing" => "limit.status_trialing",
        "active" => "limit.status_active",
        "past_due" => "limit.status_past_due",
        _ => "limit.status_canceled",
    }
}

/// (key, English, Spanish) texts of plan limits; registered in crate::i18n.
pub const TEXTS: &[(&str, &str, &str)] = &[
    (
        "limit.reached_members",
        "Your shop's {plan} plan allows {max} members (counting open invitations), and that limit is reached. Nothing was changed: remove a member or revoke an invitation, or move to a larger plan.",
        "El plan {plan} de su negocio permite {max} miembros (contando las invitaciones abiertas) y ese límite está alcanzado. No se cambió nada: quite un miembro o revoque una invitación, o pase a un plan mayor.",
    ),
    (
        "limit.reached_products",
        "Your shop's {plan} plan allows {max} active products, and that limit is reached. Nothing was changed: deactivate products you no longer sell, or move to a larger plan.",
        "El plan {plan} de su negocio permite {max} productos activos y ese límite está alcanzado. No se cambió nada: desactive productos que ya no vende, o pase a un plan mayor.",
    ),
    (
        "limit.reached_monthly_sales",
        "Your shop's {plan} plan allows {max} sales a month, and this month's are used up. The sale was not recorded: move to a larger plan to keep selling this month.",
        "El plan {plan} de su negocio permite {max} ventas por mes y las de este mes se agotaron. La venta no se registró: pase a un plan mayor para seguir vendiendo este mes.",
    ),
    ("limit.title", "Plan limit reached", "Límite del plan alcanzado"),
    ("limit.plan", "Plan", "Plan"),
    ("limit.plan_section", "Plan and usage", "Plan y uso"),
    ("limit.members", "Members", "Miembros"),
    ("limit.products", "Active products", "Productos activos"),
    ("limit.monthly_sales", "Sales this month", "Ventas de este mes"),
    ("limit.unlimited", "no limit", "sin límite"),
    ("limit.trial_ends", "Trial ends on {date}", "La prueba termina el {date}"),
    ("limit.at_limit", "limit reached", "límite alcanzado"),
    ("limit.status_trialing", "trial", "prueba"),
    ("limit.status_active", "active", "activa"),
    ("limit.status_past_due", "payment due", "pago pendiente"),
    ("limit.status_canceled", "canceled", "cancelada"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_json_reads_back() {
        let l: PlanLimit = serde_json::from_str(
            r#"{"limit":"monthly_sales","plan":"FREE","plan_name":"Free","max":300,"count":301}"#,
        )
        .expect("parse");
        assert_eq!(l.limit, Limit::MonthlySales);
        assert_eq!(l.max, 300);
        assert!(l.message(Locale::En).contains("Free plan allows 300 sales a month"));
        assert!(l.message(Locale::Es).contains("El plan Free de su negocio permite 300 ventas por mes"));
    }

    #[test]
    fn usage_shows_used_against_allowed() {
        assert_eq!(Usage { used: 180, max: Some(200) }.show(Locale::En), "180 / 200");
        assert_eq!(Usage { used: 3, max: None }.show(Locale::Es), "3 (sin límite)");
        assert!(Usage { used: 200, max: Some(200) }.reached());
        assert!(!Usage { used: 9, max: None }.reached());
    }
}
