//! Reading calendar entries from CSV text (`date,kind,name_zh,name_en`).

use std::collections::BTreeMap;

use ::csv::{ReaderBuilder, StringRecord, Trim};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::Date;

use super::{is_weekend, CalendarEntry, CalendarError, DayKind};

/// The only accepted header, in this order.
const HEADER: [&str; 4] = ["date", "kind", "name_zh", "name_en"];

/// `YYYY-MM-DD`, zero-padded.
const DATE_FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Parses calendar CSV text; see [`Calendar::parse_csv`](super::Calendar::parse_csv).
pub(super) fn parse_csv(text: &str) -> Result<Vec<CalendarEntry>, CalendarError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());

    let mut lines = LineCounter::new(text);
    let mut record = StringRecord::new();
    let mut header_seen = false;
    let mut entries = Vec::new();
    let mut first_line_of: BTreeMap<Date, u64> = BTreeMap::new();

    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                let line = err
                    .position()
                    .map_or(0, |p| lines.line_of_record_at(p.byte()));
                return Err(CalendarError::Csv {
                    line,
                    message: err.to_string(),
                });
            }
        }
        let line = record
            .position()
            .map_or(0, |p| lines.line_of_record_at(p.byte()));
        if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
            continue; // a line of blanks only
        }

        if !header_seen {
            if !record.iter().eq(HEADER) {
                return Err(CalendarError::Header {
                    line,
                    found: record.iter().collect::<Vec<_>>().join(","),
                });
            }
            header_seen = true;
            continue;
        }

        if record.len() != HEADER.len() {
            return Err(CalendarError::FieldCount {
                line,
                found: record.len(),
            });
        }
        let entry = parse_row(&record, line)?;
        if let Some(previous) = first_line_of.insert(entry.date, line) {
            return Err(field_error(
                line,
                "date",
                format!("{} already appears on line {previous}", entry.date),
            ));
        }
        entries.push(entry);
    }

    if header_seen {
        Ok(entries)
    } else {
        Err(CalendarError::Empty)
    }
}

