//! Roll-ups kept current in the writing transaction: one row per pairing, indicator and month
//! holding the month's own amount and the running total through it (for stocks, the month's
//! latest value). A report card as of any date reads one row per pairing and indicator plus the
//! few raw records of the as-of month — never the whole history.

use std::collections::BTreeMap;

use sqlx::AnyConnection;
use time::Date;
use xietong_core::error::Result;
use xietong_core::Db;

use crate::periods::month_key;
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

/// Adds additive deltas: upserts each month's row and carries the change into later months.
pub async fn apply(conn: &mut AnyConnection, deltas: &[Delta]) -> Result<()> {
    let mut merged: BTreeMap<(i64, i64, String), (i64, i64)> = BTreeMap::new();
    for d in deltas {
        let e = merged
            .entry((d.pairing_id, d.indicator_id, d.month.clone()))
            .or_insert((d.framework_id, 0));
        e.1 += d.amount;
    }
    merged.retain(|_, (_, a)| *a != 0);
    // Rounds in which each pairing–indicator appears once, earliest month first: a row's running
    // total then never depends on a row written by the same statement.
    let mut rounds: Vec<Vec<Row>> = Vec::new();
    let mut seen: BTreeMap<(i64, i64), usize> = BTreeMap::new();
    for (key, value) in merged {
        let n = seen.entry((key.0, key.1)).or_insert(0);
        if rounds.len() <= *n {
            rounds.push(Vec::new());
        }
        rounds[*n].push((key, value));
        *n += 1;
    }
    for round in rounds {
        apply_round(conn, round).await?;
    }
    Ok(())
}

type Row = ((i64, i64, String), (i64, i64));

