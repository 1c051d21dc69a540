//! Working-day arithmetic on a [`Calendar`].

use std::cmp::Ordering;

use time::{Date, OffsetDateTime};

use super::{is_weekend, shanghai_date, Answer, Calendar, DayKind, WorkingDays};

impl Calendar {
    /// Whether `date` is a working day: a `workday` entry → yes, a `holiday`
    /// entry → no, otherwise Monday–Friday → yes and Saturday/Sunday → no.
    /// Provisional when `date`'s year is not loaded.
    pub fn is_working_day(&self, date: Date) -> Answer<bool> {
        Answer {
            value: self.working(date),
            provisional: !self.is_loaded(date.year()),
        }
    }

    /// The `n`-th working day after `start`.
    ///
    /// `start` itself is not counted: with `n = 1` the answer is the first
    /// working day strictly after `start`. With `n = 0` the answer is `start`
    /// if it is a working day, else the next working day after it.
    /// For a working day `start`, `working_days_between(start, answer) == n`.
    ///
    /// Provisional when any day from `start` (`n = 0`) or the day after it
    /// (`n > 0`) up to the answer lies in a year that is not loaded. At the very
    /// end of `time`'s date range the walk stops at the last representable
    /// date, and the answer is then marked provisional.
    pub fn add_working_days(&self, start: Date, n: WorkingDays) -> Answer<Date> {
        let mut date = start;
        let mut remaining = n.get();
        let mut ran_out = false;
        let first_looked_at;
        if remaining == 0 {
            first_looked_at = start;
            while !self.working(date) {
                match date.next_day() {
                    Some(next) => date = next,
                    None => {
                        ran_out = true;
                        break;
                    }
                }
            }
        } else {
            first_looked_at = start.next_day().unwrap_or(start);
            while remaining > 0 {
                match date.next_day() {
                    Some(next) => date = next,
                    None => {
                        ran_out = true;
                        break;
                    }
                }
                if self.working(date) {
                    remaining -= 1;
                }
            }
        }
        Answer {
            value: date,
            provisional: ran_out || !self.all_loaded(first_looked_at, date),
        }
    }

    /// The number of working days `d` with `from < d <= to`; when `to < from`,
    /// minus the number with `to < d <= from`. Zero when `from == to`.
    ///
    /// Provisional when any day in that half-open range lies in a year that is
    /// not loaded. Counts weekdays arithmetically and then adjusts for the
    /// entries in range, so long spans are cheap.
    pub fn working_days_between(&self, from: Date, to: Date) -> Answer<i64> {
        match from.cmp(&to) {
            Ordering::Equal => Answer {
                value: 0,
                provisional: false,
            },
            Ordering::Less => self.count_after_through(from, to),
            Ordering::Greater => {
                let back = self.count_after_through(to, from);
                Answer {
                    value: -back.value,
                    provisional: back.provisional,
                }
            }
        }
    }

