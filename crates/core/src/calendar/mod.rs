//! China's working-day calendar (工作日历): weekends, statutory holidays and
//! adjusted working days (调休).
//!
//! Pure: no I/O and no database. The real data for 2020–2026 is embedded at
//! compile time from `crates/core/data/calendar/cn-holidays.csv`
//! ([`Calendar::china`]); more years can be added with [`Calendar::load_years`].
//!
//! Rule: a `workday` entry is a working day, a `holiday` entry is not, any other
//! day is a working day iff it is Monday–Friday. For a date whose year is not
//! loaded only the weekend rule applies, and every answer that had to look at
//! such a date is marked [`Answer::provisional`].

mod error;
mod parse;
mod rules;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset, Weekday};

pub use error::CalendarError;

/// The embedded statutory calendar (header `date,kind,name_zh,name_en`).
const CN_HOLIDAYS_CSV: &str = include_str!("../../data/calendar/cn-holidays.csv");

/// Asia/Shanghai as a fixed offset.
///
/// China Standard Time is UTC+08:00 all year round: China has observed no
/// daylight-saving time since 1991, so for every date this calendar deals with
/// a fixed offset is exact and no time-zone database is needed.
pub const SHANGHAI_OFFSET: UtcOffset = time::macros::offset!(+8);

/// The calendar date in Asia/Shanghai (UTC+08:00) at instant `t`.
pub fn shanghai_date(t: OffsetDateTime) -> Date {
    // Only fails at the very ends of `time`'s range; the UTC date is then the best answer.
    t.checked_to_offset(SHANGHAI_OFFSET)
        .map_or_else(|| t.date(), OffsetDateTime::date)
}

/// Saturday or Sunday.
pub(crate) fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// What a calendar entry says about its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DayKind {
    /// A statutory day off (法定节假日), on any day of the week.
    Holiday,
    /// An adjusted working day (调休上班) on a Saturday or Sunday.
    Workday,
}

/// One line of the statutory calendar. Serialises its date as `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    /// The date concerned.
    #[serde(with = "iso_date")]
    pub date: Date,
    /// Day off or make-up working day.
    pub kind: DayKind,
    /// Chinese name, e.g. `春节`.
    pub name_zh: String,
    /// English name, e.g. `Spring Festival`.
    pub name_en: String,
}

/// A count of working days, at most [`WorkingDays::MAX`] (about ten years).
///
/// Serialises as a plain number; deserialising applies the same check as
/// [`WorkingDays::new`].
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct WorkingDays(u32);

impl WorkingDays {
    /// The largest accepted count.
    pub const MAX: u32 = 3650;

    /// `n` working days; refuses `n > 3650`.
    pub fn new(n: u32) -> Result<Self, CalendarError> {
        if n > Self::MAX {
            return Err(CalendarError::TooManyWorkingDays {
                value: n,
                max: Self::MAX,
            });
        }
        Ok(Self(n))
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for WorkingDays {
    type Error = CalendarError;

    fn try_from(n: u32) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

impl From<WorkingDays> for u32 {
    fn from(n: WorkingDays) -> Self {
        n.0
    }
}

impl fmt::Display for WorkingDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A computed value, and whether it is provisional.
///
/// `provisional` is true when any date the computation had to look at lies in a
/// year whose calendar is not loaded; such dates were judged by the weekend
/// rule alone, and the value may change once that year's holidays are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Answer<T> {
    /// The result.
    pub value: T,
    /// True when the weekend-only rule had to stand in for a missing year.
    pub provisional: bool,
}

/// The working-day calendar: statutory entries by date and the set of loaded years.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    entries: BTreeMap<Date, CalendarEntry>,
    years: BTreeSet<i32>,
}

impl Calendar {
    /// An empty calendar: no year loaded, every answer provisional.
    pub fn new() -> Self {
        Self::default()
    }

    /// China's calendar from the embedded `cn-holidays.csv`.
    pub fn china() -> Result<Self, CalendarError> {
        Self::from_entries(Self::parse_csv(CN_HOLIDAYS_CSV)?)
    }

    /// Parses CSV text with the header `date,kind,name_zh,name_en` (dates
    /// `YYYY-MM-DD`, kind `holiday` or `workday`; blank lines and lines starting
    /// with `#` are skipped). Errors name the line, the field and the reason,
    /// and duplicate dates and `workday` rows on Monday–Friday are refused here
    /// already.
    pub fn parse_csv(text: &str) -> Result<Vec<CalendarEntry>, CalendarError> {
        parse::parse_csv(text)
    }

