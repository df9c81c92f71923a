//! Amounts as people type them. One parser for every amount field: it accepts the shop's locale
//! ("1.234,50" in Spanish, "1,234.50" in English) and never reads "10.50" or "10,50" as 1050.
//! Money has two decimals and is rounded half away from zero in one place (`Money::round`).

use rust_decimal::{Decimal, RoundingStrategy};

use crate::i18n::Locale;

/// Parses a decimal number written with either separator. A lone separator followed by exactly
/// three digits is a thousands separator only when it is the locale's one ("1.234" is 1234 in
/// Spanish, 1.234 in English); any other lone separator is the decimal point.
pub fn parse_decimal(raw: &str, locale: Locale, max_scale: u32) -> Result<Decimal, &'static str> {
    let s: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '$')).collect();
    if s.is_empty() {
        return Err("error.required");
    }
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.as_str()),
    };
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') {
        return Err("error.number_invalid");
    }
    let thousands_sep = match locale {
        Locale::Es => '.',
        Locale::En => ',',
    };
    let dots = body.matches('.').count();
    let commas = body.matches(',').count();
    let decimal_sep = match (dots, commas) {
        (0, 0) => None,
        (_, 0) | (0, _) => {
            let sep = if dots > 0 { '.' } else { ',' };
            let count = dots + commas;
            let after_last = body.rsplit(sep).next().map_or(0, str::len);
            if count > 1 || (sep == thousands_sep && after_last == 3) {
                None // only grouping
            } else {
                Some(sep)
            }
        }
        _ => {
            // both present: the last one is the decimal separator
            let last = body.rfind(['.', ',']).and_then(|i| body[i..].chars().next());
            if last.is_some_and(|d| body.matches(d).count() > 1) {
                return Err("error.number_invalid");
            }
            last
        }
    };
    let (int_part, frac_part) = match decimal_sep {
        Some(d) => body.split_once(d).ok_or("error.number_invalid")?,
        None => (body, ""),
    };
    let group_sep = if decimal_sep == Some('.') { ',' } else { '.' };
    let groups: Vec<&str> = int_part.split(group_sep).collect();
    let grouping_ok = groups.len() == 1
        || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    if !grouping_ok || int_part.contains(decimal_sep.unwrap_or('#')) {
        return Err("error.number_invalid");
    }
    let digits: String = groups.concat();
    if digits.is_empty() && frac_part.is_empty() {
        return Err("error.number_invalid");
    }
    if frac_part.len() as u32 > max_scale {
        return Err(if max_scale == 0 { "error.whole_number" } else { "error.too_many_decimals" });
    }
    if digits.len() > 12 {
        return Err("error.number_too_large");
    }
    let text = format!(
        "{}{}.{}",
        if negative { "-" } else { "" },
        if digits.is_empty() { "0" } else { &digits },
        frac_part
    );
    text.trim_end_matches('.').parse::<Decimal>().map_err(|_| "error.number_invalid")
}

/// A non-negative amount of money with two decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn parse(raw: &str, locale: Locale) -> Result<Money, &'static str> {
        let d = parse_decimal(raw, locale, 2)?;
        if d.is_sign_negative() && !d.is_zero() {
            return Err("error.negative");
        }
        if d >= Decimal::from(10_000_000_000i64) {
            return Err("error.number_too_large");
        }
        Ok(Money(d.round_dp(2)))
    }

    /// The single rounding rule for computed amounts: two decimals, half away from zero.
    pub fn round(d: Decimal) -> Decimal {
        d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    }

    pub fn from_db(d: Decimal) -> Money {
        Money(Money::round(d))
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

/// A quantity of a product: up to three decimals, whole when the unit is not divisible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(Decimal);

impl Quantity {
    pub fn parse(raw: &str, locale: Locale, divisible: bool) -> Result<Quantity, &'static str> {
        let d = parse_decimal(raw, locale, if divisible { 3 } else { 0 })?;
        if d.abs() >= Decimal::from(1_000_000_000i64) {
            return Err("error.number_too_large");
        }
        Ok(Quantity(d))
    }

    /// Like `parse`, refusing negatives.
    pub fn parse_non_negative(raw: &str, locale: Locale, divisible: bool) -> Result<Quantity, &'static str> {
        let q = Quantity::parse(raw, locale, divisible)?;
        if q.0.is_sign_negative() && !q.0.is_zero() {
            return Err("error.negative");
        }
        Ok(q)
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

/// Formats with the locale's separators and exactly `scale` decimals (grouping thousands).
pub fn format_decimal(d: Decimal, locale: Locale, scale: u32) -> String {
    let rounded = d.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.*}", scale as usize, rounded.abs());
    let (int_part, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let (group, dec) = match locale {
        Locale::Es => ('.', ','),
        Locale::En => (',', '.'),
    };
    let mut grouped = String::new();
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{dec}{frac}")
    }
}