/// Finds the 1-based line on which a record starts.
///
/// `csv` reports a record's position as the end of the previous record, before
/// any blank or comment lines it skipped, so its own line numbers can be off.
/// This skips those lines again and counts newlines, incrementally (record
/// positions only grow).
struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    newlines: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            counted_to: 0,
            newlines: 0,
        }
    }

    fn line_of_record_at(&mut self, byte: u64) -> u64 {
        let bytes = self.bytes;
        let mut at = usize::try_from(byte).map_or(bytes.len(), |b| b.min(bytes.len()));
        loop {
            match bytes.get(at) {
                Some(b'\r' | b'\n') => at += 1,
                Some(b'#') => {
                    at = bytes[at..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(bytes.len(), |i| at + i + 1);
                }
                _ => break,
            }
        }
        if at >= self.counted_to {
            let newly = bytes[self.counted_to..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.newlines += newly as u64;
            self.counted_to = at;
        }
        self.newlines + 1
    }
}

fn field_error(line: u64, field: &'static str, reason: String) -> CalendarError {
    CalendarError::Field {
        line,
        field,
        reason,
    }
}

/// Parses one data row (already known to have four fields).
fn parse_row(record: &StringRecord, line: u64) -> Result<CalendarEntry, CalendarError> {
    let field = |i: usize| record.get(i).unwrap_or_default();

    let raw_date = field(0);
    if raw_date.is_empty() {
        return Err(field_error(line, "date", "is empty".to_owned()));
    }
    let date = Date::parse(raw_date, DATE_FORMAT).map_err(|_| {
        field_error(
            line,
            "date",
            format!("\"{raw_date}\" is not a valid date (expected YYYY-MM-DD)"),
        )
    })?;

    let kind = match field(1) {
        "holiday" => DayKind::Holiday,
        "workday" => DayKind::Workday,
        other => {
            return Err(field_error(
                line,
                "kind",
                format!("\"{other}\" is not a known kind (expected \"holiday\" or \"workday\")"),
            ))
        }
    };
    if kind == DayKind::Workday && !is_weekend(date) {
        return Err(field_error(
            line,
            "kind",
            format!(
                "\"workday\" on {date}, a {}: an adjusted working day (调休) must fall on a Saturday or Sunday",
                date.weekday()
            ),
        ));
    }

    Ok(CalendarEntry {
        date,
        kind,
        name_zh: field(2).to_owned(),
        name_en: field(3).to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::super::Calendar;
    use super::*;

    const GOOD: &str = "\
date,kind,name_zh,name_en
2023-01-21,holiday,春节,Spring Festival
# a comment line

2023-01-28, workday ,春节调休,\"Spring Festival, make-up working day\"
";

    fn message(text: &str) -> String {
        match Calendar::parse_csv(text) {
            Ok(entries) => panic!("expected an error, got {entries:?}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn parses_rows_comments_blank_lines_quotes_and_bom() {
        let with_bom = format!("\u{feff}{GOOD}");
        for text in [GOOD, with_bom.as_str()] {
            let entries = Calendar::parse_csv(text).expect("valid CSV");
            assert_eq!(entries.len(), 2);
            assert_eq!(entries[0].date, date!(2023 - 01 - 21));
            assert_eq!(entries[0].kind, DayKind::Holiday);
            assert_eq!(entries[0].name_zh, "春节");
            assert_eq!(entries[1].kind, DayKind::Workday);
            assert_eq!(entries[1].name_en, "Spring Festival, make-up working day");
        }
    }

    #[test]
    fn line_numbers_count_blank_comment_crlf_and_quoted_lines() {
        let text = "# comment\r\ndate,kind,name_zh,name_en\r\n\r\n2023-01-21,holiday,\"春\n节\",x\r\n#c\n   \n\n2023-01-22,holiday,a,b\n2023-13-01,holiday,a,b\n";
        assert!(message(text).starts_with("line 10, field date: \"2023-13-01\""));
        let text =
            "\n\ndate,kind,name_zh,name_en\n2023-01-21,holiday,a,b\n\n\n\n2023-01-21,holiday,a,b\n";
        assert_eq!(
            message(text),
            "line 8, field date: 2023-01-21 already appears on line 4"
        );
    }

    #[test]
    fn header_only_is_empty_list() {
        assert_eq!(
            Calendar::parse_csv("date,kind,name_zh,name_en\n"),
            Ok(vec![])
        );
    }

    #[test]
    fn bad_date_names_line_and_field() {
        let text = "date,kind,name_zh,name_en\n2023-01-21,holiday,春节,Spring Festival\n2023-02-30,holiday,x,y\n";
        assert_eq!(
            message(text),
            "line 3, field date: \"2023-02-30\" is not a valid date (expected YYYY-MM-DD)"
        );
        let text = "date,kind,name_zh,name_en\n2023-1-2,holiday,x,y\n";
        assert!(message(text).starts_with("line 2, field date: \"2023-1-2\""));
        let text = "date,kind,name_zh,name_en\n,holiday,x,y\n";
        assert_eq!(message(text), "line 2, field date: is empty");
    }

    #[test]
    fn unknown_kind_names_line_and_field() {
        let text = "date,kind,name_zh,name_en\n\n2023-01-21,vacation,春节,Spring Festival\n";
        assert_eq!(
            message(text),
            "line 3, field kind: \"vacation\" is not a known kind (expected \"holiday\" or \"workday\")"
        );
    }

    #[test]
    fn duplicate_date_names_both_lines() {
        let text = "date,kind,name_zh,name_en\n2023-01-21,holiday,a,b\n2023-01-22,holiday,a,b\n2023-01-21,holiday,a,b\n";
        assert_eq!(
            message(text),
            "line 4, field date: 2023-01-21 already appears on line 2"
        );
    }

    #[test]
    fn workday_on_weekday_names_line() {
        // 2023-01-25 is a Wednesday.
        let text = "date,kind,name_zh,name_en\n2023-01-25,workday,a,b\n";
        let msg = message(text);
        assert!(
            msg.starts_with("line 2, field kind: \"workday\" on 2023-01-25, a Wednesday"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_header_and_field_count() {
        assert_eq!(
            message("date,kind,name\n2023-01-21,holiday,a\n"),
            "line 1: expected the header \"date,kind,name_zh,name_en\", found \"date,kind,name\""
        );
        assert_eq!(
            message("date,kind,name_zh,name_en\n2023-01-21,holiday,a\n"),
            "line 2: expected 4 fields (date,kind,name_zh,name_en), found 3"
        );
        assert_eq!(message(""), CalendarError::Empty.to_string());
    }
}