    /// A calendar of `entries`; the years loaded are those that have an entry.
    /// Refuses duplicate dates and `workday` entries on Monday–Friday
    /// (holidays may fall on any day).
    pub fn from_entries(
        entries: impl IntoIterator<Item = CalendarEntry>,
    ) -> Result<Self, CalendarError> {
        let mut calendar = Self::new();
        calendar.load_years(entries)?;
        Ok(calendar)
    }

    /// Adds entries, checked as in [`Calendar::from_entries`]. Every year that
    /// has an entry among `entries` is replaced entirely (its old entries are
    /// dropped) and counts as loaded. On error nothing changes.
    pub fn load_years(
        &mut self,
        entries: impl IntoIterator<Item = CalendarEntry>,
    ) -> Result<(), CalendarError> {
        let mut new: BTreeMap<Date, CalendarEntry> = BTreeMap::new();
        for entry in entries {
            if entry.kind == DayKind::Workday && !is_weekend(entry.date) {
                return Err(CalendarError::WorkdayOnWeekday {
                    date: entry.date,
                    weekday: entry.date.weekday(),
                });
            }
            if new.contains_key(&entry.date) {
                return Err(CalendarError::DuplicateDate { date: entry.date });
            }
            new.insert(entry.date, entry);
        }
        let years: BTreeSet<i32> = new.keys().map(|d| d.year()).collect();
        self.entries.retain(|d, _| !years.contains(&d.year()));
        self.entries.append(&mut new);
        self.years.extend(years);
        Ok(())
    }

