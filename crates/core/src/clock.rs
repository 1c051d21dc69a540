//! Timestamps as stored: RFC 3339, UTC, milliseconds — text that sorts in time order.

use time::{format_description::well_known::Rfc3339, OffsetDateTime};

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn format(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

pub fn now_rfc3339() -> String {
    format(now())
}

pub fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamps_round_trip_and_sort() {
        let a = super::now_rfc3339();
        let t = super::parse(&a).unwrap();
        assert_eq!(super::format(t), a);
        assert!(a.ends_with('Z'));
    }
}
