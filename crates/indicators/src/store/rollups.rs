//! Roll-ups kept current in the writing transaction: one row per pairing, indicator and month
//! holding the month's own amount and the running total through it (for stocks, the month's
//! latest value). A report card as of any date reads one row per pairing and indicator plus the
//! few raw records of the as-of month — never the whole history.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::AnyConnection;
use time::Date;
use xietong_core::error::Result;
use xietong_core::Db;

use super::catalogue::Indicator;
use crate::periods::{month_key, months_through, next_month, prev_month};
use crate::rules::{self, ActivityKind, Combine, Measures};

/// A change to one pairing's indicator in one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    pub framework_id: i64,
    pub pairing_id: i64,
    pub indicator_id: i64,
    pub month: String,
    pub amount: i64,
}

/// The framework's horizon: the latest month its series reach (none before its first figure).
pub async fn horizon(conn: &mut AnyConnection, framework_id: i64) -> Result<Option<String>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT month FROM indicator_rollup_horizons WHERE framework_id = $1")
            .bind(framework_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|r| r.0))
}

/// Moves the framework's horizon to `month` when that is later, carrying every series forward
/// (a month without figures keeps the running total), and returns the horizon.
async fn reach(conn: &mut AnyConnection, framework_id: i64, month: &str) -> Result<String> {
    match lock_horizon(conn, framework_id, month).await? {
        Some(current) if current.as_str() < month => {
            carry(conn, framework_id, &current, month).await?;
            set_horizon(conn, framework_id, month).await?;
            Ok(month.to_string())
        }
        Some(current) => Ok(current),
        None => Ok(month.to_string()),
    }
}

/// Locks the framework's horizon row, so that writers of one framework queue on it and two
/// never extend it at once, and returns the horizon as it was: none when the framework had
/// no figures yet (its horizon then starts at `month`).
async fn lock_horizon(
    conn: &mut AnyConnection,
    framework_id: i64,
    month: &str,
) -> Result<Option<String>> {
    let created = sqlx::query("INSERT INTO indicator_rollup_horizons (framework_id, month) VALUES ($1, $2) ON CONFLICT (framework_id) DO NOTHING")
        .bind(framework_id)
        .bind(month)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1;
    if created {
        return Ok(None);
    }
    sqlx::query("UPDATE indicator_rollup_horizons SET month = month WHERE framework_id = $1")
        .bind(framework_id)
        .execute(&mut *conn)
        .await?;
    horizon(conn, framework_id).await
}

async fn set_horizon(conn: &mut AnyConnection, framework_id: i64, month: &str) -> Result<()> {
    sqlx::query("UPDATE indicator_rollup_horizons SET month = $2 WHERE framework_id = $1")
        .bind(framework_id)
        .bind(month)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Carries every series standing at the horizon `from` into each month after it through `to`.
/// A series that already has its row there (written with its new figures) keeps it.
async fn carry(conn: &mut AnyConnection, framework_id: i64, from: &str, to: &str) -> Result<()> {
    for k in months_through(&next_month(from), to) {
        sqlx::query(
            "INSERT INTO indicator_rollups (pairing_id, indicator_id, month, framework_id, own_amount, cum_amount)
             SELECT pairing_id, indicator_id, $2, framework_id, 0, cum_amount FROM indicator_rollups
              WHERE framework_id = $1 AND month = $3
             ON CONFLICT (pairing_id, indicator_id, month) DO NOTHING",
        )
        .bind(framework_id)
        .bind(&k)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Each series' running total at `month`.
async fn running_totals(
    conn: &mut AnyConnection,
    framework_id: i64,
    month: &str,
) -> Result<BTreeMap<(i64, i64), i64>> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT pairing_id, indicator_id, cum_amount FROM indicator_rollups WHERE framework_id = $1 AND month = $2",
    )
    .bind(framework_id)
    .bind(month)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(p, i, c)| ((p, i), c)).collect())
}

