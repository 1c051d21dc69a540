//! Units and exact quantities. Every amount is stored as an integer in its dimension's base unit
//! (fen for money, 人, 人次, 个, 亩, 公斤), so 4.39亿元 is exactly 43,900,000,000 fen — no floats.

use serde::Serialize;
use xietong_core::error::{FieldError, Msg};

/// What a quantity measures; only units of one dimension convert into each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Money,
    People,
    PersonTimes,
    Count,
    Area,
    Weight,
}

impl Dimension {
    pub fn name_zh(self) -> &'static str {
        match self {
            Dimension::Money => "金额",
            Dimension::People => "人数",
            Dimension::PersonTimes => "人次",
            Dimension::Count => "个数",
            Dimension::Area => "面积",
            Dimension::Weight => "重量",
        }
    }
}

/// A unit as written in Chinese ledgers, with its exact factor to the dimension's base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub symbol: &'static str,
    pub dimension: Dimension,
    /// Base units per one of this unit, as a power of ten.
    pub exponent: u32,
}

/// Every unit we read, longest symbols first so `万元` wins over `元`.
pub const UNITS: &[Unit] = &[
    unit("亿元", Dimension::Money, 10),
    unit("万元", Dimension::Money, 6),
    unit("元", Dimension::Money, 2),
    unit("万人次", Dimension::PersonTimes, 4),
    unit("人次", Dimension::PersonTimes, 0),
    unit("万人", Dimension::People, 4),
    unit("人", Dimension::People, 0),
    unit("名", Dimension::People, 0),
    unit("万个", Dimension::Count, 4),
    unit("个", Dimension::Count, 0),
    unit("项", Dimension::Count, 0),
    unit("次", Dimension::Count, 0),
    unit("对", Dimension::Count, 0),
    unit("家", Dimension::Count, 0),
    unit("万亩", Dimension::Area, 4),
    unit("亩", Dimension::Area, 0),
    unit("万公斤", Dimension::Weight, 4),
    unit("吨", Dimension::Weight, 3),
    unit("公斤", Dimension::Weight, 0),
];

const fn unit(symbol: &'static str, dimension: Dimension, exponent: u32) -> Unit {
    Unit {
        symbol,
        dimension,
        exponent,
    }
}

/// Larger than any figure a pairing could report in base units (a trillion yuan in fen).
const MAX_BASE: i128 = 100_000_000_000_000;

impl Unit {
    pub fn parse(symbol: &str) -> Option<Unit> {
        UNITS.iter().copied().find(|u| u.symbol == symbol.trim())
    }

    /// The dimension's base unit symbol (元 for money, shown in yuan although stored in fen).
    pub fn display_base(self) -> &'static str {
        match self.dimension {
            Dimension::Money => "元",
            Dimension::People => "人",
            Dimension::PersonTimes => "人次",
            Dimension::Count => self.symbol.trim_start_matches('万'),
            Dimension::Area => "亩",
            Dimension::Weight => "公斤",
        }
    }

    /// Base units per one of this unit.
    pub fn factor(self) -> i64 {
        10_i64.pow(self.exponent)
    }
}

fn field_error(field: &str, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new(field, code, Msg::new(zh, en))
}

/// Reads `input` (`4.39亿元`, `1,200`, `7.5万亩`) as an exact amount in the base of `expected`'s
/// dimension. A unit written in the input must belong to that dimension; without one, the
/// number is read in `expected`. Digits finer than the base unit are refused, never rounded.
pub fn parse_quantity(field: &str, input: &str, expected: Unit) -> Result<i64, FieldError> {
    let raw = input.trim();
    let cleaned: String = raw
        .chars()
        .filter(|c| *c != ',' && *c != '，' && !c.is_whitespace())
        .collect();
    let (number, unit) = split_unit(&cleaned, expected);
    let unit = match unit {
        None => expected,
        Some(u) if u.dimension == expected.dimension && u != SCALE_WITHOUT_UNIT => u,
        Some(u) => {
            return Err(field_error(
                field,
                "unit_mismatch",
                format!(
                    "“{raw}”的单位“{}”与指标单位“{}”不符",
                    u.symbol, expected.symbol
                ),
                format!(
                    "the unit “{}” in “{raw}” does not fit the indicator's unit “{}”",
                    u.symbol, expected.symbol
                ),
            ))
        }
    };
    let not_a_number = || {
        field_error(
            field,
            "not_a_number",
            format!("“{raw}”不是数字"),
            format!("“{raw}” is not a number"),
        )
    };
    if number.starts_with('-') {
        return Err(field_error(
            field,
            "negative",
            format!("“{raw}”为负数，本指标只接受非负数"),
            format!("“{raw}” is negative; this indicator takes non-negative figures"),
        ));
    }
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty()
        || !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return Err(not_a_number());
    }
    let frac_part = frac_part.trim_end_matches('0');
    if frac_part.len() as u32 > unit.exponent {
        return Err(field_error(
            field,
            "too_precise",
            format!("“{raw}”精度超出{}的最小单位", unit.display_base()),
            format!(
                "“{raw}” is finer than one {}, the smallest unit kept",
                unit.display_base()
            ),
        ));
    }
    let digits = format!(
        "{int_part}{frac_part:0<width$}",
        width = unit.exponent as usize
    );
    let out_of_range = || {
        field_error(
            field,
            "out_of_range",
            format!("“{raw}”超出合理范围"),
            format!("“{raw}” is out of range"),
        )
    };
    let value: i128 = digits.parse().map_err(|_| out_of_range())?;
    if value > MAX_BASE {
        return Err(out_of_range());
    }
    Ok(value as i64)
}