    /// The loaded years, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// Whether `year`'s statutory calendar is loaded.
    pub fn is_loaded(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The entry for `date`, if any.
    pub fn entry(&self, date: Date) -> Option<&CalendarEntry> {
        self.entries.get(&date)
    }

    /// All entries, by date.
    pub fn entries(&self) -> impl Iterator<Item = &CalendarEntry> + '_ {
        self.entries.values()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn entry(date: Date, kind: DayKind) -> CalendarEntry {
        CalendarEntry {
            date,
            kind,
            name_zh: "测试".to_owned(),
            name_en: "Test".to_owned(),
        }
    }

    fn firm<T>(value: T) -> Answer<T> {
        Answer {
            value,
            provisional: false,
        }
    }

    /// Uses the real embedded CSV.
    #[test]
    fn real_calendar_2023() {
        let cn = Calendar::china().expect("embedded calendar is valid");
        let working = |d: Date| cn.is_working_day(d);

        // Saturday 2023-01-28: make-up working day (the "新春第一会" was held that day).
        assert_eq!(working(date!(2023 - 01 - 28)), firm(true));
        assert_eq!(
            working(date!(2023 - 01 - 29)),
            firm(true),
            "Sunday make-up day"
        );
        assert_eq!(
            working(date!(2023 - 01 - 23)),
            firm(false),
            "Spring Festival"
        );
        // National Day / Mid-Autumn 2023: off 09-29..10-06, make-up working days
        // Sat 10-07 and Sun 10-08 (so 10-07 *is* a working day).
        let mut d = date!(2023 - 09 - 29);
        while d <= date!(2023 - 10 - 06) {
            assert_eq!(working(d), firm(false), "{d}");
            d = d.next_day().expect("in range");
        }
        assert_eq!(working(date!(2023 - 10 - 07)), firm(true));
        assert_eq!(working(date!(2023 - 10 - 08)), firm(true));
        assert_eq!(
            working(date!(2023 - 03 - 04)),
            firm(false),
            "plain Saturday"
        );
        assert_eq!(working(date!(2023 - 03 - 06)), firm(true), "plain Monday");

        let later = working(date!(2031 - 03 - 03));
        assert!(later.value && later.provisional);
        assert!((2020..=2026).all(|y| cn.is_loaded(y)));
        assert!(!cn.is_loaded(2031));
        assert!(cn.years().eq(2020..=2026));

        // Widely published totals: 249 working days in 2023, 251 in 2024.
        let year = |y: i32| {
            let last_of =
                |y| Date::from_calendar_date(y, time::Month::December, 31).expect("valid");
            cn.working_days_between(last_of(y - 1), last_of(y))
        };
        assert_eq!(year(2023), firm(249));
        assert_eq!(year(2024), firm(251));

        // Friday 2023-01-20 + 1 working day skips the Spring Festival week.
        let n = WorkingDays::new(1).expect("small");
        assert_eq!(
            cn.add_working_days(date!(2023 - 01 - 20), n),
            firm(date!(2023 - 01 - 28))
        );
    }

    #[test]
    fn working_days_bounds_display_and_serde() {
        assert!(WorkingDays::new(3650).is_ok());
        assert_eq!(
            WorkingDays::new(4000).map_err(|e| e.to_string()),
            Err("4000 working days is more than the maximum of 3650".to_owned())
        );
        let five = WorkingDays::new(5).expect("small");
        assert_eq!(five.get(), 5);
        assert_eq!(five.to_string(), "5");
        assert_eq!(serde_json::to_string(&five).expect("serialise"), "5");
        assert_eq!(
            serde_json::from_str::<WorkingDays>("5").expect("parse"),
            five
        );
        assert!(serde_json::from_str::<WorkingDays>("4000").is_err());
    }

    #[test]
    fn entry_and_kind_serde() {
        let e = entry(date!(2023 - 01 - 28), DayKind::Workday);
        let json = serde_json::to_string(&e).expect("serialise");
        assert_eq!(
            json,
            r#"{"date":"2023-01-28","kind":"workday","name_zh":"测试","name_en":"Test"}"#
        );
        assert_eq!(
            serde_json::from_str::<CalendarEntry>(&json).expect("parse"),
            e
        );
        assert_eq!(
            serde_json::to_string(&DayKind::Holiday).expect("ser"),
            r#""holiday""#
        );
    }

    #[test]
    fn from_entries_refuses_duplicates_and_weekday_workdays() {
        let dup = Calendar::from_entries([
            entry(date!(2023 - 01 - 23), DayKind::Holiday),
            entry(date!(2023 - 01 - 23), DayKind::Holiday),
        ]);
        assert_eq!(
            dup,
            Err(CalendarError::DuplicateDate {
                date: date!(2023 - 01 - 23)
            })
        );
        let wd = Calendar::from_entries([entry(date!(2023 - 01 - 25), DayKind::Workday)]);
        assert_eq!(
            wd.map_err(|e| e.to_string()),
            Err("2023-01-25 is a Wednesday: a `workday` entry (adjusted working day, 调休) must fall on a Saturday or Sunday".to_owned())
        );
        // A holiday on a weekend is fine.
        assert!(Calendar::from_entries([entry(date!(2023 - 01 - 22), DayKind::Holiday)]).is_ok());
    }

    #[test]
    fn load_years_replaces_whole_years() {
        let mut cal = Calendar::from_entries([
            entry(date!(2023 - 01 - 23), DayKind::Holiday),
            entry(date!(2023 - 05 - 01), DayKind::Holiday),
            entry(date!(2024 - 01 - 01), DayKind::Holiday),
        ])
        .expect("valid");
        assert!(cal.years().eq([2023, 2024]));
        cal.load_years([entry(date!(2023 - 10 - 02), DayKind::Holiday)])
            .expect("valid");
        assert!(cal.entry(date!(2023 - 01 - 23)).is_none());
        assert!(cal.entry(date!(2023 - 05 - 01)).is_none());
        assert!(cal.entry(date!(2023 - 10 - 02)).is_some());
        assert!(cal.entry(date!(2024 - 01 - 01)).is_some());
        cal.load_years([entry(date!(2025 - 01 - 01), DayKind::Holiday)])
            .expect("valid");
        assert!(cal.years().eq([2023, 2024, 2025]));
        assert_eq!(cal.entries().count(), 3);

        // A refused batch changes nothing.
        let before = cal.clone();
        let bad = [
            entry(date!(2026 - 01 - 01), DayKind::Holiday),
            entry(date!(2026 - 01 - 07), DayKind::Workday),
        ];
        assert!(cal.load_years(bad).is_err());
        assert_eq!(cal, before);
    }

    #[test]
    fn shanghai_dates() {
        // 16:00 UTC is midnight in Shanghai.
        assert_eq!(
            shanghai_date(datetime!(2023-01-27 15:59:59 UTC)),
            date!(2023 - 01 - 27)
        );
        assert_eq!(
            shanghai_date(datetime!(2023-01-27 16:00:00 UTC)),
            date!(2023 - 01 - 28)
        );
        assert_eq!(
            shanghai_date(datetime!(2023-01-28 07:00:00 -05:00)),
            date!(2023 - 01 - 28)
        );
        assert_eq!(
            shanghai_date(datetime!(2023-01-28 23:30:00 +08:00)),
            date!(2023 - 01 - 28)
        );
    }
}