/// Adds additive deltas: the month's own amount, and the running total of that month and every
/// later one through the horizon.
pub async fn apply(conn: &mut AnyConnection, deltas: &[Delta]) -> Result<()> {
    let mut by_framework: BTreeMap<i64, Series> = BTreeMap::new();
    for d in deltas {
        *by_framework
            .entry(d.framework_id)
            .or_default()
            .entry((d.pairing_id, d.indicator_id))
            .or_default()
            .entry(d.month.clone())
            .or_insert(0) += d.amount;
    }
    for (framework_id, mut series) in by_framework {
        for months in series.values_mut() {
            months.retain(|_, a| *a != 0);
        }
        series.retain(|_, months| !months.is_empty());
        let Some(latest) = series
            .values()
            .filter_map(|months| months.keys().next_back())
            .max()
            .cloned()
        else {
            continue;
        };
        let mut phases = xietong_core::progress::Phases::new();
        let before = lock_horizon(conn, framework_id, &latest).await?;
        let h = match &before {
            Some(b) if *b > latest => b.clone(),
            _ => latest,
        };
        let rows = spread(&series, &h);
        let (within, beyond): (Vec<Increment>, Vec<Increment>) = rows
            .into_iter()
            .partition(|r| before.as_deref().is_some_and(|b| r.2.as_str() <= b));
        // Rows past the old horizon do not exist yet: each is written once as it will stand
        // (an insert and then an update of the same row would cost twice), and only the series
        // this write leaves alone are carried into those months.
        let totals = match &before {
            Some(b) if !beyond.is_empty() => running_totals(conn, framework_id, b).await?,
            _ => BTreeMap::new(),
        };
        let beyond = on_top_of(beyond, &totals);
        phases.mark("horizon read");
        upsert_increments(conn, framework_id, &within).await?;
        if before.is_some() {
            insert_new_increments(conn, framework_id, &beyond).await?;
        } else {
            upsert_increments(conn, framework_id, &beyond).await?;
        }
        phases.mark("increments applied");
        if let Some(b) = before.as_deref().filter(|b| *b < h.as_str()) {
            // The series standing at the old horizon are the totals read above: the rows that
            // carry them on are known without asking the database which already exist (a full
            // sheet writes every series of its month, and leaves nothing to carry).
            insert_new_increments(conn, framework_id, &carried(&totals, &series, b, &h)).await?;
            phases.mark("other series carried");
            set_horizon(conn, framework_id, &h).await?;
        }
        phases.mark("horizon moved");
        tracing::debug!(framework_id, within = within.len(), beyond = beyond.len(), phases = %phases.summary(), "roll-ups moved");
        for (key, months) in &series {
            if months.values().any(|a| *a < 0) {
                trim(conn, key.0, key.1).await?;
            }
        }
    }
    Ok(())
}

/// The rows past the old horizon `from` through `to` that this write leaves to be carried:
/// each series standing at `from` (its running total in `totals`) keeps that total, with
/// nothing of its own, in every month before the first this write gives it a row for.
fn carried(
    totals: &BTreeMap<(i64, i64), i64>,
    series: &Series,
    from: &str,
    to: &str,
) -> Vec<Increment> {
    let months = months_through(&next_month(from), to);
    let mut rows = Vec::new();
    for (&(p, i), &cum) in totals {
        let first = series.get(&(p, i)).and_then(|m| m.keys().next());
        for m in months
            .iter()
            .take_while(|m| first.is_none_or(|f| f.as_str() > m.as_str()))
        {
            rows.push((p, i, m.clone(), 0, cum));
        }
    }
    rows
}

/// Increments of months past the old horizon, made whole: each series' running total there
/// starts from where it stood at the old horizon.
fn on_top_of(rows: Vec<Increment>, totals: &BTreeMap<(i64, i64), i64>) -> Vec<Increment> {
    rows.into_iter()
        .map(|(p, i, m, own, cum)| {
            let base = totals.get(&(p, i)).copied().unwrap_or(0);
            (p, i, m, own, cum + base)
        })
        .collect()
}

/// Deltas per series (pairing, indicator), by month.
type Series = BTreeMap<(i64, i64), BTreeMap<String, i64>>;

/// One increment of a roll-up row: (pairing, indicator, month, own amount, running total).
type Increment = (i64, i64, String, i64, i64);

/// Spreads each series' deltas over the rows they move: every month from the earliest delta
/// through the horizon `h` gains the deltas of that month (own) and of all months up to it
/// (running total). Each row appears once, so one statement can apply them all.
fn spread(series: &Series, h: &str) -> Vec<Increment> {
    let mut rows = Vec::new();
    for ((p, i), months) in series {
        let Some(first) = months.keys().next() else {
            continue;
        };
        let mut cum = 0;
        for m in months_through(first, h) {
            let own = months.get(&m).copied().unwrap_or(0);
            cum += own;
            rows.push((*p, *i, m, own, cum));
        }
    }
    rows
}

/// Applies increments: a row that does not exist yet lies before its series' first figure (or
/// the series is new), where the running total was nothing, so it starts from the increment.
/// Every value of an increment is a key or an amount this module computed, so SQLite takes them
/// inline (binding five parameters a row cost it more than the rows) and PostgreSQL as one JSON
/// document a statement (it parses each distinct statement text, and binding is its dearest part).
async fn upsert_increments(
    conn: &mut AnyConnection,
    framework_id: i64,
    rows: &[Increment],
) -> Result<()> {
    const UPSERT: &str = "ON CONFLICT (pairing_id, indicator_id, month) DO UPDATE
                SET own_amount = indicator_rollups.own_amount + excluded.own_amount,
                    cum_amount = indicator_rollups.cum_amount + excluded.cum_amount";
    write_increments(conn, framework_id, rows, UPSERT).await
}

