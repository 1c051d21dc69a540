//! Reported values: one current value per pairing, indicator and period; a correction supersedes
//! it and keeps the history; roll-ups move by the difference in the same transaction.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use xietong_core::audit::Change;
use xietong_core::db::TextParams;
use xietong_core::error::{Error, FieldError, Msg, Problems, Result};
use xietong_core::permissions::Actor;
use xietong_core::Db;

use super::catalogue::Indicator;
use super::rollups::{self, Delta};
use super::{authorize_pairings, pairings_of, PairingFacts};
use crate::periods::Period;
use crate::rules::Combine;
use crate::units;
use xietong_core::progress::{Phases, Progress, Silent};

/// One figure to record. `at` names where it came from in errors (a field, or a sheet cell).
#[derive(Debug, Clone)]
pub struct ValueInput {
    pub at: String,
    pub pairing_id: i64,
    pub indicator: String,
    pub period: String,
    pub amount: String,
    pub evidence: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WriteSummary {
    pub created: usize,
    pub corrected: usize,
    pub unchanged: usize,
}

/// A checked figure, ready to write.
#[derive(Debug, Clone)]
struct Checked {
    pairing: i64,
    indicator: i64,
    stock: bool,
    period: Period,
    amount: i64,
    entered: String,
    evidence: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ValueRecord {
    pub id: i64,
    pub pairing_id: i64,
    pub indicator_id: i64,
    pub period: String,
    pub amount: i64,
    pub entered: String,
    pub evidence: String,
    pub reporter: String,
    pub reported_at: String,
    /// `current`, `superseded` (by a correction) or `deleted`.
    pub status: String,
    pub supersedes: Option<i64>,
}

fn cell_error(at: &str, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new(at, code, Msg::new(zh, en))
}

/// Checks every input against the catalogue, the pairings' lives and the activities already
/// recorded, collecting every problem before anything is written.
async fn check(
    db: &Db,
    framework_id: i64,
    indicators: &BTreeMap<String, Indicator>,
    pairings: &BTreeMap<i64, PairingFacts>,
    inputs: &[ValueInput],
) -> Result<Vec<Checked>> {
    let today = crate::today();
    let mut problems = Problems::new();
    let mut out = Vec::new();
    let mut seen: BTreeMap<(i64, i64, String), String> = BTreeMap::new();
    for input in inputs {
        let at = input.at.as_str();
        let Some(ind) = indicators.get(input.indicator.trim()) else {
            problems.push(cell_error(
                at,
                "indicator_unknown",
                format!("本框架不报送指标“{}”", input.indicator),
                format!(
                    "this framework does not report the indicator “{}”",
                    input.indicator
                ),
            ));
            continue;
        };
        if ind.combine() == Combine::CountPairs {
            problems.push(cell_error(
                at,
                "indicator_computed",
                format!("“{}”由各结对情况自动统计，不能填报", ind.name_zh),
                format!(
                    "“{}” is counted from the pairs and cannot be typed",
                    ind.name_en
                ),
            ));
            continue;
        }
        let Some(pairing) = pairings.get(&input.pairing_id) else {
            problems.push(cell_error(
                at,
                "pairing_unknown",
                format!("结对{}不属于本框架", input.pairing_id),
                format!("pairing {} is not in this framework", input.pairing_id),
            ));
            continue;
        };
        let Some(period) = problems.take(Period::parse(at, &input.period)) else {
            continue;
        };
        if let Some(start) = pairing.started() {
            if period.start < start {
                problems.push(cell_error(
                    at,
                    "period_before_pairing",
                    format!(
                        "报送期{}早于结对{}建立日期{}",
                        period.key(),
                        pairing.label(),
                        start
                    ),
                    format!(
                        "the period {} begins before the pairing {} started on {}",
                        period.key(),
                        pairing.label(),
                        start
                    ),
                ));
                continue;
            }
        }
        if !pairing.alive_on(period.start) {
            let when = pairing.ended_on.clone().unwrap_or_default();
            problems.push(cell_error(
                at,
                "pairing_ended",
                format!(
                    "结对{}已于{when}终止，报送期{}在此之后",
                    pairing.label(),
                    period.key()
                ),
                format!(
                    "the pairing {} ended {when}, before the period {}",
                    pairing.label(),
                    period.key()
                ),
            ));
            continue;
        }
        if period.start > today {
            problems.push(cell_error(
                at,
                "period_in_future",
                format!("报送期{}尚未开始", period.key()),
                format!("the period {} has not begun", period.key()),
            ));
            continue;
        }
        let Some(amount) = problems.take(units::parse_quantity(at, &input.amount, ind.unit()))
        else {
            continue;
        };
        if let Some(max) = ind.plausible_max {
            if amount > max.saturating_mul(ind.unit().factor()) {
                problems.push(cell_error(at, "implausible", format!("“{}”超过单期合理上限{}{}，是否把元当作万元或万当作亿？", input.amount.trim(), max, ind.unit), format!("“{}” exceeds the plausible maximum of {} {} for one period: 元 typed as 万元, or 万 as 亿?", input.amount.trim(), max, ind.unit)));
                continue;
            }
        }
        let key = (pairing.id, ind.id, period.key());
        if let Some(first) = seen.get(&key) {
            problems.push(cell_error(
                at,
                "duplicate",
                format!("与{first}重复：同一结对、指标和报送期只能有一个数"),
                format!("duplicates {first}: one figure per pairing, indicator and period"),
            ));
            continue;
        }
        seen.insert(key, at.to_string());
        out.push(Checked {
            pairing: pairing.id,
            indicator: ind.id,
            stock: ind.combine() == Combine::Latest,
            period,
            amount,
            entered: input.amount.trim().to_string(),
            evidence: input.evidence.trim().chars().take(500).collect(),
        });
    }
    refuse_double_entry(db, framework_id, indicators, inputs, &out, &mut problems).await?;
    problems.into_result()?;
    Ok(out)
}

/// A derivable indicator typed by hand where activities of the same pairing and period already
/// feed it would count twice: refused.
async fn refuse_double_entry(
    db: &Db,
    framework_id: i64,
    indicators: &BTreeMap<String, Indicator>,
    inputs: &[ValueInput],
    checked: &[Checked],
    problems: &mut Problems,
) -> Result<()> {
    let derivable: BTreeSet<i64> = indicators
        .values()
        .filter(|i| i.derivable())
        .map(|i| i.id)
        .collect();
    let candidates: Vec<&Checked> = checked
        .iter()
        .filter(|c| derivable.contains(&c.indicator))
        .collect();
    let (Some(from), Some(to)) = (
        candidates.iter().map(|c| c.period.start).min(),
        candidates.iter().map(|c| c.period.end).max(),
    ) else {
        return Ok(());
    };
    let codes: BTreeMap<i64, &str> = indicators
        .values()
        .map(|i| (i.id, i.code.as_str()))
        .collect();
    let activities =
        rollups::activities_between(db, framework_id, &from.to_string(), &to.to_string()).await?;
    // By pairing, so a sheet's figures are each checked against their own pairing's records.
    let mut by_pairing: BTreeMap<i64, Vec<&rollups::ActivityFacts>> = BTreeMap::new();
    for a in &activities {
        by_pairing.entry(a.pairing).or_default().push(a);
    }
    for c in candidates {
        let code = codes.get(&c.indicator).copied().unwrap_or("");
        let (start, end) = (c.period.start.to_string(), c.period.end.to_string());
        let own = by_pairing.get(&c.pairing).map(Vec::as_slice).unwrap_or(&[]);
        let collides = own.iter().any(|a| {
            a.day >= start && a.day <= end && a.contributions().iter().any(|(k, _)| *k == code)
        });
        if collides {
            let at = inputs
                .iter()
                .find(|i| i.pairing_id == c.pairing && i.indicator.trim() == code)
                .map(|i| i.at.clone())
                .unwrap_or_default();
            problems.push(cell_error(&at, "double_entry", format!("该结对{}的“{code}”已由活动记录自动生成，不能再手工填报", c.period.key()), format!("“{code}” for this pairing in {} is already derived from recorded activities; typing it too would count it twice", c.period.key())));
        }
    }
    Ok(())
}

/// Records `inputs` for one framework all-or-nothing: unchanged figures are skipped, changed ones
/// supersede the current value, and the roll-ups move by the difference.
pub async fn write(
    db: &Db,
    actor: &Actor,
    framework_id: i64,
    inputs: &[ValueInput],
    origin: &str,
) -> Result<WriteSummary> {
    write_reporting(db, actor, framework_id, inputs, origin, &Silent).await
}

/// [`write`], reporting its progress through the check and the write.
pub async fn write_reporting(
    db: &Db,
    actor: &Actor,
    framework_id: i64,
    inputs: &[ValueInput],
    origin: &str,
    progress: &dyn Progress,
) -> Result<WriteSummary> {
    progress.step("check", 0, inputs.len());
    let mut phases = Phases::new();
    let indicators: BTreeMap<String, Indicator> = super::catalogue::for_framework(db, framework_id)
        .await?
        .into_iter()
        .map(|i| (i.code.clone(), i))
        .collect();
    let pairings = pairings_of(db, framework_id).await?;
    let checked = check(db, framework_id, &indicators, &pairings, inputs).await?;
    phases.mark("checked");
    let touched: BTreeSet<i64> = checked.iter().map(|c| c.pairing).collect();
    let region = super::actor_region(db, actor).await?;
    for p in touched.iter().filter_map(|p| pairings.get(p)) {
        xietong_core::write::require_decision(super::may_report(
            Some(actor),
            p,
            region.as_deref(),
        ))?;
    }
    let unchanged_only = {
        let mut conn = db.pool().acquire().await?;
        let current = current_values(&mut conn, framework_id, &checked).await?;
        checked.iter().all(|c| {
            current
                .get(&(c.pairing, c.indicator, c.period.key()))
                .is_some_and(|(_, a)| *a == c.amount)
        })
    };
    if unchanged_only {
        // The same figures again: nothing to store, not even an audit record.
        return Ok(WriteSummary {
            unchanged: checked.len(),
            ..Default::default()
        });
    }
    phases.mark("compared");
    let mut w = db.write(actor).await?;
    authorize_pairings(db, &mut w, touched.iter().filter_map(|p| pairings.get(p))).await?;
    let current = current_values(w.conn(), framework_id, &checked).await?;
    phases.mark("compared again in the transaction");
    let now = xietong_core::clock::now_rfc3339();
    let mut summary = WriteSummary::default();
    let mut deltas = Vec::new();
    let mut restock = BTreeSet::new();
    let mut superseded = Vec::new();
    let mut fresh: Vec<(&Checked, Option<i64>)> = Vec::new();
    for c in &checked {
        let key = (c.pairing, c.indicator, c.period.key());
        let before = current.get(&key);
        match before {
            Some((_, amount)) if *amount == c.amount => {
                summary.unchanged += 1;
                continue;
            }
            Some((id, _)) => {
                summary.corrected += 1;
                superseded.push(*id);
            }
            None => summary.created += 1,
        }
        let was = before.map(|b| b.1).unwrap_or(0);
        if c.stock {
            restock.insert((c.pairing, c.indicator, c.period.month()));
        } else {
            deltas.push(Delta {
                framework_id,
                pairing_id: c.pairing,
                indicator_id: c.indicator,
                month: c.period.month(),
                amount: c.amount - was,
            });
        }
        fresh.push((c, before.map(|b| b.0)));
    }
    for chunk in superseded.chunks(400) {
        let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
        sqlx::query(&format!(
            "UPDATE indicator_values SET status = 'superseded' WHERE id IN ({})",
            ids.join(", ")
        ))
        .execute(w.conn())
        .await?;
    }
    progress.step("check", inputs.len(), inputs.len());
    insert_values(
        w.conn(),
        framework_id,
        &fresh,
        &actor.username,
        &now,
        progress,
    )
    .await?;
    phases.mark("values written");
    rollups::apply(w.conn(), &deltas).await?;
    for (p, i, m) in restock {
        rollups::restock(w.conn(), framework_id, p, i, &m).await?;
    }
    phases.mark("roll-ups moved");
    let change = if inputs.len() == 1 && fresh.len() == 1 {
        let (c, supersedes) = fresh[0];
        Change::created(
            "indicator_value",
            format!("{}/{}/{}", c.pairing, c.indicator, c.period.key()),
            serde_json::json!({"amount": c.amount, "entered": c.entered, "supersedes": supersedes}),
        )
    } else {
        Change::created(
            "indicator_values",
            origin,
            serde_json::json!({"framework_id": framework_id, "summary": &summary}),
        )
    };
    w.record(change).await?;
    w.commit().await?;
    phases.mark("committed");
    tracing::debug!(?summary, phases = %phases.summary(), "indicator values written");
    Ok(summary)
}

type CurrentMap = BTreeMap<(i64, i64, String), (i64, i64)>;

/// The current value id and amount for each checked key that has one.
async fn current_values(
    conn: &mut sqlx::AnyConnection,
    framework_id: i64,
    checked: &[Checked],
) -> Result<CurrentMap> {
    // A period's end follows from its key: naming it reads the period's rows from the index
    // on (framework, end) instead of every value the framework ever had.
    let periods: BTreeSet<(String, String)> = checked
        .iter()
        .map(|c| (c.period.key(), c.period.end.to_string()))
        .collect();
    let mut out = CurrentMap::new();
    for (period, end) in periods {
        let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT id, pairing_id, indicator_id, amount FROM indicator_values
              WHERE framework_id = $1 AND period_end = $2 AND period = $3 AND status = 'current'",
        )
        .bind(framework_id)
        .bind(&end)
        .bind(&period)
        .fetch_all(&mut *conn)
        .await?;
        for (id, p, i, amount) in rows {
            out.insert((p, i, period.clone()), (id, amount));
        }
    }
    Ok(out)
}

/// Inserts the new current values, many rows to a statement, as each engine takes them fastest.
async fn insert_values(
    conn: &mut sqlx::AnyConnection,
    framework_id: i64,
    fresh: &[(&Checked, Option<i64>)],
    reporter: &str,
    now: &str,
    progress: &dyn Progress,
) -> Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        insert_values_recordset(conn, framework_id, fresh, reporter, now, progress).await
    } else {
        insert_values_inline(conn, framework_id, fresh, reporter, now, progress).await
    }
}