    /// [`Calendar::working_days_between`] on the Asia/Shanghai dates of two instants.
    pub fn working_days_between_instants(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Answer<i64> {
        self.working_days_between(shanghai_date(from), shanghai_date(to))
    }

    /// The working-day rule itself, without provisional tracking.
    fn working(&self, date: Date) -> bool {
        match self.entries.get(&date).map(|e| e.kind) {
            Some(DayKind::Workday) => true,
            Some(DayKind::Holiday) => false,
            None => !is_weekend(date),
        }
    }

    /// Whether every year from `first`'s to `last`'s is loaded.
    fn all_loaded(&self, first: Date, last: Date) -> bool {
        (first.year()..=last.year()).all(|y| self.is_loaded(y))
    }

    /// Working days `d` with `from < d <= to`, for `from < to`.
    fn count_after_through(&self, from: Date, to: Date) -> Answer<i64> {
        let first = from.next_day().unwrap_or(to);
        let mut count = weekdays_through(to) - weekdays_through(from);
        for (&date, entry) in self.entries.range(first..=to) {
            let by_entry = entry.kind == DayKind::Workday;
            let by_weekday = !is_weekend(date);
            count += i64::from(by_entry) - i64::from(by_weekday);
        }
        Answer {
            value: count,
            provisional: !self.all_loaded(first, to),
        }
    }
}

/// A running count of Mondays–Fridays up to and including `date`, from an
/// arbitrary fixed origin: `weekdays_through(b) - weekdays_through(a)` is the
/// number of Mondays–Fridays `d` with `a < d <= b`.
fn weekdays_through(date: Date) -> i64 {
    let since_monday = i64::from(date.weekday().number_days_from_monday());
    let week = (i64::from(date.to_julian_day()) - since_monday).div_euclid(7);
    5 * week + (since_monday + 1).min(5)
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use time::macros::{date, datetime};
    use time::Duration;

    use super::*;

    /// A small inline calendar for 2023 only (Spring Festival and National Day weeks).
    const CSV_2023: &str = "\
date,kind,name_zh,name_en
2023-01-21,holiday,春节,Spring Festival
2023-01-22,holiday,春节,Spring Festival
2023-01-23,holiday,春节,Spring Festival
2023-01-24,holiday,春节,Spring Festival
2023-01-25,holiday,春节,Spring Festival
2023-01-26,holiday,春节,Spring Festival
2023-01-27,holiday,春节,Spring Festival
2023-01-28,workday,春节调休,Spring Festival make-up working day
2023-01-29,workday,春节调休,Spring Festival make-up working day
2023-09-29,holiday,中秋节,Mid-Autumn Festival
2023-09-30,holiday,国庆节,National Day
2023-10-01,holiday,国庆节,National Day
2023-10-02,holiday,国庆节,National Day
2023-10-03,holiday,国庆节,National Day
2023-10-04,holiday,国庆节,National Day
2023-10-05,holiday,国庆节,National Day
2023-10-06,holiday,国庆节,National Day
2023-10-07,workday,国庆节调休,National Day make-up working day
2023-10-08,workday,国庆节调休,National Day make-up working day
";

    fn small() -> Calendar {
        Calendar::from_entries(Calendar::parse_csv(CSV_2023).expect("valid")).expect("valid")
    }

    fn china() -> &'static Calendar {
        static CN: OnceLock<Calendar> = OnceLock::new();
        CN.get_or_init(|| Calendar::china().expect("embedded calendar is valid"))
    }

    fn wd(n: u32) -> WorkingDays {
        WorkingDays::new(n).expect("small")
    }

