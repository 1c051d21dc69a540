//! The calendar as stored: the shipped years are seeded into the database once; an admin adds
//! a new year's calendar from a CSV file; every server instance reads the same rows.

use std::collections::BTreeSet;

use super::{Calendar, CalendarEntry, DayKind};
use crate::audit::Change;
use crate::domain::text::format_date;
use crate::error::{Error, FieldError, Msg, Result};
use crate::permissions::{Action, Actor, Kind, Resource};
use crate::Db;

pub const SHIPPED_SOURCE: &str = "chinesecalendar 1.11.0 (PyPI), see data/SOURCES.md";

fn kind_str(k: DayKind) -> &'static str {
    match k {
        DayKind::Holiday => "holiday",
        DayKind::Workday => "workday",
    }
}

/// Writes the shipped calendar into an empty database; does nothing once any year is stored.
pub async fn seed(db: &Db) -> Result<usize> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM calendar_years")
        .fetch_one(db.pool())
        .await?;
    if count > 0 {
        return Ok(0);
    }
    let calendar =
        Calendar::china().map_err(|e| Error::Config(format!("shipped calendar: {e}")))?;
    let entries: Vec<CalendarEntry> = calendar.entries().cloned().collect();
    let mut tx = db.begin_write().await?;
    store_years(&mut tx, &entries, SHIPPED_SOURCE).await?;
    tx.commit().await?;
    Ok(entries.len())
}

async fn store_years(
    conn: &mut sqlx::AnyConnection,
    entries: &[CalendarEntry],
    source: &str,
) -> Result<Vec<i32>> {
    let years: BTreeSet<i32> = entries.iter().map(|e| e.date.year()).collect();
    let now = crate::clock::now_rfc3339();
    for year in &years {
        sqlx::query("DELETE FROM calendar_days WHERE day >= $1 AND day <= $2")
            .bind(format!("{year:04}-01-01"))
            .bind(format!("{year:04}-12-31"))
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM calendar_years WHERE year = $1")
            .bind(*year as i64)
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO calendar_years (year, source, loaded_at) VALUES ($1, $2, $3)")
            .bind(*year as i64)
            .bind(source)
            .bind(&now)
            .execute(&mut *conn)
            .await?;
    }
    for e in entries {
        sqlx::query(
            "INSERT INTO calendar_days (day, kind, name_zh, name_en) VALUES ($1, $2, $3, $4)",
        )
        .bind(format_date(e.date))
        .bind(kind_str(e.kind))
        .bind(&e.name_zh)
        .bind(&e.name_en)
        .execute(&mut *conn)
        .await?;
    }
    Ok(years.into_iter().collect())
}

/// Reads the stored calendar.
pub async fn load(db: &Db) -> Result<Calendar> {
    let rows: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT day, kind, name_zh, name_en FROM calendar_days ORDER BY day")
            .fetch_all(db.pool())
            .await?;
    let mut csv = String::from("date,kind,name_zh,name_en\n");
    for (day, kind, zh, en) in rows {
        csv.push_str(&format!(
            "{day},{kind},\"{}\",\"{}\"\n",
            zh.replace('"', "\"\""),
            en.replace('"', "\"\"")
        ));
    }
    let entries =
        Calendar::parse_csv(&csv).map_err(|e| Error::Internal(format!("stored calendar: {e}")))?;
    Calendar::from_entries(entries).map_err(|e| Error::Internal(format!("stored calendar: {e}")))
}

/// The years stored, with where each came from.
pub async fn years(db: &Db) -> Result<Vec<(i64, String, String)>> {
    Ok(
        sqlx::query_as("SELECT year, source, loaded_at FROM calendar_years ORDER BY year")
            .fetch_all(db.pool())
            .await?,
    )
}

/// Loads the years a CSV file covers, replacing those years entirely. Admins only.
pub async fn import_csv(db: &Db, actor: &Actor, text: &str, source: &str) -> Result<Vec<i32>> {
    let entries = Calendar::parse_csv(text).map_err(|e| {
        Error::Invalid(vec![FieldError::new(
            "file",
            "calendar_invalid",
            Msg::new(
                format!("日历文件有误：{e}"),
                format!("the calendar file is wrong: {e}"),
            ),
        )])
    })?;
    // Checks the whole set the same way the in-memory calendar will, before anything is stored.
    Calendar::from_entries(entries.clone()).map_err(|e| {
        Error::Invalid(vec![FieldError::new(
            "file",
            "calendar_invalid",
            Msg::new(
                format!("日历文件有误：{e}"),
                format!("the calendar file is wrong: {e}"),
            ),
        )])
    })?;
    if entries.is_empty() {
        return Err(Error::invalid(
            "file",
            "calendar_empty",
            "日历文件没有任何日期",
            "the calendar file lists no dates",
        ));
    }
    let mut w = db.write(actor).await?;
    w.authorize(Action::Create, &Resource::new(Kind::Calendar))?;
    let years = store_years(w.conn(), &entries, source).await?;
    for year in &years {
        let count = entries.iter().filter(|e| e.date.year() == *year).count();
        w.record(Change::created(
            "calendar_year",
            year,
            serde_json::json!({ "year": year, "entries": count, "source": source }),
        ))
        .await?;
    }
    w.commit().await?;
    Ok(years)
}

/// The calendar as this process last read it, refreshed when another instance (or an admin
/// on this one) has loaded a year since: every instance answers from the same stored years.
#[derive(Default)]
pub struct CalendarCache {
    inner: std::sync::RwLock<(String, std::sync::Arc<Calendar>)>,
}

impl CalendarCache {
    pub async fn current(&self, db: &Db) -> Result<std::sync::Arc<Calendar>> {
        let (count, last): (i64, Option<String>) =
            sqlx::query_as("SELECT COUNT(*), MAX(loaded_at) FROM calendar_years")
                .fetch_one(db.pool())
                .await?;
        let stamp = format!("{count}/{}", last.unwrap_or_default());
        if let Ok(guard) = self.inner.read() {
            if guard.0 == stamp {
                return Ok(guard.1.clone());
            }
        }
        let fresh = std::sync::Arc::new(load(db).await?);
        if let Ok(mut guard) = self.inner.write() {
            *guard = (stamp, fresh.clone());
        }
        Ok(fresh)
    }
}