/// Writes rows past the framework's old horizon, where no row exists yet (the horizon row is
/// locked, and every writer moves it with the rows): plain inserts, which PostgreSQL takes
/// faster than inserts that must first look for a conflicting row. A row that did exist would
/// break the roll-ups' invariant, and is refused by the key rather than added to.
async fn insert_new_increments(
    conn: &mut AnyConnection,
    framework_id: i64,
    rows: &[Increment],
) -> Result<()> {
    write_increments(conn, framework_id, rows, "").await
}

async fn write_increments(
    conn: &mut AnyConnection,
    framework_id: i64,
    rows: &[Increment],
    on_conflict: &str,
) -> Result<()> {
    const ROWS: usize = 5000;
    let postgres = conn.backend_name() == "PostgreSQL";
    for chunk in rows.chunks(ROWS) {
        if postgres {
            let document = increments_document(chunk)?;
            sqlx::query(&format!(
                "INSERT INTO indicator_rollups (pairing_id, indicator_id, month, framework_id, own_amount, cum_amount)
                 SELECT p, i, m, $1, o, c
                   FROM json_to_recordset(CAST($2 AS json)) AS r(p BIGINT, i BIGINT, m TEXT, o BIGINT, c BIGINT)
                 {on_conflict}"
            ))
            .bind(framework_id)
            .bind(document)
            .execute(&mut *conn)
            .await?;
        } else {
            let values = chunk
                .iter()
                .map(|(p, i, m, own, cum)| {
                    let m = month_literal(m)?;
                    Ok(format!("({p}, {i}, '{m}', {framework_id}, {own}, {cum})"))
                })
                .collect::<Result<Vec<String>>>()?;
            sqlx::query(&format!(
                "INSERT INTO indicator_rollups (pairing_id, indicator_id, month, framework_id, own_amount, cum_amount)
                 VALUES {} {on_conflict}",
                values.join(", ")
            ))
            .persistent(false)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// The increments as `json_to_recordset` reads them: pairing, indicator, month, own amount and
/// running total, under one-letter keys (the server parses half the text).
fn increments_document(rows: &[Increment]) -> Result<String> {
    #[derive(serde::Serialize)]
    struct Row<'a> {
        p: i64,
        i: i64,
        m: &'a str,
        o: i64,
        c: i64,
    }
    let rows: Vec<Row> = rows
        .iter()
        .map(|(p, i, m, own, cum)| Row {
            p: *p,
            i: *i,
            m,
            o: *own,
            c: *cum,
        })
        .collect();
    serde_json::to_string(&rows).map_err(|e| xietong_core::error::Error::Internal(e.to_string()))
}

/// A month key (`YYYY-MM`) fit to write inline. Months are made by this module from parsed
/// dates, so anything else is a bug: refused, never written.
fn month_literal(m: &str) -> Result<&str> {
    let well_formed = m.len() == 7
        && m.bytes().enumerate().all(|(k, b)| {
            if k == 4 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if well_formed {
        Ok(m)
    } else {
        Err(xietong_core::error::Error::Internal(format!(
            "not a month key: {m:?}"
        )))
    }
}

/// A series starts at its first month with an amount: leading months a deletion emptied go.
async fn trim(conn: &mut AnyConnection, pairing_id: i64, indicator_id: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM indicator_rollups WHERE pairing_id = $1 AND indicator_id = $2
            AND month < COALESCE((SELECT MIN(r.month) FROM indicator_rollups r
                                   WHERE r.pairing_id = $1 AND r.indicator_id = $2 AND r.own_amount <> 0), '9999-99')",
    )
    .bind(pairing_id)
    .bind(indicator_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Recomputes a stock indicator from `month` on after its values there changed: the month's
/// latest value stands, or else the month before carries on, up to the next month with a value
/// of its own; with neither, the series does not reach those months.
pub async fn restock(
    conn: &mut AnyConnection,
    framework_id: i64,
    pairing_id: i64,
    indicator_id: i64,
    month: &str,
) -> Result<()> {
    let h = reach(conn, framework_id, month).await?;
    let latest: Option<(i64,)> = sqlx::query_as(
        "SELECT amount FROM indicator_values WHERE pairing_id = $1 AND indicator_id = $2 AND month = $3 AND status = 'current'
          ORDER BY period_end DESC, id DESC LIMIT 1",
    )
    .bind(pairing_id)
    .bind(indicator_id)
    .bind(month)
    .fetch_optional(&mut *conn)
    .await?;
    let before: Option<(i64,)> = sqlx::query_as(
        "SELECT cum_amount FROM indicator_rollups WHERE pairing_id = $1 AND indicator_id = $2 AND month = $3",
    )
    .bind(pairing_id)
    .bind(indicator_id)
    .bind(prev_month(month))
    .fetch_optional(&mut *conn)
    .await?;
    let (next,): (Option<String>,) = sqlx::query_as(
        "SELECT MIN(month) FROM indicator_values WHERE pairing_id = $1 AND indicator_id = $2 AND month > $3 AND status = 'current'",
    )
    .bind(pairing_id)
    .bind(indicator_id)
    .bind(month)
    .fetch_one(&mut *conn)
    .await?;
    let end = next.map(|n| prev_month(&n)).unwrap_or(h);
    let Some(stands) = latest.map(|r| r.0).or(before.map(|r| r.0)) else {
        sqlx::query("DELETE FROM indicator_rollups WHERE pairing_id = $1 AND indicator_id = $2 AND month >= $3 AND month <= $4")
            .bind(pairing_id)
            .bind(indicator_id)
            .bind(month)
            .bind(&end)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    };
    let own = latest.map(|r| r.0).unwrap_or(0);
    let months = months_through(month, &end);
    for chunk in months.chunks(xietong_core::db::rows_per_statement(2)) {
        let values: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| {
                // Amounts are integers held here, so the month's own one is written inline.
                let own = if m.as_str() == month { own } else { 0 };
                format!("($1, $2, ${}, $3, {own}, $4)", i + 5)
            })
            .collect();
        let sql = format!(
            "INSERT INTO indicator_rollups (pairing_id, indicator_id, month, framework_id, own_amount, cum_amount)
             VALUES {} ON CONFLICT (pairing_id, indicator_id, month) DO UPDATE
                SET own_amount = excluded.own_amount, cum_amount = excluded.cum_amount",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql)
            .bind(pairing_id)
            .bind(indicator_id)
            .bind(framework_id)
            .bind(stands);
        for m in chunk {
            q = q.bind(m.clone());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// An indicator's id and how it combines, for the as-of reading.
pub type Combines = BTreeMap<i64, Combine>;

pub async fn combines(db: &Db) -> Result<(Combines, BTreeMap<String, i64>)> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, code, combine FROM indicators")
            .fetch_all(db.pool())
            .await?;
    let mut c = Combines::new();
    let mut ids = BTreeMap::new();
    for (id, code, combine) in rows {
        c.insert(id, Combine::parse(&combine).unwrap_or(Combine::Sum));
        ids.insert(code, id);
    }
    Ok((c, ids))
}

/// Each pairing's amount per indicator the framework reports (and the bases of its counts of
/// pairs) as of the end of `date`: running totals for flows and counts, the latest value for
/// stocks.
pub async fn as_of(db: &Db, framework_id: i64, date: Date) -> Result<BTreeMap<(i64, i64), i64>> {
    let all = super::catalogue::all(db).await?;
    let listed = super::catalogue::for_framework(db, framework_id).await?;
    as_of_within(db, &Reading::of(&all, &listed), framework_id, None, date).await
}

/// What an as-of reading needs of the catalogue: how each indicator combines, ids by code, and
/// the indicators a framework's card reads (its list and the bases of its counts of pairs).
pub struct Reading {
    pub combine: Combines,
    pub ids: BTreeMap<String, i64>,
    pub wanted: BTreeSet<i64>,
}

impl Reading {
    /// From the whole catalogue and the framework's list, as the card has already read them.
    pub fn of(all: &[Indicator], listed: &[Indicator]) -> Reading {
        let ids: BTreeMap<String, i64> = all.iter().map(|i| (i.code.clone(), i.id)).collect();
        let wanted = listed
            .iter()
            .map(|i| i.id)
            .chain(
                listed
                    .iter()
                    .filter_map(|i| i.basis_code.as_ref().and_then(|b| ids.get(b).copied())),
            )
            .collect();
        Reading {
            combine: all.iter().map(|i| (i.id, i.combine())).collect(),
            ids,
            wanted,
        }
    }
}

/// [`as_of`] for one pairing of the framework, or all of them.
pub async fn as_of_within(
    db: &Db,
    reading: &Reading,
    framework_id: i64,
    only: Option<i64>,
    date: Date,
) -> Result<BTreeMap<(i64, i64), i64>> {
    let (month, partial) = settled_month(date);
    let mut out = snapshot(db, framework_id, only, &month, &reading.wanted).await?;
    if partial {
        add_month_so_far(
            db,
            framework_id,
            only,
            date,
            &reading.combine,
            &reading.ids,
            &mut out,
        )
        .await?;
    }
    Ok(out)
}

/// The month through which the roll-ups hold everything up to `date`, and whether the records
/// of `date`'s own month up to that day must still be added (not on a month's last day).
fn settled_month(date: Date) -> (String, bool) {
    let month = month_key(date);
    match date.next_day() {
        Some(next) if next.month() == date.month() => (prev_month(&month), true),
        _ => (month, false),
    }
}

/// The month the roll-ups are read at for `month`: no later than the framework's horizon, where
/// every series still stands as it did at its last figure.
const READ_MONTH: &str = "(SELECT CASE WHEN h.month < $2 THEN h.month ELSE $2 END
                            FROM indicator_rollup_horizons h WHERE h.framework_id = $1)";

/// Each pairing's running total (or stock) through `month`, for the `wanted` indicators: one
/// index range, since every series has a row for every month up to the horizon. Each pairing's
/// figures come packed in one row (`indicator:amount,…`): the driver's cost is per row, and a
/// framework has thousands of series but only hundreds of pairings.
async fn snapshot(
    db: &Db,
    framework_id: i64,
    only: Option<i64>,
    month: &str,
    wanted: &BTreeSet<i64>,
) -> Result<BTreeMap<(i64, i64), i64>> {
    if wanted.is_empty() {
        return Ok(BTreeMap::new());
    }
    let list: Vec<String> = wanted.iter().map(i64::to_string).collect();
    let scope = if only.is_some() {
        "pairing_id = $3"
    } else {
        "framework_id = $1 AND $3 = 0"
    };
    let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
        "SELECT pairing_id, string_agg(CAST(indicator_id AS TEXT) || ':' || CAST(cum_amount AS TEXT), ',')
           FROM indicator_rollups
          WHERE {scope} AND indicator_id IN ({}) AND month = {READ_MONTH}
          GROUP BY pairing_id",
        list.join(", ")
    ))
    .bind(framework_id)
    .bind(month)
    .bind(only.unwrap_or(0))
    .fetch_all(db.pool())
    .await?;
    let mut out = BTreeMap::new();
    for (p, packed) in rows {
        for item in packed.split(',') {
            let parsed = item
                .split_once(':')
                .and_then(|(i, a)| Some((i.parse::<i64>().ok()?, a.parse::<i64>().ok()?)));
            let Some((i, a)) = parsed else {
                return Err(xietong_core::error::Error::Internal(format!(
                    "a packed roll-up figure did not parse: {item}"
                )));
            };
            out.insert((p, i), a);
        }
    }
    Ok(out)
}

/// What the card needs of a day it only compares with (a year earlier): each indicator's
/// framework total, and per pairing only the indicators whose total is not a plain sum (stocks
/// and the bases of counts of pairs). The sums are added up by the database.
pub struct Totals {
    pub sums: BTreeMap<i64, i64>,
    pub per_pairing: BTreeMap<(i64, i64), i64>,
}

pub async fn totals_as_of(
    db: &Db,
    reading: &Reading,
    framework_id: i64,
    date: Date,
    per_pairing_ids: &[i64],
) -> Result<Totals> {
    let (combine, ids) = (&reading.combine, &reading.ids);
    let (month, partial) = settled_month(date);
    let mut month_so_far = BTreeMap::new();
    if partial {
        add_month_so_far(
            db,
            framework_id,
            None,
            date,
            combine,
            ids,
            &mut month_so_far,
        )
        .await?;
    }
    let wanted: BTreeSet<i64> = per_pairing_ids.iter().copied().collect();
    let mut per_pairing = snapshot(db, framework_id, None, &month, &wanted).await?;
    for ((p, i), a) in &month_so_far {
        if wanted.contains(i) {
            match combine.get(i) {
                Some(Combine::Latest) => {
                    per_pairing.insert((*p, *i), *a);
                }
                _ => *per_pairing.entry((*p, *i)).or_insert(0) += a,
            }
        }
    }
    let list = if per_pairing_ids.is_empty() {
        "0".to_string()
    } else {
        per_pairing_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT indicator_id, CAST(SUM(cum_amount) AS BIGINT) FROM indicator_rollups
          WHERE framework_id = $1 AND month = {READ_MONTH} AND indicator_id NOT IN ({list})
            AND indicator_id IN (SELECT indicator_id FROM framework_indicators WHERE framework_id = $1)
          GROUP BY indicator_id"
    ))
    .bind(framework_id)
    .bind(&month)
    .fetch_all(db.pool())
    .await?;
    let mut sums: BTreeMap<i64, i64> = rows.into_iter().collect();
    for ((_, i), a) in month_so_far {
        if !wanted.contains(&i) {
            *sums.entry(i).or_insert(0) += a;
        }
    }
    Ok(Totals { sums, per_pairing })
}

/// Adds the records of `date`'s own month up to that day, grouped in SQL (contributions are
/// linear, so a group of activities contributes its count and its sums); stocks take the
/// month's latest value.
async fn add_month_so_far(
    db: &Db,
    framework_id: i64,
    only: Option<i64>,
    date: Date,
    combine: &Combines,
    ids: &BTreeMap<String, i64>,
    out: &mut BTreeMap<(i64, i64), i64>,
) -> Result<()> {
    let month_start = format!("{}-01", month_key(date));
    let day = xietong_core::domain::text::format_date(date);
    // One pairing is read through its own index; a whole framework through the framework's.
    let (scope, key) = match only {
        Some(p) => ("pairing_id = $1", p),
        None => ("framework_id = $1", framework_id),
    };
    // The month's values (in the order they were reported, so a stock's latest stands) and its
    // activities grouped, in one statement: one round trip fewer for every card and page.
    // Value rows have no kind; activity groups come after them.
    #[derive(sqlx::FromRow)]
    struct Row {
        pairing_id: i64,
        indicator_id: i64,
        kind: String,
        category: String,
        events: i64,
        headcount: i64,
        amount: i64,
        area_mu: i64,
        weight_kg: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT pairing_id, indicator_id, '' AS kind, '' AS category, CAST(1 AS BIGINT) AS events,
                CAST(0 AS BIGINT) AS headcount, amount, CAST(0 AS BIGINT) AS area_mu, CAST(0 AS BIGINT) AS weight_kg,
                period_end AS at, id AS seq
           FROM indicator_values
          WHERE {scope} AND status = 'current' AND period_end >= $2 AND period_end <= $3
         UNION ALL
         SELECT pairing_id, CAST(0 AS BIGINT), kind, category, COUNT(*), CAST(SUM(headcount) AS BIGINT),
                CAST(SUM(amount) AS BIGINT), CAST(SUM(area_mu) AS BIGINT), CAST(SUM(weight_kg) AS BIGINT),
                '9999-12-31' AS at, CAST(0 AS BIGINT) AS seq
           FROM activities
          WHERE {scope} AND occurred_on >= $2 AND occurred_on <= $3
          GROUP BY pairing_id, kind, category
          ORDER BY at, seq"
    ))
    .bind(key)
    .bind(&month_start)
    .bind(&day)
    .fetch_all(db.pool())
    .await?;
    for row in rows {
        let Row {
            pairing_id: p,
            indicator_id: i,
            kind,
            category,
            events,
            headcount,
            amount,
            area_mu,
            weight_kg,
        } = row;
        if kind.is_empty() {
            match combine.get(&i) {
                Some(Combine::Latest) => {
                    out.insert((p, i), amount);
                }
                _ => *out.entry((p, i)).or_insert(0) += amount,
            }
            continue;
        }
        let Some(kind) = ActivityKind::parse(&kind) else {
            continue;
        };
        let m = Measures {
            events,
            headcount,
            amount,
            area_mu,
            weight_kg,
        };
        for (code, a) in rules::contributions(kind, &category, &m) {
            if let Some(i) = ids.get(code) {
                *out.entry((p, *i)).or_insert(0) += a;
            }
        }
    }
    Ok(())
}

/// An activity row as read: pairing, day or month, kind, category, then its four measures.
type ActivityRow = (i64, String, String, String, i64, i64, i64, i64);

/// An activity as the roll-ups see it.
#[derive(Debug, Clone)]
pub struct ActivityFacts {
    pub pairing: i64,
    pub day: String,
    pub kind: ActivityKind,
    pub category: String,
    pub measures: Measures,
}

impl ActivityFacts {
    pub fn contributions(&self) -> Vec<(&'static str, i64)> {
        rules::contributions(self.kind, &self.category, &self.measures)
    }
}

/// Activities of a framework on days `from..=to` with their measures.
pub async fn activities_between(
    db: &Db,
    framework_id: i64,
    from: &str,
    to: &str,
) -> Result<Vec<ActivityFacts>> {
    activities_where(db, "framework_id = $1", framework_id, from, to).await
}

/// One pairing's activities on days `from..=to`, read through the pairing's own index.
pub async fn activities_of_pairing_between(
    db: &Db,
    pairing_id: i64,
    from: &str,
    to: &str,
) -> Result<Vec<ActivityFacts>> {
    activities_where(db, "pairing_id = $1", pairing_id, from, to).await
}

async fn activities_where(
    db: &Db,
    scope: &str,
    key: i64,
    from: &str,
    to: &str,
) -> Result<Vec<ActivityFacts>> {
    let rows: Vec<ActivityRow> = sqlx::query_as(&format!(
        "SELECT pairing_id, occurred_on, kind, category, headcount, amount, area_mu, weight_kg FROM activities
          WHERE {scope} AND occurred_on >= $2 AND occurred_on <= $3"
    ))
    .bind(key)
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(pairing, day, kind, category, headcount, amount, area_mu, weight_kg)| {
                Some(ActivityFacts {
                    pairing,
                    day,
                    kind: ActivityKind::parse(&kind)?,
                    category,
                    measures: Measures {
                        events: 1,
                        headcount,
                        amount,
                        area_mu,
                        weight_kg,
                    },
                })
            },
        )
        .collect())
}