pub fn format_money(d: Decimal, locale: Locale) -> String {
    format_decimal(d, locale, 2)
}

/// Quantities drop trailing zeros: "3", "1,250".
pub fn format_qty(d: Decimal, locale: Locale) -> String {
    let n = d.normalize();
    format_decimal(n, locale, n.scale().min(3))
}

/// A value to put back into an input field (no grouping, locale decimal separator).
pub fn input_value(d: Decimal, locale: Locale) -> String {
    let s = d.normalize().to_string();
    match locale {
        Locale::Es => s.replace('.', ","),
        Locale::En => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn ten_fifty_is_never_one_thousand_fifty() {
        for l in [Locale::Es, Locale::En] {
            assert_eq!(parse_decimal("10.50", l, 2), Ok(d("10.50")), "{l:?}");
            assert_eq!(parse_decimal("10,50", l, 2), Ok(d("10.50")), "{l:?}");
            assert_eq!(Money::parse("10.5", l).map(Money::value), Ok(d("10.5")));
        }
    }

    #[test]
    fn locale_grouping() {
        assert_eq!(parse_decimal("1.234,50", Locale::Es, 2), Ok(d("1234.50")));
        assert_eq!(parse_decimal("1,234.50", Locale::En, 2), Ok(d("1234.50")));
        assert_eq!(parse_decimal("1,234.50", Locale::Es, 2), Ok(d("1234.50")));
        assert_eq!(parse_decimal("1.234", Locale::Es, 2), Ok(d("1234")));
        assert_eq!(parse_decimal("1.234", Locale::En, 3), Ok(d("1.234")));
        assert_eq!(parse_decimal("1.234", Locale::En, 2), Err("error.too_many_decimals"));
        assert_eq!(parse_decimal("1.234.567", Locale::En, 2), Ok(d("1234567")));
        assert_eq!(parse_decimal("$ 2.500", Locale::Es, 2), Ok(d("2500")));
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["", "abc", "1,2,3", "1.2.3,4.5", "12,34,56.7", "--1", "1e5", "1.23.45", ".", ",", "1 2x"]
        {
            assert!(parse_decimal(bad, Locale::Es, 2).is_err(), "{bad}");
        }
        assert_eq!(Money::parse("-1", Locale::Es), Err("error.negative"));
        assert_eq!(Money::parse("0,001", Locale::Es), Err("error.too_many_decimals"));
        assert_eq!(Money::parse("99999999999999", Locale::Es), Err("error.number_too_large"));
    }

    #[test]
    fn quantities_follow_the_unit() {
        assert_eq!(Quantity::parse("1,5", Locale::Es, false), Err("error.whole_number"));
        assert_eq!(Quantity::parse("1,5", Locale::Es, true).map(Quantity::value), Ok(d("1.5")));
        assert_eq!(Quantity::parse("-3", Locale::Es, false).map(Quantity::value), Ok(d("-3")));
        assert_eq!(Quantity::parse_non_negative("-3", Locale::Es, false), Err("error.negative"));
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(Money::round(d("2.345")), d("2.35"));
        assert_eq!(Money::round(d("-2.345")), d("-2.35"));
        assert_eq!(Money::round(d("2.344")), d("2.34"));
    }

    #[test]
    fn formats_for_the_locale() {
        assert_eq!(format_money(d("1234.5"), Locale::Es), "1.234,50");
        assert_eq!(format_money(d("1234.5"), Locale::En), "1,234.50");
        assert_eq!(format_money(d("-1234567.891"), Locale::Es), "-1.234.567,89");
        assert_eq!(format_qty(d("3.000"), Locale::Es), "3");
        assert_eq!(format_qty(d("1.250"), Locale::Es), "1,25");
        assert_eq!(input_value(d("10.50"), Locale::Es), "10,5");
        // what we print, we read back
        for v in ["0", "0.01", "999.99", "1234567.89"] {
            for l in [Locale::Es, Locale::En] {
                assert_eq!(parse_decimal(&format_money(d(v), l), l, 2), Ok(d(v)), "{v} {l:?}");
            }
        }
    }
}