/// [`insert_values`] on SQLite, whose binding cost grows faster than the parameters bound: keys,
/// amounts and the periods' keys and dates are written inline (integers and dates this module
/// made from parsed input); each distinct text as typed (the figure as entered, the evidence) is
/// bound once per statement. A sheet repeats few texts, so its 40,000 rows take a few dozen
/// statements (0.25 s, where binding ten parameters a row took 0.55 s).
async fn insert_values_inline(
    conn: &mut sqlx::AnyConnection,
    framework_id: i64,
    fresh: &[(&Checked, Option<i64>)],
    reporter: &str,
    now: &str,
    progress: &dyn Progress,
) -> Result<()> {
    const ROWS: usize = 1000;
    let max_params = xietong_core::db::rows_per_statement_on(conn, 1);
    let mut rest = fresh;
    while !rest.is_empty() {
        let mut sql = String::from("INSERT INTO indicator_values (framework_id, pairing_id, indicator_id, period, period_start, period_end, month, amount, entered, evidence, reporter, reported_at, supersedes, status) VALUES ");
        // $1 and $2 are the shared reporter and time; each distinct text follows once.
        let mut params = TextParams::new(&[reporter, now]);
        let mut rows = 0;
        for (c, supersedes) in rest {
            let new_texts = params.unseen(&[&c.entered, &c.evidence]);
            if rows == ROWS || (rows > 0 && params.len() + new_texts > max_params) {
                break;
            }
            let entered = params.number(&c.entered);
            let evidence = params.number(&c.evidence);
            if rows > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&value_row(framework_id, c, *supersedes, entered, evidence));
            rows += 1;
        }
        let mut q = sqlx::query(&sql).persistent(false);
        for t in params.texts() {
            q = q.bind(*t);
        }
        q.execute(&mut *conn).await?;
        rest = &rest[rows..];
        progress.step("write", fresh.len() - rest.len(), fresh.len());
    }
    Ok(())
}

