//! Errors of the working-day calendar.

use time::{Date, Weekday};

/// Why calendar data or a working-day count was refused.
///
/// Errors about CSV text name the 1-based line number and, where one field is
/// at fault, the field (`date`, `kind`, `name_zh`, `name_en`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The text could not be read as CSV at all.
    #[error("line {line}: malformed CSV: {message}")]
    Csv {
        /// 1-based line number (0 when the reader could not tell).
        line: u64,
        /// What the CSV reader reported.
        message: String,
    },
    /// The text has no header line (it is empty, or only blank lines and comments).
    #[error("the calendar CSV is empty: expected the header \"date,kind,name_zh,name_en\"")]
    Empty,
    /// The first line is not the expected header.
    #[error("line {line}: expected the header \"date,kind,name_zh,name_en\", found \"{found}\"")]
    Header {
        /// 1-based line number.
        line: u64,
        /// The header that was found, fields joined by commas.
        found: String,
    },
    /// A row does not have exactly four fields.
    #[error("line {line}: expected 4 fields (date,kind,name_zh,name_en), found {found}")]
    FieldCount {
        /// 1-based line number.
        line: u64,
        /// How many fields the row has.
        found: usize,
    },
    /// One field of a row is invalid.
    #[error("line {line}, field {field}: {reason}")]
    Field {
        /// 1-based line number.
        line: u64,
        /// Name of the offending column.
        field: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// Two entries are for the same date.
    #[error("duplicate calendar entry for {date}")]
    DuplicateDate {
        /// The date that appears twice.
        date: Date,
    },
    /// A `workday` (adjusted working day, 调休) entry falls on a Monday–Friday.
    #[error(
        "{date} is a {weekday}: a `workday` entry (adjusted working day, 调休) must fall on a Saturday or Sunday"
    )]
    WorkdayOnWeekday {
        /// The date of the entry.
        date: Date,
        /// Its day of the week.
        weekday: Weekday,
    },
    /// A working-day count above [`WorkingDays::MAX`](super::WorkingDays::MAX).
    #[error("{value} working days is more than the maximum of {max}")]
    TooManyWorkingDays {
        /// The refused value.
        value: u32,
        /// The largest accepted value.
        max: u32,
    },
}