/// A roll-up row: (pairing, indicator, month) → (own amount, running total).
pub type Table = BTreeMap<(i64, i64, String), (i64, i64)>;

/// The roll-up rows as stored.
pub async fn stored(db: &Db, framework_id: i64) -> Result<Table> {
    let rows: Vec<(i64, i64, String, i64, i64)> = sqlx::query_as(
        "SELECT pairing_id, indicator_id, month, own_amount, cum_amount FROM indicator_rollups WHERE framework_id = $1",
    )
    .bind(framework_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(p, i, m, own, cum)| ((p, i, m), (own, cum)))
        .collect())
}

/// The roll-up rows recomputed from scratch from every current value and activity: what
/// [`stored`] must always equal.
pub async fn recompute(db: &Db, framework_id: i64) -> Result<Table> {
    let (combine, ids) = combines(db).await?;
    let mut own: BTreeMap<(i64, i64, String), i64> = BTreeMap::new();
    let values: Vec<(i64, i64, String, i64)> = sqlx::query_as(
        "SELECT pairing_id, indicator_id, month, amount FROM indicator_values
          WHERE framework_id = $1 AND status = 'current' ORDER BY period_end, id",
    )
    .bind(framework_id)
    .fetch_all(db.pool())
    .await?;
    for (p, i, m, amount) in values {
        match combine.get(&i) {
            Some(Combine::Latest) => {
                own.insert((p, i, m), amount);
            }
            _ => *own.entry((p, i, m)).or_insert(0) += amount,
        }
    }
    let activities: Vec<ActivityRow> = sqlx::query_as(
        "SELECT pairing_id, month, kind, category, headcount, amount, area_mu, weight_kg FROM activities WHERE framework_id = $1",
    )
    .bind(framework_id)
    .fetch_all(db.pool())
    .await?;
    for (p, m, kind, category, headcount, amount, area_mu, weight_kg) in activities {
        let Some(kind) = ActivityKind::parse(&kind) else {
            continue;
        };
        let measures = Measures {
            events: 1,
            headcount,
            amount,
            area_mu,
            weight_kg,
        };
        for (code, a) in rules::contributions(kind, &category, &measures) {
            if let Some(i) = ids.get(code) {
                *own.entry((p, *i, m.clone())).or_insert(0) += a;
            }
        }
    }
    let mut conn = db.pool().acquire().await?;
    let stored_horizon = horizon(&mut conn, framework_id).await?;
    drop(conn);
    Ok(dense(&own, &combine, stored_horizon))
}