/// [`insert_values`] on PostgreSQL: the rows travel as one JSON document per statement, which
/// the server unpacks (`json_to_recordset`): one parameter instead of ten a row, and one
/// statement text however many rows. Keys are one letter and empty ones are left out, which
/// halves the document and a third of the time the server takes to parse it. The time is the
/// server's either way (~0.7 s for a 40,000-row sheet at full scale, most of it writing the rows
/// with their four indexes and checking their three foreign keys; see BENCHMARKS.md).
async fn insert_values_recordset(
    conn: &mut sqlx::AnyConnection,
    framework_id: i64,
    fresh: &[(&Checked, Option<i64>)],
    reporter: &str,
    now: &str,
    progress: &dyn Progress,
) -> Result<()> {
    /// A value row as the server unpacks it; the shared columns are bound once.
    #[derive(serde::Serialize)]
    struct Row<'a> {
        /// pairing
        p: i64,
        /// indicator
        i: i64,
        /// period key, start, end and month
        k: String,
        s: String,
        e: String,
        m: String,
        /// amount, and the figure as entered
        a: i64,
        n: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        v: &'a str,
        /// the value it supersedes
        #[serde(skip_serializing_if = "Option::is_none")]
        x: Option<i64>,
    }
    // Chunks keep the progress bar moving; each is still a single round trip.
    const ROWS: usize = 5000;
    let mut done = 0;
    for chunk in fresh.chunks(ROWS) {
        let rows: Vec<Row> = chunk
            .iter()
            .map(|(c, supersedes)| Row {
                p: c.pairing,
                i: c.indicator,
                k: c.period.key(),
                s: c.period.start.to_string(),
                e: c.period.end.to_string(),
                m: c.period.month(),
                a: c.amount,
                n: &c.entered,
                v: &c.evidence,
                x: *supersedes,
            })
            .collect();
        let document = serde_json::to_string(&rows)
            .map_err(|e| xietong_core::error::Error::Internal(e.to_string()))?;
        sqlx::query(
            "INSERT INTO indicator_values (framework_id, pairing_id, indicator_id, period, period_start, period_end, month, amount, entered, evidence, reporter, reported_at, supersedes, status)
             SELECT $1, p, i, k, s, e, m, a, n, COALESCE(v, ''), $2, $3, x, 'current'
               FROM json_to_recordset(CAST($4 AS json))
                    AS r(p BIGINT, i BIGINT, k TEXT, s TEXT, e TEXT, m TEXT, a BIGINT, n TEXT, v TEXT, x BIGINT)",
        )
        .bind(framework_id)
        .bind(reporter)
        .bind(now)
        .bind(document)
        .execute(&mut *conn)
        .await?;
        done += chunk.len();
        progress.step("write", done, fresh.len());
    }
    Ok(())
}