fn split_unit(s: &str, expected: Unit) -> (&str, Option<Unit>) {
    for u in UNITS {
        if let Some(n) = s.strip_suffix(u.symbol) {
            return (n, Some(*u));
        }
    }
    // A bare Chinese scale (`4.39亿`) scales the expected dimension's base: 亿 + 元 = 亿元.
    for scale in ["亿", "万"] {
        if let Some(n) = s.strip_suffix(scale) {
            let symbol = format!("{scale}{}", expected.display_base());
            return (n, Unit::parse(&symbol).or(Some(SCALE_WITHOUT_UNIT)));
        }
    }
    (s, None)
}

/// Stands for a scale with no unit of that size in the expected dimension (亿人): refused.
const SCALE_WITHOUT_UNIT: Unit = unit("亿/万", Dimension::Count, 0);

/// Shows a base amount in `unit`, exactly (trailing zeros dropped): 43,900,000,000 fen in 亿元 is
/// `4.39`.
pub fn format_in(amount: i64, unit: Unit) -> String {
    let factor = unit.factor();
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let whole = abs / factor as u64;
    let frac = abs % factor as u64;
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{frac:0width$}", width = unit.exponent as usize);
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

/// The amount as people read it: money in 亿元/万元, big counts in 万, with the unit.
pub fn display(amount: i64, unit: Unit) -> String {
    match unit.dimension {
        Dimension::Money => xietong_core::domain::Money::from_fen(amount)
            .map(|m| m.ledger())
            .unwrap_or_else(|| format!("{}元", format_in(amount, unit))),
        _ => format!("{}{}", group_thousands(amount), unit.display_base()),
    }
}

fn group_thousands(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u(s: &str) -> Unit {
        Unit::parse(s).unwrap()
    }

    #[test]
    fn seed_figures_convert_exactly() {
        assert_eq!(
            parse_quantity("v", "4.39亿元", u("元")).unwrap(),
            43_900_000_000
        );
        assert_eq!(
            parse_quantity("v", "4.39", u("亿元")).unwrap(),
            43_900_000_000
        );
        assert_eq!(
            parse_quantity("v", "1.875亿", u("万元")).unwrap(),
            18_750_000_000,
            "a bare 亿 scales the indicator's base unit"
        );
        assert_eq!(
            parse_quantity("v", "2亿", u("人")).unwrap_err().code,
            "unit_mismatch"
        );
        assert_eq!(parse_quantity("v", "7.5万亩", u("亩")).unwrap(), 75_000);
        assert_eq!(parse_quantity("v", "3,187", u("人")).unwrap(), 3187);
        assert_eq!(
            parse_quantity("v", "12.5万公斤", u("公斤")).unwrap(),
            125_000
        );
    }

    #[test]
    fn wrong_units_text_and_fractions_are_refused() {
        assert_eq!(
            parse_quantity("v", "2300亩", u("元")).unwrap_err().code,
            "unit_mismatch"
        );
        assert_eq!(
            parse_quantity("v", "很多", u("人")).unwrap_err().code,
            "not_a_number"
        );
        assert_eq!(
            parse_quantity("v", "1.5", u("人")).unwrap_err().code,
            "too_precise"
        );
        assert_eq!(
            parse_quantity("v", "-3", u("个")).unwrap_err().code,
            "negative"
        );
        assert_eq!(
            parse_quantity("v", "0.001", u("元")).unwrap_err().code,
            "too_precise"
        );
        assert_eq!(
            parse_quantity("v", "99999999999亿元", u("元"))
                .unwrap_err()
                .code,
            "out_of_range"
        );
    }

    #[test]
    fn display_reads_like_a_ledger() {
        assert_eq!(display(43_900_000_000, u("元")), "4.39亿元");
        assert_eq!(display(60_000, u("个")), "60,000个");
        assert_eq!(format_in(18_750_000_000, u("亿元")), "1.875");
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(n in 0i64..10_000_000_000_000, i in 0usize..UNITS.len()) {
            let unit = UNITS[i];
            let base_unit = UNITS.iter().copied().find(|x| x.dimension == unit.dimension && x.exponent == UNITS.iter().filter(|y| y.dimension == unit.dimension).map(|y| y.exponent).min().unwrap()).unwrap();
            let text = format!("{}{}", format_in(n, base_unit), base_unit.symbol);
            prop_assert_eq!(parse_quantity("v", &text, unit).unwrap(), n);
            let scaled = format!("{}{}", format_in(n, unit), unit.symbol);
            prop_assert_eq!(parse_quantity("v", &scaled, base_unit).unwrap(), n);
        }
    }
}