    /// Reference count by walking day by day.
    fn count_by_loop(cal: &Calendar, from: Date, to: Date) -> i64 {
        let (lo, hi, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut n = 0;
        let mut d = lo;
        while d < hi {
            d = d.next_day().expect("in range");
            n += i64::from(cal.working(d));
        }
        sign * n
    }

    #[test]
    fn inline_calendar_rules() {
        let cal = small();
        assert_eq!(
            cal.is_working_day(date!(2023 - 01 - 28)),
            Answer {
                value: true,
                provisional: false
            }
        );
        assert!(!cal.is_working_day(date!(2023 - 01 - 23)).value);
        assert!(!cal.is_working_day(date!(2023 - 03 - 04)).value);
        assert!(cal.is_working_day(date!(2023 - 03 - 03)).value);
        assert_eq!(
            cal.is_working_day(date!(2024 - 01 - 06)),
            Answer {
                value: false,
                provisional: true
            }
        );
    }

    #[test]
    fn add_working_days_conventions() {
        let cal = small();
        let fri = date!(2023 - 01 - 20);
        assert_eq!(cal.add_working_days(fri, wd(0)).value, fri);
        assert_eq!(
            cal.add_working_days(fri, wd(1)).value,
            date!(2023 - 01 - 28)
        );
        assert_eq!(
            cal.add_working_days(fri, wd(2)).value,
            date!(2023 - 01 - 29)
        );
        assert_eq!(
            cal.add_working_days(fri, wd(3)).value,
            date!(2023 - 01 - 30)
        );
        // n = 0 on a day off moves to the next working day.
        assert_eq!(
            cal.add_working_days(date!(2023 - 01 - 23), wd(0)).value,
            date!(2023 - 01 - 28)
        );
        assert_eq!(
            cal.add_working_days(date!(2023 - 03 - 04), wd(0)).value,
            date!(2023 - 03 - 06)
        );
        // Crossing into an unloaded year is provisional; ending in 2023 is not.
        let late = cal.add_working_days(date!(2023 - 12 - 29), wd(1));
        assert_eq!(
            late,
            Answer {
                value: date!(2024 - 01 - 01),
                provisional: true
            }
        );
        let from_2022 = cal.add_working_days(date!(2022 - 12 - 31), wd(1));
        assert_eq!(
            from_2022,
            Answer {
                value: date!(2023 - 01 - 02),
                provisional: false
            }
        );
        // The last representable date: stops there, provisional.
        assert!(cal.add_working_days(Date::MAX, wd(1)).provisional);
    }

    #[test]
    fn between_conventions() {
        let cal = small();
        let fri = date!(2023 - 01 - 20);
        assert_eq!(
            cal.working_days_between(fri, fri),
            Answer {
                value: 0,
                provisional: false
            }
        );
        assert_eq!(
            cal.working_days_between(fri, date!(2023 - 01 - 28)).value,
            1
        );
        assert_eq!(
            cal.working_days_between(fri, date!(2023 - 01 - 27)).value,
            0
        );
        assert_eq!(
            cal.working_days_between(date!(2023 - 01 - 28), fri).value,
            -1
        );
        // Sep 28 (Thu) .. Oct 9 (Mon): working days are Oct 7, 8, 9.
        assert_eq!(
            cal.working_days_between(date!(2023 - 09 - 28), date!(2023 - 10 - 09))
                .value,
            3
        );
        // 2023 has 260 weekdays; 5 weekday holidays in Jan, 6 in Sep/Oct; +4 make-up days.
        let year = cal.working_days_between(date!(2022 - 12 - 31), date!(2023 - 12 - 31));
        assert_eq!(
            year,
            Answer {
                value: 260 - 5 - 6 + 4,
                provisional: false
            }
        );
        assert!(
            cal.working_days_between(date!(2023 - 12 - 31), date!(2024 - 01 - 02))
                .provisional
        );
        assert!(
            cal.working_days_between(date!(2024 - 01 - 02), date!(2023 - 12 - 31))
                .provisional
        );
        assert_eq!(
            cal.working_days_between(date!(2023 - 01 - 01), date!(2033 - 01 - 01))
                .value,
            count_by_loop(&cal, date!(2023 - 01 - 01), date!(2033 - 01 - 01))
        );
    }

    #[test]
    fn between_instants_uses_shanghai_dates() {
        let cal = small();
        // 2023-01-27 17:00 UTC is already Saturday 2023-01-28 01:00 in Shanghai.
        let from = datetime!(2023-01-20 10:00 UTC);
        assert_eq!(
            cal.working_days_between_instants(from, datetime!(2023-01-27 15:00 UTC))
                .value,
            0
        );
        assert_eq!(
            cal.working_days_between_instants(from, datetime!(2023-01-27 17:00 UTC))
                .value,
            1
        );
    }

    const FIRST: Date = date!(2020 - 01 - 01);
    const SPAN_DAYS: i64 = 2556; // 2020-01-01 ..= 2026-12-31

    proptest! {
        #[test]
        fn add_then_count_round_trips(offset in 0..SPAN_DAYS, n in 0u32..400) {
            let cal = china();
            let any_day = FIRST + Duration::days(offset);
            let start = cal.add_working_days(any_day, wd(0)).value;
            prop_assert!(cal.is_working_day(start).value);
            let end = cal.add_working_days(start, wd(n));
            let back = cal.working_days_between(start, end.value);
            prop_assert_eq!(back.value, i64::from(n));
            prop_assert_eq!(back.provisional, end.provisional);
            prop_assert_eq!(end.provisional, end.value.year() > 2026);
        }

        #[test]
        fn between_is_antisymmetric_and_matches_a_day_loop(a in 0..SPAN_DAYS + 800, b in 0..SPAN_DAYS + 800) {
            let cal = china();
            let (a, b) = (FIRST + Duration::days(a), FIRST + Duration::days(b));
            let ab = cal.working_days_between(a, b);
            let ba = cal.working_days_between(b, a);
            prop_assert_eq!(ab.value, -ba.value);
            prop_assert_eq!(ab.provisional, ba.provisional);
            prop_assert_eq!(ab.value, count_by_loop(cal, a, b));
        }

        #[test]
        fn is_working_day_agrees_with_counting(offset in 0..SPAN_DAYS) {
            let cal = china();
            let d = FIRST + Duration::days(offset);
            let yesterday = d.previous_day().expect("in range");
            let counted = cal.working_days_between(yesterday, d);
            let is = cal.is_working_day(d);
            prop_assert_eq!(counted.value == 1, is.value);
            prop_assert!(!is.provisional && !counted.provisional);
        }
    }
}