async fn apply_round(conn: &mut AnyConnection, rows: Vec<Row>) -> Result<()> {
    for chunk in rows.chunks(xietong_core::db::rows_per_statement(5)) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5
                )
            })
            .collect();
        // VALUES columns are named column1… on both engines.
        let sql = format!(
            "INSERT INTO indicator_rollups (pairing_id, indicator_id, month, framework_id, own_amount, cum_amount)
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5,
                    v.column5 + COALESCE((SELECT r.cum_amount FROM indicator_rollups r
                                           WHERE r.pairing_id = v.column1 AND r.indicator_id = v.column2 AND r.month < v.column3
                                           ORDER BY r.month DESC LIMIT 1), 0)
               FROM (VALUES {}) AS v WHERE 1 = 1
             ON CONFLICT (pairing_id, indicator_id, month) DO UPDATE
                SET own_amount = indicator_rollups.own_amount + excluded.own_amount,
                    cum_amount = indicator_rollups.cum_amount + excluded.own_amount",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for ((p, i, m), (f, a)) in chunk {
            q = q.bind(*p).bind(*i).bind(m.clone()).bind(*f).bind(*a);
        }
        q.execute(&mut *conn).await?;
    }
    // Later months carry the change in their running totals; usually there are none, because
    // figures arrive for the latest month.
    let earliest = rows
        .iter()
        .map(|((_, _, m), _)| m.as_str())
        .min()
        .unwrap_or("");
    let (later,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM indicator_rollups WHERE framework_id = $1 AND month > $2",
    )
    .bind(rows[0].1 .0)
    .bind(earliest)
    .fetch_one(&mut *conn)
    .await?;
    let frameworks: std::collections::BTreeSet<i64> = rows.iter().map(|(_, (f, _))| *f).collect();
    if later > 0 || frameworks.len() > 1 {
        for ((p, i, m), (_, a)) in &rows {
            sqlx::query("UPDATE indicator_rollups SET cum_amount = cum_amount + $1 WHERE pairing_id = $2 AND indicator_id = $3 AND month > $4")
                .bind(*a)
                .bind(*p)
                .bind(*i)
                .bind(m)
                .execute(&mut *conn)
                .await?;
        }
    }
    // A month whose records cancelled out keeps no row, so roll-ups equal a recomputation.
    for ((p, i, m), _) in rows.iter().filter(|(_, (_, a))| *a < 0) {
        sqlx::query("DELETE FROM indicator_rollups WHERE pairing_id = $1 AND indicator_id = $2 AND month = $3 AND own_amount = 0")
            .bind(*p)
            .bind(*i)
            .bind(m)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Recomputes a stock indicator's month row from its values: the month's latest value stands.
pub async fn restock(
    conn: &mut AnyConnection,
    framework_id: i64,
    pairing_id: i64,
    indicator_id: i64,
    month: &str,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM indicator_rollups WHERE pairing_id = $1 AND indicator_id = $2 AND month = $3",
    )
    .bind(pairing_id)
    .bind(indicator_id)
    .bind(month)
    .execute(&mut *conn)
    .await?;
    let latest: Option<(i64,)> = sqlx::query_as(
        "SELECT amount FROM indicator_values WHERE pairing_id = $1 AND indicator_id = $2 AND month = $3 AND status = 'current'
          ORDER BY period_end DESC, id DESC LIMIT 1",
    )
    .bind(pairing_id)
    .bind(indicator_id)
    .bind(month)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((amount,)) = latest {
        sqlx::query("INSERT INTO indicator_rollups (pairing_id, indicator_id, month, framework_id, own_amount, cum_amount) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(pairing_id)
            .bind(indicator_id)
            .bind(month)
            .bind(framework_id)
            .bind(amount)
            .execute(&mut *conn)
            .await?;
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
    as_of_within(db, framework_id, None, date).await
}

/// [`as_of`] for one pairing of the framework, or all of them.
pub async fn as_of_within(
    db: &Db,
    framework_id: i64,
    only: Option<i64>,
    date: Date,
) -> Result<BTreeMap<(i64, i64), i64>> {
    let (combine, ids) = combines(db).await?;
    let mut out = lookups(db, framework_id, only, date, None).await?;
    add_month_so_far(db, framework_id, only, date, &combine, &ids, &mut out).await?;
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
    framework_id: i64,
    date: Date,
    per_pairing_ids: &[i64],
) -> Result<Totals> {
    let (combine, ids) = combines(db).await?;
    let mut month_so_far = BTreeMap::new();
    add_month_so_far(
        db,
        framework_id,
        None,
        date,
        &combine,
        &ids,
        &mut month_so_far,
    )
    .await?;
    let mut per_pairing = lookups(db, framework_id, None, date, Some(per_pairing_ids)).await?;
    for ((p, i), a) in &month_so_far {
        if per_pairing_ids.contains(i) {
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
    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT i.id, CAST(SUM((SELECT r.cum_amount FROM indicator_rollups r
                                 WHERE r.pairing_id = p.id AND r.indicator_id = i.id AND r.month < $2
                                 ORDER BY r.month DESC LIMIT 1)) AS BIGINT)
           FROM pairings p CROSS JOIN indicators i
          WHERE p.framework_id = $1 AND i.id NOT IN ({list})
            AND i.id IN (SELECT indicator_id FROM framework_indicators WHERE framework_id = $1)
          GROUP BY i.id"
    ))
    .bind(framework_id)
    .bind(month_key(date))
    .fetch_all(db.pool())
    .await?;
    let mut sums: BTreeMap<i64, i64> = rows.into_iter().map(|(i, a)| (i, a.unwrap_or(0))).collect();
    for ((_, i), a) in month_so_far {
        if !per_pairing_ids.contains(&i) {
            *sums.entry(i).or_insert(0) += a;
        }
    }
    Ok(Totals { sums, per_pairing })
}

/// Each pairing's running total (or stock) through the month before `date`'s, read from the
/// roll-ups: one index lookup per pairing and indicator. `indicators` narrows the indicators
/// (default: the framework's list and the bases of its counts of pairs).
async fn lookups(
    db: &Db,
    framework_id: i64,
    only: Option<i64>,
    date: Date,
    indicators: Option<&[i64]>,
) -> Result<BTreeMap<(i64, i64), i64>> {
    let pairings = if only.is_some() {
        "p.id = $3"
    } else {
        "p.framework_id = $1 AND $3 = 0"
    };
    let wanted = match indicators {
        Some([]) => return Ok(BTreeMap::new()),
        Some(list) => format!("i.id IN ({})", list.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
        None => "(i.id IN (SELECT indicator_id FROM framework_indicators WHERE framework_id = $1)
                 OR i.code IN (SELECT j.basis_code FROM indicators j JOIN framework_indicators fj ON fj.indicator_id = j.id
                                WHERE fj.framework_id = $1 AND j.basis_code IS NOT NULL))"
            .to_string(),
    };
    let rows: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT p.id, i.id,
                (SELECT r.cum_amount FROM indicator_rollups r
                  WHERE r.pairing_id = p.id AND r.indicator_id = i.id AND r.month < $2
                  ORDER BY r.month DESC LIMIT 1)
           FROM pairings p CROSS JOIN indicators i
          WHERE {pairings} AND $1 = $1 AND {wanted}"
    ))
    .bind(framework_id)
    .bind(month_key(date))
    .bind(only.unwrap_or(0))
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(p, i, a)| a.map(|a| ((p, i), a)))
        .collect())
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
    let values: Vec<(i64, i64, i64)> = sqlx::query_as(&format!(
        "SELECT pairing_id, indicator_id, amount FROM indicator_values
          WHERE {scope} AND status = 'current' AND period_end >= $2 AND period_end <= $3
          ORDER BY period_end, id"
    ))
    .bind(key)
    .bind(&month_start)
    .bind(&day)
    .fetch_all(db.pool())
    .await?;
    for (p, i, amount) in values {
        match combine.get(&i) {
            Some(Combine::Latest) => {
                out.insert((p, i), amount);
            }
            _ => *out.entry((p, i)).or_insert(0) += amount,
        }
    }
    type Group = (i64, String, String, i64, i64, i64, i64, i64);
    let groups: Vec<Group> = sqlx::query_as(&format!(
        "SELECT pairing_id, kind, category, COUNT(*), CAST(SUM(headcount) AS BIGINT), CAST(SUM(amount) AS BIGINT),
                CAST(SUM(area_mu) AS BIGINT), CAST(SUM(weight_kg) AS BIGINT)
           FROM activities
          WHERE {scope} AND occurred_on >= $2 AND occurred_on <= $3
          GROUP BY pairing_id, kind, category"
    ))
    .bind(key)
    .bind(&month_start)
    .bind(&day)
    .fetch_all(db.pool())
    .await?;
    for (p, kind, category, events, headcount, amount, area_mu, weight_kg) in groups {
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
    let rows: Vec<ActivityRow> = sqlx::query_as(
        "SELECT pairing_id, occurred_on, kind, category, headcount, amount, area_mu, weight_kg FROM activities
          WHERE framework_id = $1 AND occurred_on >= $2 AND occurred_on <= $3",
    )
    .bind(framework_id)
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
    let mut table = Table::new();
    let mut running: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for ((p, i, m), amount) in own {
        let stock = combine.get(&i) == Some(&Combine::Latest);
        if !stock && amount == 0 {
            continue;
        }
        let cum = if stock {
            amount
        } else {
            let r = running.entry((p, i)).or_insert(0);
            *r += amount;
            *r
        };
        table.insert((p, i, m), (amount, cum));
    }
    Ok(table)
}

/// A framework's own amount per month for one indicator in `from..=to` (`YYYY-MM`), for the
/// time-series chart; months without figures are absent.
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
