//! `Money`: an exact amount in fen (分), never a float.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Msg};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

/// One trillion yuan: no amount in a cooperation ledger comes near it, so larger input is a typo.
const MAX_FEN: i64 = 1_000_000_000_000 * 100;

impl Money {
    pub fn from_fen(fen: i64) -> Option<Self> {
        (-MAX_FEN..=MAX_FEN).contains(&fen).then_some(Money(fen))
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    /// Parses a yuan amount with an optional Chinese scale: `1508万元`, `4.39亿`, `12.5`, `1,200元`.
    /// Digits after the point beyond what fen can hold are refused, not rounded.
    pub fn parse_yuan(field: &str, input: &str) -> Result<Self, FieldError> {
        let cleaned: String = input
            .trim()
            .chars()
            .filter(|c| *c != ',' && *c != '，')
            .collect();
        let (number, scale) = split_scale(&cleaned);
        let invalid = || {
            FieldError::new(
                field,
                "money_invalid",
                Msg::new(
                    format!("“{}”不是有效金额", input.trim()),
                    format!("“{}” is not a valid amount of money", input.trim()),
                ),
            )
        };
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if int_part.is_empty()
            || !int_part.chars().all(|c| c.is_ascii_digit())
            || !frac_part.chars().all(|c| c.is_ascii_digit())
        {
            return Err(invalid());
        }
        // fen per unit of the scale, as a power of ten: 元 → 10², 万元 → 10⁶, 亿元 → 10¹⁰.
        let exponent: u32 = 2 + scale;
        if frac_part.len() as u32 > exponent {
            return Err(invalid());
        }
        let digits = format!("{int_part}{frac_part:0<width$}", width = exponent as usize);
        let out_of_range = || {
            FieldError::new(
                field,
                "money_out_of_range",
                Msg::new("金额超出合理范围", "the amount is out of range"),
            )
        };
        // Only digits are left, so a failed parse can only mean too many of them.
        let fen: i64 = digits.parse().map_err(|_| out_of_range())?;
        Money::from_fen(fen).ok_or_else(out_of_range)
    }
}

fn split_scale(s: &str) -> (&str, u32) {
    let s = s.strip_suffix('元').unwrap_or(s);
    if let Some(n) = s.strip_suffix('亿') {
        (n, 8)
    } else if let Some(n) = s.strip_suffix('万') {
        (n, 4)
    } else {
        (s, 0)
    }
}

impl Money {
    /// The amount as ledgers print it: in 亿元 or 万元 with two decimals at most (rounded half
    /// up), exact in 元 below ten thousand. For reading; [`Display`](fmt::Display) stays exact.
    pub fn ledger(self) -> String {
        let abs = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        let (unit, divisor) = if abs >= 10_000_000_000 {
            ("亿元", 10_000_000_000u64)
        } else if abs >= 1_000_000 {
            ("万元", 1_000_000u64)
        } else {
            return self.to_string();
        };
        // Hundredths of the unit, rounded half up.
        let hundredths = (abs as u128 * 100 + divisor as u128 / 2) / divisor as u128;
        let (whole, frac) = (hundredths / 100, hundredths % 100);
        match frac {
            0 => format!("{sign}{whole}{unit}"),
            f if f % 10 == 0 => format!("{sign}{whole}.{}{unit}", f / 10),
            f => format!("{sign}{whole}.{f:02}{unit}"),
        }
    }
}

impl fmt::Display for Money {
    /// Shows the amount the way ledgers do: 亿元 from one hundred million, 万元 from ten thousand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yuan_hundredths = self.0; // fen
        let abs = yuan_hundredths.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        let (unit, divisor) = if abs >= 10_000_000_000 {
            ("亿元", 10_000_000_000u64)
        } else if abs >= 1_000_000 {
            ("万元", 1_000_000u64)
        } else {
            ("元", 100u64)
        };
        let whole = abs / divisor;
        let frac = abs % divisor;
        let mut frac_str = format!("{frac:0width$}", width = divisor.ilog10() as usize);
        while frac_str.ends_with('0') {
            frac_str.pop();
        }
        if frac_str.is_empty() {
            write!(f, "{sign}{whole}{unit}")
        } else {
            write!(f, "{sign}{whole}.{frac_str}{unit}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chinese_scales_are_exact() {
        assert_eq!(
            Money::parse_yuan("m", "4.39亿元").unwrap().fen(),
            43_900_000_000
        );
        assert_eq!(
            Money::parse_yuan("m", "1508万元").unwrap().fen(),
            1_508_000_000
        );
        assert_eq!(
            Money::parse_yuan("m", "1.875亿").unwrap().fen(),
            18_750_000_000
        );
        assert_eq!(Money::parse_yuan("m", "12.5").unwrap().fen(), 1250);
        assert_eq!(Money::parse_yuan("m", "1,200元").unwrap().fen(), 120_000);
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in ["", "abc", "1.234", "-5", "1e9", "4.39亿亿", "NaN"] {
            assert!(Money::parse_yuan("m", bad).is_err(), "{bad}");
        }
        assert_eq!(
            Money::parse_yuan("m", "99999999999亿").unwrap_err().code,
            "money_out_of_range"
        );
    }

    #[test]
    fn display_uses_ledger_units() {
        assert_eq!(
            Money::from_fen(43_900_000_000).unwrap().to_string(),
            "4.39亿元"
        );
        assert_eq!(
            Money::from_fen(1_508_000_000).unwrap().to_string(),
            "1508万元"
        );
        assert_eq!(Money::from_fen(1250).unwrap().to_string(), "12.5元");
    }

    #[test]
    fn ledger_figures_round_to_two_decimals() {
        assert_eq!(
            Money::from_fen(10_915_068_493_150).unwrap().ledger(),
            "1091.51亿元"
        );
        assert_eq!(
            Money::from_fen(43_900_000_000).unwrap().ledger(),
            "4.39亿元"
        );
        assert_eq!(Money::from_fen(1_508_000_000).unwrap().ledger(), "1508万元");
        assert_eq!(Money::from_fen(1_250).unwrap().ledger(), "12.5元");
        assert_eq!(Money::from_fen(15_000_000).unwrap().ledger(), "15万元");
    }

    proptest! {
        #[test]
        fn display_parses_back(fen in 0i64..=MAX_FEN) {
            let m = Money::from_fen(fen).unwrap();
            prop_assert_eq!(Money::parse_yuan("m", &m.to_string()).unwrap(), m);
        }
    }
}
