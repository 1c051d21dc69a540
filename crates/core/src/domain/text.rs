//! Small parsers for the plain values forms and APIs send: bounded text, ISO dates, slugs.

use time::{macros::format_description, Date};

use crate::error::{FieldError, Msg};

/// Trimmed text between `min` and `max` characters with no control characters.
pub fn bounded(field: &str, input: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let s = input.trim();
    let len = s.chars().count();
    if len < min {
        return Err(FieldError::new(
            field,
            if min == 1 { "required" } else { "too_short" },
            if min == 1 {
                Msg::new("此项必填", "this field is required")
            } else {
                Msg::new(
                    format!("至少 {min} 个字符"),
                    format!("at least {min} characters"),
                )
            },
        ));
    }
    if len > max {
        return Err(FieldError::new(
            field,
            "too_long",
            Msg::new(
                format!("最多 {max} 个字符（现有 {len} 个）"),
                format!("at most {max} characters (got {len})"),
            ),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(
            field,
            "control_character",
            Msg::new(
                "含有不可见的控制字符",
                "contains invisible control characters",
            ),
        ));
    }
    Ok(s.to_string())
}

/// Like [`bounded`] but an empty input is allowed and stays empty.
pub fn optional(field: &str, input: &str, max: usize) -> Result<String, FieldError> {
    if input.trim().is_empty() {
        Ok(String::new())
    } else {
        bounded(field, input, 1, max)
    }
}

/// An ISO date `YYYY-MM-DD` between 1949 and 2100.
pub fn date(field: &str, input: &str) -> Result<Date, FieldError> {
    let s = input.trim();
    let parsed = Date::parse(s, format_description!("[year]-[month]-[day]")).map_err(|_| {
        FieldError::new(
            field,
            "date_invalid",
            Msg::new(
                format!(
                    "“{}”不是有效日期（格式 YYYY-MM-DD）",
                    s.chars().take(20).collect::<String>()
                ),
                format!(
                    "“{}” is not a valid date (YYYY-MM-DD)",
                    s.chars().take(20).collect::<String>()
                ),
            ),
        )
    })?;
    if !(1949..=2100).contains(&parsed.year()) {
        return Err(FieldError::new(
            field,
            "date_out_of_range",
            Msg::new(
                "日期须在 1949 至 2100 年之间",
                "the date must lie between 1949 and 2100",
            ),
        ));
    }
    Ok(parsed)
}

/// An optional ISO date: empty means none.
pub fn optional_date(field: &str, input: &str) -> Result<Option<Date>, FieldError> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        date(field, input).map(Some)
    }
}

pub fn format_date(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// A short identifier made of letters, digits, `-` and `_` (e.g. a framework key `CY`).
pub fn key(field: &str, input: &str) -> Result<String, FieldError> {
    let s = bounded(field, input, 1, 40)?;
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(s)
    } else {
        Err(FieldError::new(
            field,
            "key_invalid",
            Msg::new(
                "只能包含英文字母、数字、- 和 _",
                "only letters, digits, - and _ are allowed",
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(bounded("name", "  奉节县 ", 1, 10).unwrap(), "奉节县");
        assert_eq!(bounded("name", "   ", 1, 10).unwrap_err().code, "required");
        assert_eq!(
            bounded("name", &"长".repeat(11), 1, 10).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            bounded("name", "a\u{0}b", 1, 10).unwrap_err().code,
            "control_character"
        );
    }

    #[test]
    fn dates_are_iso_and_plausible() {
        assert_eq!(format_date(date("d", "2023-01-28").unwrap()), "2023-01-28");
        assert_eq!(date("d", "2023-02-30").unwrap_err().code, "date_invalid");
        assert_eq!(
            date("d", "1800-01-01").unwrap_err().code,
            "date_out_of_range"
        );
        assert_eq!(optional_date("d", "").unwrap(), None);
    }

    #[test]
    fn keys_refuse_punctuation() {
        assert_eq!(key("key", "CY").unwrap(), "CY");
        assert_eq!(key("key", "C Y").unwrap_err().code, "key_invalid");
        assert_eq!(
            key("key", "'; DROP TABLE x;--").unwrap_err().code,
            "key_invalid"
        );
    }

    proptest! {
        #[test]
        fn bounded_never_exceeds_its_limit(s in "\\PC{0,80}") {
            if let Ok(v) = bounded("f", &s, 1, 40) {
                prop_assert!(v.chars().count() <= 40 && !v.is_empty());
            }
        }
    }
}
