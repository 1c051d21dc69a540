//! `RegionCode`: a GB/T 2260 administrative division code, or one of Xietong's zone codes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Msg};

/// Province-level prefixes that GB/T 2260 assigns (11 Beijing … 82 Macao).
const PROVINCE_PREFIXES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// The prefecture part GB/T 2260 never uses; Xietong gives functional zones (national new
/// areas, high-tech zones) codes `PP99NN` under their province so they can be pairing parties.
pub const ZONE_PREFECTURE_PART: &str = "99";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionLevel {
    Province,
    Prefecture,
    County,
    Zone,
}

impl RegionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::Prefecture => "prefecture",
            RegionLevel::County => "county",
            RegionLevel::Zone => "zone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "province" => Some(RegionLevel::Province),
            "prefecture" => Some(RegionLevel::Prefecture),
            "county" => Some(RegionLevel::County),
            "zone" => Some(RegionLevel::Zone),
            _ => None,
        }
    }
}

/// A six-digit region code whose province part exists. Construct it with [`RegionCode::parse`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct RegionCode([u8; 6]);

impl RegionCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        let bytes = s.as_bytes();
        if bytes.len() != 6 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(invalid(
                format!("“{}”不是六位数字的行政区划代码", truncate(s)),
                format!("“{}” is not a six-digit GB/T 2260 region code", truncate(s)),
            ));
        }
        let province = (bytes[0] - b'0') * 10 + (bytes[1] - b'0');
        if !PROVINCE_PREFIXES.contains(&province) {
            return Err(invalid(
                format!("区划代码“{s}”的省级部分 {province} 不存在"),
                format!("region code “{s}” has no province {province}"),
            ));
        }
        let mut code = [0u8; 6];
        code.copy_from_slice(bytes);
        Ok(RegionCode(code))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("000000")
    }

    /// The level the code's shape implies: `PP0000` province, `PPCC00` prefecture, `PP99NN` zone.
    pub fn level(&self) -> RegionLevel {
        let s = self.as_str();
        if &s[2..] == "0000" {
            RegionLevel::Province
        } else if &s[2..4] == ZONE_PREFECTURE_PART {
            RegionLevel::Zone
        } else if &s[4..] == "00" {
            RegionLevel::Prefecture
        } else {
            RegionLevel::County
        }
    }

    /// The province this code lies in.
    pub fn province(&self) -> RegionCode {
        let mut code = self.0;
        code[2..].copy_from_slice(b"0000");
        RegionCode(code)
    }

    /// True when `self` is `other` or lies inside it, judged by the code's prefix.
    /// (Zones count as inside their province.)
    pub fn is_within(&self, other: &RegionCode) -> bool {
        let (me, them) = (self.as_str(), other.as_str());
        match other.level() {
            RegionLevel::Province => me[..2] == them[..2],
            RegionLevel::Prefecture => me[..4] == them[..4],
            RegionLevel::County | RegionLevel::Zone => me == them,
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(20).collect()
}

fn invalid(zh: String, en: String) -> FieldError {
    FieldError::new("region", "region_code_invalid", Msg::new(zh, en))
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.as_str())
    }
}

impl From<RegionCode> for String {
    fn from(c: RegionCode) -> String {
        c.as_str().to_string()
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RegionCode::parse(&s).map_err(|e| serde::de::Error::custom(e.message.en))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn levels_follow_the_code_shape() {
        assert_eq!(code("500000").level(), RegionLevel::Province);
        assert_eq!(code("371600").level(), RegionLevel::Prefecture);
        assert_eq!(code("500236").level(), RegionLevel::County);
        assert_eq!(code("509901").level(), RegionLevel::Zone);
    }

    #[test]
    fn malformed_codes_are_refused_with_the_reason() {
        for bad in ["", "50023", "5002366", "50023x", "990000", "００００００"] {
            let err = RegionCode::parse(bad).unwrap_err();
            assert_eq!(err.code, "region_code_invalid", "{bad}");
        }
        assert!(RegionCode::parse("990000")
            .unwrap_err()
            .message
            .en
            .contains("province 99"));
    }

    #[test]
    fn containment_follows_the_hierarchy() {
        assert!(code("500236").is_within(&code("500000")));
        assert!(code("510703").is_within(&code("510700")));
        assert!(!code("510703").is_within(&code("510800")));
        assert!(code("509901").is_within(&code("500000")));
        assert!(!code("500236").is_within(&code("510000")));
        assert_eq!(code("500236").province(), code("500000"));
    }

    proptest! {
        #[test]
        fn parse_display_round_trips(p in proptest::sample::select(PROVINCE_PREFIXES), rest in 0u32..10000) {
            let s = format!("{p:02}{rest:04}");
            let c = RegionCode::parse(&s).unwrap();
            prop_assert_eq!(c.to_string(), s);
            prop_assert!(c.is_within(&c.province()));
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,12}") {
            let _ = RegionCode::parse(&s);
        }
    }
}
