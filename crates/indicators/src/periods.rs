//! Reporting periods: a month (`2022-08`), a quarter (`2022-Q3`) or a year (`2022`).

use serde::Serialize;
use time::{Date, Month};
use xietong_core::error::{FieldError, Msg};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: Date,
    pub end: Date,
}

impl Period {
    pub fn parse(field: &str, input: &str) -> Result<Period, FieldError> {
        let s = input.trim();
        let bad = || {
            FieldError::new(
                field,
                "period_invalid",
                Msg::new(
                    format!("“{s}”不是有效的报送期（如 2022-08、2022-Q3、2022）"),
                    format!("“{s}” is not a period (e.g. 2022-08, 2022-Q3, 2022)"),
                ),
            )
        };
        let year = |y: &str| -> Option<i32> {
            (y.len() == 4)
                .then(|| y.parse().ok())
                .flatten()
                .filter(|y| (2000..=2100).contains(y))
        };
        let (kind, first, last) = match s.split_once('-') {
            None => (
                PeriodKind::Year,
                (year(s).ok_or_else(bad)?, 1),
                (year(s).ok_or_else(bad)?, 12),
            ),
            Some((y, q)) if q.starts_with(['Q', 'q']) => {
                let y = year(y).ok_or_else(bad)?;
                let q: u8 = q[1..]
                    .parse()
                    .ok()
                    .filter(|q| (1..=4).contains(q))
                    .ok_or_else(bad)?;
                (PeriodKind::Quarter, (y, q * 3 - 2), (y, q * 3))
            }
            Some((y, m)) => {
                let y = year(y).ok_or_else(bad)?;
                let m: u8 = (m.len() == 2)
                    .then(|| m.parse().ok())
                    .flatten()
                    .filter(|m| (1..=12).contains(m))
                    .ok_or_else(bad)?;
                (PeriodKind::Month, (y, m), (y, m))
            }
        };
        let start = first_day(first.0, first.1).ok_or_else(bad)?;
        let end = last_day(last.0, last.1).ok_or_else(bad)?;
        Ok(Period { kind, start, end })
    }

    /// The canonical text: `2022-08`, `2022-Q3`, `2022`.
    pub fn key(&self) -> String {
        match self.kind {
            PeriodKind::Month => month_key(self.start),
            PeriodKind::Quarter => {
                format!(
                    "{}-Q{}",
                    self.start.year(),
                    u8::from(self.start.month()).div_ceil(3)
                )
            }
            PeriodKind::Year => self.start.year().to_string(),
        }
    }

    /// The month the period's figures are filed under: the month it ends in.
    pub fn month(&self) -> String {
        month_key(self.end)
    }

    pub fn month_of(date: Date) -> Period {
        Period {
            kind: PeriodKind::Month,
            start: first_day(date.year(), u8::from(date.month())).unwrap_or(date),
            end: last_day(date.year(), u8::from(date.month())).unwrap_or(date),
        }
    }
}

pub fn month_key(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// The month after a `YYYY-MM` key (keys the store made; a malformed one is returned as is).
pub fn next_month(key: &str) -> String {
    shift_month(key, 1)
}

/// The month before a `YYYY-MM` key.
pub fn prev_month(key: &str) -> String {
    shift_month(key, -1)
}

fn shift_month(key: &str, by: i32) -> String {
    let parsed = key
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<i32>().ok()?)));
    match parsed {
        Some((y, m)) => {
            let index = y * 12 + (m - 1) + by;
            format!(
                "{:04}-{:02}",
                index.div_euclid(12),
                index.rem_euclid(12) + 1
            )
        }
        None => key.to_string(),
    }
}

/// Every month key from `from` through `to`, inclusive (empty when `from` is later).
pub fn months_through(from: &str, to: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut m = from.to_string();
    while m.as_str() <= to {
        let next = next_month(&m);
        if next == m {
            break;
        }
        out.push(std::mem::replace(&mut m, next));
    }
    out
}

fn first_day(y: i32, m: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, 1).ok()
}

fn last_day(y: i32, m: u8) -> Option<Date> {
    let month = Month::try_from(m).ok()?;
    Date::from_calendar_date(y, month, month.length(y)).ok()
}

/// The same day a year earlier (28 February for 29 February).
pub fn year_before(d: Date) -> Date {
    d.replace_year(d.year() - 1)
        .or_else(|_| Date::from_calendar_date(d.year() - 1, d.month(), 28))
        .unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_step_across_years() {
        assert_eq!(next_month("2022-12"), "2023-01");
        assert_eq!(prev_month("2023-01"), "2022-12");
        assert_eq!(prev_month("2022-08"), "2022-07");
        assert_eq!(
            months_through("2022-11", "2023-02"),
            ["2022-11", "2022-12", "2023-01", "2023-02"]
        );
        assert!(months_through("2023-02", "2022-11").is_empty());
        assert_eq!(months_through("2022-05", "2022-05"), ["2022-05"]);
    }

    #[test]
    fn periods_parse_to_their_days() {
        let m = Period::parse("p", "2022-08").unwrap();
        assert_eq!(
            (m.start, m.end),
            (date!(2022 - 08 - 01), date!(2022 - 08 - 31))
        );
        let q = Period::parse("p", "2022-Q1").unwrap();
        assert_eq!(
            (q.start, q.end),
            (date!(2022 - 01 - 01), date!(2022 - 03 - 31))
        );
        assert_eq!(q.month(), "2022-03");
        assert_eq!(q.key(), "2022-Q1");
        let y = Period::parse("p", "2024").unwrap();
        assert_eq!(y.end, date!(2024 - 12 - 31));
        let feb = Period::parse("p", "2024-02").unwrap();
        assert_eq!(feb.end, date!(2024 - 02 - 29));
    }

    #[test]
    fn nonsense_periods_are_refused() {
        for bad in [
            "2022-13",
            "2022-Q5",
            "22",
            "2022-8",
            "next month",
            "1999",
            "",
        ] {
            assert!(Period::parse("p", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_year_before_a_leap_day_is_the_28th() {
        assert_eq!(year_before(date!(2024 - 02 - 29)), date!(2023 - 02 - 28));
        assert_eq!(year_before(date!(2022 - 08 - 31)), date!(2021 - 08 - 31));
    }
}