/// The dense table of a framework's own amounts per series and month: each series from its
/// first figure (the first non-zero amount of a flow, the first value of a stock) through the
/// horizon, with running totals (or the standing value of a stock) in every month.
fn dense(
    own: &BTreeMap<(i64, i64, String), i64>,
    combine: &Combines,
    stored_horizon: Option<String>,
) -> Table {
    let latest = own.keys().map(|k| k.2.clone()).max();
    let Some(h) = stored_horizon.into_iter().chain(latest).max() else {
        return Table::new();
    };
    let mut series: BTreeMap<(i64, i64), BTreeMap<&str, i64>> = BTreeMap::new();
    for ((p, i, m), a) in own {
        series.entry((*p, *i)).or_default().insert(m.as_str(), *a);
    }
    let mut table = Table::new();
    for ((p, i), months) in series {
        let stock = combine.get(&i) == Some(&Combine::Latest);
        let first = if stock {
            months.keys().next().copied()
        } else {
            months.iter().find(|(_, a)| **a != 0).map(|(m, _)| *m)
        };
        let Some(first) = first else { continue };
        let mut cum = 0;
        for m in months_through(first, &h) {
            let a = months.get(m.as_str()).copied();
            match (stock, a) {
                (true, Some(a)) => cum = a,
                (true, None) => {}
                (false, a) => cum += a.unwrap_or(0),
            }
            table.insert((p, i, m), (a.unwrap_or(0), cum));
        }
    }
    table
}

