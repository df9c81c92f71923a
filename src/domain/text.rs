//! Checked free-text fields: trimmed, bounded, without control characters. The error is an i18n
//! key, shown next to the field.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// 1..=`max` characters after trimming; no control characters.
    pub fn parse(raw: &str, max: usize) -> Result<Name, &'static str> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("error.required");
        }
        if s.chars().count() > max {
            return Err("error.too_long");
        }
        if s.chars().any(char::is_control) {
            return Err("error.control_chars");
        }
        Ok(Name(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Kiosco  ", 10).map(|n| n.0), Ok("Kiosco".into()));
        assert_eq!(Name::parse("   ", 10), Err("error.required"));
        assert_eq!(Name::parse("ñandú-ñandú", 11).map(|n| n.0), Ok("ñandú-ñandú".into()));
        assert_eq!(Name::parse("abcdefghijk", 10), Err("error.too_long"));
        assert_eq!(Name::parse("a\u{0}b", 10), Err("error.control_chars"));
        // HTML and SQL are ordinary text: stored as typed, escaped when shown
        assert!(Name::parse("<b>x</b>'; drop table t; --", 120).is_ok());
    }
}