/// One row of [`insert_values_inline`], its typed texts bound as `$entered` and `$evidence`.
fn value_row(
    framework_id: i64,
    c: &Checked,
    supersedes: Option<i64>,
    entered: usize,
    evidence: usize,
) -> String {
    let supersedes = supersedes.map_or_else(|| "NULL".to_string(), |id| id.to_string());
    format!(
        "({framework_id}, {}, {}, '{}', '{}', '{}', '{}', {}, ${entered}, ${evidence}, $1, $2, {supersedes}, 'current')",
        c.pairing,
        c.indicator,
        c.period.key(),
        c.period.start,
        c.period.end,
        c.period.month(),
        c.amount
    )
}

pub async fn get(db: &Db, id: i64) -> Result<ValueRecord> {
    sqlx::query_as("SELECT id, pairing_id, indicator_id, period, amount, entered, evidence, reporter, reported_at, status, supersedes FROM indicator_values WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("indicator_value", id))
}

/// The latest `limit` values a pairing reported, newest period first, corrections and
/// deletions included.
pub async fn history(db: &Db, pairing_id: i64, limit: i64) -> Result<Vec<ValueRecord>> {
    Ok(sqlx::query_as("SELECT id, pairing_id, indicator_id, period, amount, entered, evidence, reporter, reported_at, status, supersedes FROM indicator_values WHERE pairing_id = $1 ORDER BY period_end DESC, indicator_id, id DESC LIMIT $2")
        .bind(pairing_id)
        .bind(limit)
        .fetch_all(db.pool())
        .await?)
}

/// Withdraws a current value; the roll-ups lose its amount and the record stays as `deleted`.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<()> {
    let value = get(db, id).await?;
    if value.status != "current" {
        return Err(Error::conflict(
            "value_not_current",
            "该数值已被更正或撤回，不能再撤回",
            "this value was already corrected or withdrawn",
        ));
    }
    let pairing = super::pairing(db, value.pairing_id).await?;
    let (combines, _) = rollups::combines(db).await?;
    let (month,): (String,) = sqlx::query_as("SELECT month FROM indicator_values WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    let mut w = db.write(actor).await?;
    authorize_pairings(db, &mut w, [&pairing]).await?;
    let changed = sqlx::query(
        "UPDATE indicator_values SET status = 'deleted' WHERE id = $1 AND status = 'current'",
    )
    .bind(id)
    .execute(w.conn())
    .await?;
    if changed.rows_affected() != 1 {
        return Err(Error::conflict(
            "value_not_current",
            "该数值已被更正或撤回，不能再撤回",
            "this value was already corrected or withdrawn",
        ));
    }
    if combines.get(&value.indicator_id) == Some(&Combine::Latest) {
        rollups::restock(
            w.conn(),
            pairing.framework_id,
            pairing.id,
            value.indicator_id,
            &month,
        )
        .await?;
    } else {
        rollups::apply(
            w.conn(),
            &[Delta {
                framework_id: pairing.framework_id,
                pairing_id: pairing.id,
                indicator_id: value.indicator_id,
                month,
                amount: -value.amount,
            }],
        )
        .await?;
    }
    w.record(Change::deleted("indicator_value", id, &value))
        .await?;
    w.commit().await?;
    Ok(())
}