/// Replaces a framework's roll-ups with a recomputation (after a bulk load, or to repair).
/// Returns the rows written.
pub async fn rebuild(db: &Db, framework_id: i64) -> Result<usize> {
    let table = recompute(db, framework_id).await?;
    let h = table.keys().map(|k| k.2.clone()).max();
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM indicator_rollups WHERE framework_id = $1")
        .bind(framework_id)
        .execute(&mut *tx)
        .await?;
    // The framework's rows are gone, so every increment inserts its row as it stands.
    let rows: Vec<Increment> = table
        .into_iter()
        .map(|((p, i, m), (own, cum))| (p, i, m, own, cum))
        .collect();
    upsert_increments(&mut tx, framework_id, &rows).await?;
    if let Some(h) = h {
        sqlx::query(
            "INSERT INTO indicator_rollup_horizons (framework_id, month) VALUES ($1, $2)
                     ON CONFLICT (framework_id) DO UPDATE SET month = excluded.month",
        )
        .bind(framework_id)
        .bind(h)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Rebuilds the roll-ups of every framework that has some but no horizon yet: roll-ups written
/// before they became dense. Returns the frameworks rebuilt.
pub async fn ensure_dense(db: &Db) -> Result<Vec<i64>> {
    let stale: Vec<(i64,)> = sqlx::query_as(
        "SELECT f.id FROM frameworks f
          WHERE NOT EXISTS (SELECT 1 FROM indicator_rollup_horizons h WHERE h.framework_id = f.id)
            AND EXISTS (SELECT 1 FROM indicator_rollups r WHERE r.framework_id = f.id)",
    )
    .fetch_all(db.pool())
    .await?;
    for (f,) in &stale {
        rebuild(db, *f).await?;
    }
    Ok(stale.into_iter().map(|r| r.0).collect())
}

/// A framework's own amount per month for one indicator in `from..=to` (`YYYY-MM`), for the
/// time-series chart; months without figures are absent.
/// It reads the snapshot index's range of those months (the indicator is picked out of the index
/// entries): an index of its own would cost every write more than it saves this chart.
pub async fn monthly(
    db: &Db,
    framework_id: i64,
    indicator_id: i64,
    from: &str,
    to: &str,
) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT month, CAST(SUM(own_amount) AS BIGINT) FROM indicator_rollups
          WHERE framework_id = $1 AND indicator_id = $2 AND month >= $3 AND month <= $4
          GROUP BY month ORDER BY month",
    )
    .bind(framework_id)
    .bind(indicator_id)
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_carried_only_into_months_this_write_leaves_them() {
        // Three series stood at the old horizon 2024-01; the write reaches 2024-04.
        let totals = BTreeMap::from([((1, 1), 10), ((1, 2), 20), ((2, 1), 30)]);
        let series: Series = BTreeMap::from([
            // Written from before the horizon: it has every month already.
            ((1, 1), BTreeMap::from([("2023-12".to_string(), 5)])),
            // First written in 2024-03: carried into 2024-02 only.
            ((1, 2), BTreeMap::from([("2024-03".to_string(), 7)])),
            // A series new to this write needs no carrying.
            ((9, 9), BTreeMap::from([("2024-04".to_string(), 1)])),
        ]);
        assert_eq!(
            carried(&totals, &series, "2024-01", "2024-04"),
            vec![
                (1, 2, "2024-02".to_string(), 0, 20),
                (2, 1, "2024-02".to_string(), 0, 30),
                (2, 1, "2024-03".to_string(), 0, 30),
                (2, 1, "2024-04".to_string(), 0, 30),
            ]
        );
    }

    #[test]
    fn only_month_keys_are_written_inline() {
        assert_eq!(month_literal("2024-12").unwrap(), "2024-12");
        for bad in ["2024-1", "2024/12", "2024-12'", "x024-12", "2024-12-01", ""] {
            assert!(month_literal(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn increments_travel_under_the_keys_the_insert_names() {
        let doc = increments_document(&[(3, 7, "2024-05".into(), 10, 25)]).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&doc).unwrap();
        // `write_increments` reads them as r(p, i, m, o, c).
        assert_eq!(
            parsed,
            serde_json::json!([{"p": 3, "i": 7, "m": "2024-05", "o": 10, "c": 25}])
        );
    }
}
