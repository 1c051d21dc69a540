//! The lag sweep: derives every open task's lags, opens an alert for each new one, closes the
//! alerts of tasks that caught up, and stores the derived statuses — in one transaction, so a
//! sweep killed midway leaves nothing half-made. Running it twice changes nothing the second time.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use time::Date;
use xietong_core::audit::Change;
use xietong_core::db::TextParams;
use xietong_core::domain::text;
use xietong_core::error::{Error, Result};
use xietong_core::lags::{ForeignLag, LagFinder};
use xietong_core::permissions::{Actor, Decision, Role};
use xietong_core::progress::Phases;
use xietong_core::Db;

use crate::domain::{self, Lag, LagRules};
use crate::projects_rules::{self, PlanFacts};
use crate::store::tasks::facts_of;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SweepOutcome {
    pub tasks: usize,
    pub projects: usize,
    pub opened: usize,
    pub closed: usize,
    pub statuses_changed: usize,
    /// True when another instance already ran this scheduled slot.
    pub skipped: bool,
    /// Letters escalated because their answer was overdue (filled by the caller after the sweep).
    pub letters_escalated: usize,
}

fn rule_of(lag: &Lag) -> &'static str {
    match lag {
        Lag::PastDeadline => "past_deadline",
        Lag::ReportMissing { .. } => "report_missing",
        Lag::MilestoneOverdue { .. } => "milestone_overdue",
        Lag::Behind { .. } => "behind",
    }
}

fn describe(lag: &Lag, deadline: &str) -> (String, String) {
    match lag {
        Lag::PastDeadline => (
            format!("已过截止日期 {deadline} 仍未完成"),
            format!("past its deadline {deadline} and not done"),
        ),
        Lag::ReportMissing { period } => (
            format!("{period} 进度未按时报送"),
            format!("no progress report for {period}"),
        ),
        Lag::MilestoneOverdue { count } => (
            format!("{count} 个节点逾期未完成"),
            format!("{count} milestone(s) overdue"),
        ),
        Lag::Behind { expected, reported } => (
            format!("进度 {reported}% 落后于时序进度 {expected}%"),
            format!("reported {reported}% against {expected}% of its time elapsed"),
        ),
    }
}

/// Who may run the sweep by hand: admins and coordinators (it only derives, never decides).
pub fn may_run(actor: &Actor) -> Decision {
    if actor.is_admin() || actor.has_role(Role::Coordinator) {
        Decision::Allow
    } else {
        Decision::Deny
    }
}

/// The rules whose open alerts a task's open-lag bits stand for, bit 0 first.
pub const TASK_RULES: [&str; 4] = [
    "past_deadline",
    "report_missing",
    "milestone_overdue",
    "behind",
];
/// Likewise for a project's.
pub const PROJECT_RULES: [&str; 2] = ["behind_plan", "not_started"];

fn bit_of(rules: &[&str], rule: &str) -> i64 {
    rules
        .iter()
        .position(|r| *r == rule)
        .map(|i| 1 << i)
        .unwrap_or(0)
}

/// One alert the sweep opens.
struct Found {
    rule: &'static str,
    kind: &'static str,
    id: i64,
    framework_id: i64,
    unit: Option<i64>,
    zh: String,
    en: String,
    /// Empty for tasks and projects, whose codes and titles letters read from their rows.
    code: String,
    title: String,
}

/// Alerts to close: subject ids by subject kind and rule.
type Closing = HashMap<(&'static str, &'static str), Vec<i64>>;

/// Rows are read packed, many subjects to a row (fields joined by `,`, subjects by `;`): the
/// driver's cost is per row, and a national register has hundreds of thousands of open tasks.
/// Every packed field is a number, a date, a period or a key without commas or semicolons.
const PACK: i64 = 1000;

fn packed_field<'a>(
    fields: &mut std::str::Split<'a, char>,
    what: &str,
) -> std::result::Result<&'a str, Error> {
    fields
        .next()
        .ok_or_else(|| Error::Internal(format!("sweep: packed row without {what}")))
}

/// Checks a packed row had nothing after its last field.
fn packed_end(mut fields: std::str::Split<'_, char>) -> Result<()> {
    match fields.next() {
        None => Ok(()),
        Some(extra) => Err(Error::Internal(format!(
            "sweep: packed row with an extra field “{extra}”"
        ))),
    }
}

fn packed_int(s: &str, what: &str) -> Result<i64> {
    s.parse()
        .map_err(|_| Error::Internal(format!("sweep: packed {what} “{s}” is not a number")))
}

fn packed_opt_int(s: &str, what: &str) -> Result<Option<i64>> {
    if s.is_empty() {
        Ok(None)
    } else {
        packed_int(s, what).map(Some)
    }
}

/// Lists integer ids this database produced inline, in chunks.
fn id_lists(ids: &[i64]) -> impl Iterator<Item = String> + '_ {
    ids.chunks(1000).map(|chunk| {
        chunk
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// Runs the sweep for `today`. With a `slot` (e.g. `2026-11-29`), a slot already run by any
/// instance is skipped: the database's unique key, not process memory, decides.
///
/// Each task and project has its open lags (`task_open_lags` / `project_open_lags`: one bit
/// per rule, equal to its open alerts; a row only while any is open): the sweep derives
/// today's lags, and only where they differ opens or closes alerts and moves the bits, in the
/// same transaction.
pub async fn run(
    db: &Db,
    actor: &Actor,
    today: Date,
    slot: Option<&str>,
    rules: &LagRules,
    finders: &[LagFinder],
) -> Result<SweepOutcome> {
    // Other features' lags are read first, outside the write transaction.
    let mut foreign: Vec<ForeignLag> = Vec::new();
    for f in finders {
        foreign.extend((f.find)(db, today).await?);
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(may_run(actor))?;
    let mut phases = Phases::new();
    if let Some(slot) = slot {
        let inserted = sqlx::query("INSERT INTO sweep_runs (slot, started_at) VALUES ($1, $2) ON CONFLICT (slot) DO NOTHING")
            .bind(slot)
            .bind(xietong_core::clock::now_rfc3339())
            .execute(w.conn())
            .await?;
        if inserted.rows_affected() == 0 {
            return Ok(SweepOutcome {
                skipped: true,
                ..Default::default()
            });
        }
    }
    let overdue: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT task_id, COUNT(*) FROM milestones WHERE done_on IS NULL AND due_on < $1 GROUP BY task_id",
    )
    .bind(text::format_date(today))
    .fetch_all(w.conn())
    .await?;
    let overdue: HashMap<i64, i64> = overdue.into_iter().collect();
    let packs: Vec<(Option<String>,)> = sqlx::query_as(&format!(
        "SELECT string_agg(CAST(t.id AS TEXT) || ',' || CAST(t.framework_id AS TEXT) || ',' || CAST(t.lead_org_id AS TEXT)
                || ',' || t.start_on || ',' || t.deadline || ',' || t.status
                || ',' || COALESCE(CAST(t.latest_percent AS TEXT), '') || ',' || COALESCE(t.latest_period, '')
                || ',' || CAST(t.year AS TEXT) || ',' || t.area || ',' || CAST(COALESCE(l.bits, 0) AS TEXT), ';')
           FROM tasks t LEFT JOIN task_open_lags l ON l.task_id = t.id
          WHERE t.resolution IS NULL GROUP BY t.id / {PACK}"
    ))
    .fetch_all(w.conn())
    .await?;
    phases.mark("tasks read");

    let mut opened: Vec<Found> = Vec::new();
    let mut closing: Closing = HashMap::new();
    // New statuses by status, and new bits by task, written in a few set statements after the loop.
    let mut status_updates: HashMap<&'static str, Vec<i64>> = HashMap::new();
    let mut task_bits: Vec<BitsChange> = Vec::new();
    let mut outcome = SweepOutcome::default();
    // The report card's counts of tasks by status move with the statuses.
    let mut deltas = crate::store::rollups::Deltas::default();
    for pack in packs.iter().filter_map(|(p,)| p.as_deref()) {
        for row in pack.split(';') {
            let mut f = row.split(',');
            let id = packed_int(packed_field(&mut f, "id")?, "id")?;
            let framework_id = packed_int(packed_field(&mut f, "framework")?, "framework")?;
            let lead = packed_int(packed_field(&mut f, "lead")?, "lead")?;
            let start_on = packed_field(&mut f, "start")?;
            let deadline = packed_field(&mut f, "deadline")?;
            let stored_status = packed_field(&mut f, "status")?;
            let percent = packed_opt_int(packed_field(&mut f, "percent")?, "percent")?;
            let period = packed_field(&mut f, "period")?;
            let year = packed_int(packed_field(&mut f, "year")?, "year")?;
            let area = packed_field(&mut f, "area")?;
            let stored_bits = packed_int(packed_field(&mut f, "open lags")?, "open lags")?;
            packed_end(f)?;
            outcome.tasks += 1;
            let latest = match (percent, period) {
                (Some(p), per) if !per.is_empty() => Some((p, per)),
                _ => None,
            };
            let facts = facts_of(
                start_on,
                deadline,
                None,
                latest,
                overdue.get(&id).copied().unwrap_or(0) as usize,
            )?;
            let status = domain::status(&facts, today, rules);
            let lags = domain::lags(&facts, today, rules);
            let mut bits = 0;
            for lag in &lags {
                let rule = rule_of(lag);
                let bit = bit_of(&TASK_RULES, rule);
                bits |= bit;
                if stored_bits & bit == 0 {
                    let (zh, en) = describe(lag, deadline);
                    opened.push(Found {
                        rule,
                        kind: "task",
                        id,
                        framework_id,
                        unit: Some(lead),
                        zh,
                        en,
                        code: String::new(),
                        title: String::new(),
                    });
                }
            }
            for (i, rule) in TASK_RULES.iter().enumerate() {
                if stored_bits & !bits & (1 << i) != 0 {
                    closing.entry(("task", rule)).or_default().push(id);
                }
            }
            if status.as_str() != stored_status {
                deltas.task_status(framework_id, year, area, stored_status, status.as_str());
                outcome.statuses_changed += 1;
                status_updates.entry(status.as_str()).or_default().push(id);
            }
            if bits != stored_bits {
                task_bits.push(BitsChange {
                    id,
                    stored: stored_bits,
                    bits,
                });
            }
        }
    }
    drop(packs);
    phases.mark("tasks derived");

    // Projects with this year's plan, and those whose open lags must close (no plan this year).
    let packs: Vec<(Option<String>,)> = sqlx::query_as(&format!(
        "SELECT string_agg(CAST(p.id AS TEXT) || ',' || CAST(p.framework_id AS TEXT) || ',' || p.stage
                || ',' || CAST(COALESCE(l.bits, 0) AS TEXT) || ',' || COALESCE(CAST(pl.planned_fen AS TEXT), '')
                || ',' || COALESCE(CAST(pl.completed_fen AS TEXT), '') || ',' || COALESCE(pl.planned_start_on, ''), ';')
           FROM projects p LEFT JOIN project_plans pl ON pl.project_id = p.id AND pl.year = $1
                LEFT JOIN project_open_lags l ON l.project_id = p.id
          WHERE pl.project_id IS NOT NULL OR l.project_id IS NOT NULL
          GROUP BY p.id / {PACK}"
    ))
    .bind(today.year() as i64)
    .fetch_all(w.conn())
    .await?;
    let mut project_bits: Vec<BitsChange> = Vec::new();
    let project_rules = rules.projects();
    for pack in packs.iter().filter_map(|(p,)| p.as_deref()) {
        for row in pack.split(';') {
            let mut f = row.split(',');
            let id = packed_int(packed_field(&mut f, "id")?, "id")?;
            let framework_id = packed_int(packed_field(&mut f, "framework")?, "framework")?;
            let stage = packed_field(&mut f, "stage")?;
            let stored_bits = packed_int(packed_field(&mut f, "open lags")?, "open lags")?;
            let planned = packed_opt_int(packed_field(&mut f, "planned")?, "planned")?;
            let completed = packed_opt_int(packed_field(&mut f, "completed")?, "completed")?;
            let start = packed_field(&mut f, "planned start")?;
            packed_end(f)?;
            let mut bits = 0;
            if let (Some(planned_fen), Some(completed_fen)) = (planned, completed) {
                outcome.projects += 1;
                let facts = PlanFacts {
                    year: today.year(),
                    stage: stage.to_string(),
                    planned_fen,
                    completed_fen,
                    planned_start_on: text::date("planned_start_on", start).ok(),
                };
                for lag in projects_rules::lags(&facts, today, project_rules) {
                    let rule = projects_rules::rule_of(&lag);
                    let bit = bit_of(&PROJECT_RULES, rule);
                    bits |= bit;
                    if stored_bits & bit == 0 {
                        let (zh, en) = projects_rules::describe(&lag);
                        // The responsible unit is looked up below, for new alerts only.
                        opened.push(Found {
                            rule,
                            kind: "project",
                            id,
                            framework_id,
                            unit: None,
                            zh,
                            en,
                            code: String::new(),
                            title: String::new(),
                        });
                    }
                }
            }
            for (i, rule) in PROJECT_RULES.iter().enumerate() {
                if stored_bits & !bits & (1 << i) != 0 {
                    closing.entry(("project", rule)).or_default().push(id);
                }
            }
            if bits != stored_bits {
                project_bits.push(BitsChange {
                    id,
                    stored: stored_bits,
                    bits,
                });
            }
        }
    }
    drop(packs);
    // A new project alert goes to the project's first responsible unit.
    let mut needing: Vec<i64> = opened
        .iter()
        .filter(|f| f.kind == "project")
        .map(|f| f.id)
        .collect();
    needing.dedup();
    let mut first_unit: HashMap<i64, (i64, i64)> = HashMap::new();
    for list in id_lists(&needing) {
        let packs: Vec<(Option<String>,)> = sqlx::query_as(&format!(
            "SELECT string_agg(CAST(project_id AS TEXT) || ',' || CAST(position AS TEXT) || ',' || CAST(org_id AS TEXT), ';')
               FROM project_units WHERE project_id IN ({list})"
        ))
        .fetch_all(w.conn())
        .await?;
        for pack in packs.iter().filter_map(|(p,)| p.as_deref()) {
            for row in pack.split(';') {
                let mut f = row.split(',');
                let project = packed_int(packed_field(&mut f, "project")?, "project")?;
                let position = packed_int(packed_field(&mut f, "position")?, "position")?;
                let org = packed_int(packed_field(&mut f, "unit")?, "unit")?;
                packed_end(f)?;
                let first = first_unit.entry(project).or_insert((position, org));
                if (position, org) < *first {
                    *first = (position, org);
                }
            }
        }
    }
    for f in opened.iter_mut().filter(|f| f.kind == "project") {
        f.unit = first_unit.get(&f.id).map(|(_, org)| *org);
    }
    phases.mark("projects read and derived");

    for (status, ids) in &status_updates {
        // Ids are integers this database produced, so they are listed inline.
        for list in id_lists(ids) {
            sqlx::query(&format!(
                "UPDATE tasks SET status = $1 WHERE id IN ({list})"
            ))
            .bind(*status)
            .execute(w.conn())
            .await?;
        }
    }
    store_bits(&mut w, "task_open_lags", "task_id", &task_bits).await?;
    store_bits(&mut w, "project_open_lags", "project_id", &project_bits).await?;

    phases.mark("statuses and bits written");
    deltas.apply(w.conn()).await?;

    let now = xietong_core::clock::now_rfc3339();
    let foreign_closing = reconcile_foreign(&mut w, finders, foreign, &mut opened).await?;
    outcome.opened = opened.len();
    insert_alerts(&mut w, &opened, &now).await?;
    phases.mark("alerts opened");
    for ((kind, rule), ids) in &closing {
        for list in id_lists(ids) {
            let closed = sqlx::query(&format!(
                "UPDATE alerts SET closed_at = $1 WHERE closed_at IS NULL AND rule = $2 AND subject_kind = $3 AND subject_id IN ({list})"
            ))
            .bind(&now)
            .bind(*rule)
            .bind(*kind)
            .execute(w.conn())
            .await?;
            outcome.closed += closed.rows_affected() as usize;
        }
    }
    for list in id_lists(&foreign_closing) {
        let closed = sqlx::query(&format!(
            "UPDATE alerts SET closed_at = $1 WHERE closed_at IS NULL AND id IN ({list})"
        ))
        .bind(&now)
        .execute(w.conn())
        .await?;
        outcome.closed += closed.rows_affected() as usize;
    }
    if let Some(slot) = slot {
        sqlx::query(
            "UPDATE sweep_runs SET finished_at = $1, opened = $2, closed = $3 WHERE slot = $4",
        )
        .bind(&now)
        .bind(outcome.opened as i64)
        .bind(outcome.closed as i64)
        .bind(slot)
        .execute(w.conn())
        .await?;
    }
    phases.mark("alerts closed");
    w.record(Change::created("sweep", text::format_date(today), &outcome))
        .await?;
    w.commit().await?;
    phases.mark("committed");
    tracing::debug!(?outcome, phases = %phases.summary(), "lag sweep");
    Ok(outcome)
}

/// A subject whose open-lag bits the sweep changes.
struct BitsChange {
    id: i64,
    /// As read: a subject has a row exactly when these are not zero.
    stored: i64,
    bits: i64,
}

/// Stores subjects' new open-lag bits in their narrow table (`table`, keyed by `key`): a row
/// while any bit is set, none once all are clear. A subject read without bits had no row, so its
/// row is a plain insert (most rows of a first sweep); only rows that had bits are upserted. A
/// concurrent sweep that wrote the same row first is refused like its alerts would be. Ids and
/// bits are integers this module computed, written inline.
async fn store_bits(
    w: &mut xietong_core::write::Write<'_>,
    table: &str,
    key: &str,
    changes: &[BitsChange],
) -> Result<()> {
    let cleared: Vec<i64> = changes
        .iter()
        .filter(|c| c.bits == 0)
        .map(|c| c.id)
        .collect();
    for list in id_lists(&cleared) {
        sqlx::query(&format!("DELETE FROM {table} WHERE {key} IN ({list})"))
            .execute(w.conn())
            .await?;
    }
    let upsert = format!(" ON CONFLICT ({key}) DO UPDATE SET bits = excluded.bits");
    for (had_row, on_conflict) in [(false, ""), (true, upsert.as_str())] {
        let rows: Vec<&BitsChange> = changes
            .iter()
            .filter(|c| c.bits != 0 && (c.stored != 0) == had_row)
            .collect();
        for statement in bits_statements(w.conn().backend_name(), table, key, &rows, on_conflict) {
            sqlx::query(&statement)
                .persistent(false)
                .execute(w.conn())
                .await
                .map_err(|e| {
                    Error::from(e).on_unique("alert_exists", "预警已存在", "the alert exists")
                })?;
        }
    }
    Ok(())
}

/// The statements that write `rows` of bits: on PostgreSQL a JSON document of 10,000 rows that
/// the server unpacks (a 1,000-row `VALUES` list costs it more to parse than the rows cost to
/// write), on SQLite a 1,000-row `VALUES` list.
fn bits_statements(
    backend: &str,
    table: &str,
    key: &str,
    rows: &[&BitsChange],
    on_conflict: &str,
) -> Vec<String> {
    if backend == "PostgreSQL" {
        rows.chunks(10_000)
            .map(|chunk| {
                let document = chunk
                    .iter()
                    .map(|c| format!("{{\"i\":{},\"b\":{}}}", c.id, c.bits))
                    .collect::<Vec<_>>()
                    .join(",");
                format!(
                    "INSERT INTO {table} ({key}, bits) SELECT i, b
                       FROM json_to_recordset(CAST('[{document}]' AS json)) AS r(i BIGINT, b BIGINT){on_conflict}"
                )
            })
            .collect()
    } else {
        rows.chunks(1000)
            .map(|chunk| {
                let values = chunk
                    .iter()
                    .map(|c| format!("({}, {})", c.id, c.bits))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("INSERT INTO {table} ({key}, bits) VALUES {values}{on_conflict}")
            })
            .collect()
    }
}

/// Lags other features found have no row to carry bits: their few open alerts are read and
/// compared. New ones join `opened`; the ids of open alerts of the finders' rules that were not
/// found again are returned, to be closed.
async fn reconcile_foreign(
    w: &mut xietong_core::write::Write<'_>,
    finders: &[LagFinder],
    foreign: Vec<ForeignLag>,
    opened: &mut Vec<Found>,
) -> Result<Vec<i64>> {
    let rules: HashSet<&str> = finders
        .iter()
        .flat_map(|f| f.rules.iter().copied())
        .collect();
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let open: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, rule, subject_kind, subject_id FROM alerts
          WHERE closed_at IS NULL AND subject_kind NOT IN ('task', 'project')",
    )
    .fetch_all(w.conn())
    .await?;
    let open_keys: HashSet<(&str, &str, i64)> = open
        .iter()
        .map(|(_, rule, kind, id)| (rule.as_str(), kind.as_str(), *id))
        .collect();
    let found: HashSet<(&str, &str, i64)> = foreign
        .iter()
        .map(|l| (l.rule, l.subject_kind, l.subject_id))
        .collect();
    let closing = open
        .iter()
        .filter(|(_, rule, kind, id)| {
            rules.contains(rule.as_str()) && !found.contains(&(rule.as_str(), kind.as_str(), *id))
        })
        .map(|(id, ..)| *id)
        .collect();
    let mut seen = HashSet::new();
    for l in foreign {
        let key = (l.rule, l.subject_kind, l.subject_id);
        if open_keys.contains(&key) || !seen.insert(key) {
            continue;
        }
        opened.push(Found {
            rule: l.rule,
            kind: l.subject_kind,
            id: l.subject_id,
            framework_id: l.framework_id,
            unit: l.unit_org_id,
            zh: l.details_zh,
            en: l.details_en,
            code: l.subject_code,
            title: l.subject_title_zh,
        });
    }
    Ok(closing)
}

/// Inserts the opened alerts, many rows to a statement (a first sweep over a national register
/// opens hundreds of thousands), as each engine takes them fastest.
async fn insert_alerts(
    w: &mut xietong_core::write::Write<'_>,
    alerts: &[Found],
    now: &str,
) -> Result<()> {
    if w.conn().backend_name() == "PostgreSQL" {
        insert_alerts_recordset(w, alerts, now).await
    } else {
        insert_alerts_inline(w, alerts, now).await
    }
}

/// [`insert_alerts`] on PostgreSQL: the rows travel as one JSON document a statement, which the
/// server unpacks — one parameter and one statement text however many rows, where 1,000-row
/// `VALUES` statements cost about twice the server's time. Parsing the document is a good part
/// of the statement's time, so its keys are one letter (`json_to_recordset` names the columns)
/// and a key with nothing to say is left out: a fifth less time than the columns' own names.
async fn insert_alerts_recordset(
    w: &mut xietong_core::write::Write<'_>,
    alerts: &[Found],
    now: &str,
) -> Result<()> {
    /// An alert row as the server unpacks it; the opening time is bound once.
    #[derive(Serialize)]
    struct Row<'a> {
        r: &'a str,
        k: &'a str,
        s: i64,
        f: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        u: Option<i64>,
        z: &'a str,
        e: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        c: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        t: &'a str,
    }
    const ROWS: usize = 10_000;
    for chunk in alerts.chunks(ROWS) {
        let rows: Vec<Row> = chunk
            .iter()
            .map(|f| Row {
                r: f.rule,
                k: f.kind,
                s: f.id,
                f: f.framework_id,
                u: f.unit,
                z: &f.zh,
                e: &f.en,
                c: &f.code,
                t: &f.title,
            })
            .collect();
        let document = serde_json::to_string(&rows).map_err(|e| Error::Internal(e.to_string()))?;
        sqlx::query(
            "INSERT INTO alerts (rule, subject_kind, subject_id, framework_id, unit_org_id, details_zh, details_en, subject_code, subject_title_zh, opened_at)
             SELECT r, k, s, f, u, z, e, COALESCE(c, ''), COALESCE(t, ''), $1
               FROM json_to_recordset(CAST($2 AS json))
                    AS x(r TEXT, k TEXT, s BIGINT, f BIGINT, u BIGINT, z TEXT, e TEXT, c TEXT, t TEXT)",
        )
        .bind(now)
        .bind(document)
        .execute(w.conn())
        .await
        .map_err(|e| Error::from(e).on_unique("alert_exists", "预警已存在", "the alert exists"))?;
    }
    Ok(())
}

/// [`insert_alerts`] on SQLite. Rules, kinds and ids are listed inline (constants of this
/// module and integers this database produced); each distinct wording is bound once per
/// statement, so a statement stays within the usual number of bound parameters.
async fn insert_alerts_inline(
    w: &mut xietong_core::write::Write<'_>,
    alerts: &[Found],
    now: &str,
) -> Result<()> {
    const ROWS: usize = 1000;
    let max_params = xietong_core::db::rows_per_statement(1);
    let mut rest = alerts;
    while !rest.is_empty() {
        let mut sql = String::from("INSERT INTO alerts (rule, subject_kind, subject_id, framework_id, unit_org_id, details_zh, details_en, subject_code, subject_title_zh, opened_at) VALUES ");
        // $1 is the shared opening time; each distinct wording follows once.
        let mut params = TextParams::new(&[now]);
        let mut rows = 0;
        for f in rest {
            let new_texts = params.unseen(&[&f.zh, &f.en, &f.code, &f.title]);
            if rows == ROWS || (rows > 0 && params.len() + new_texts > max_params) {
                break;
            }
            let zh = params.number(&f.zh);
            let en = params.number(&f.en);
            let code = params.number(&f.code);
            let title = params.number(&f.title);
            if rows > 0 {
                sql.push_str(", ");
            }
            let unit = f
                .unit
                .map(|u| u.to_string())
                .unwrap_or_else(|| "NULL".into());
            sql.push_str(&format!(
                "('{}', '{}', {}, {}, {unit}, ${zh}, ${en}, ${code}, ${title}, $1)",
                f.rule, f.kind, f.id, f.framework_id
            ));
            rows += 1;
        }
        let mut q = sqlx::query(&sql).persistent(false);
        for t in params.texts() {
            q = q.bind(*t);
        }
        q.execute(w.conn()).await.map_err(|e| {
            Error::from(e).on_unique("alert_exists", "预警已存在", "the alert exists")
        })?;
        rest = &rest[rows..];
    }
    Ok(())
}

/// Subjects whose open-lag bits differ from their open alerts, or that keep a row of no bits
/// (empty when all is well): the tests check it after every kind of write.
pub async fn open_lag_differences(db: &Db) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (table, bits_table, key, kind, rules) in [
        (
            "tasks",
            "task_open_lags",
            "task_id",
            "task",
            &TASK_RULES[..],
        ),
        (
            "projects",
            "project_open_lags",
            "project_id",
            "project",
            &PROJECT_RULES[..],
        ),
    ] {
        let cases = rules
            .iter()
            .enumerate()
            .map(|(i, r)| format!("WHEN '{r}' THEN {}", 1 << i))
            .collect::<Vec<_>>()
            .join(" ");
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(&format!(
            "SELECT s.id, COALESCE(l.bits, 0), CAST(COALESCE(a.bits, 0) AS BIGINT)
               FROM {table} s
               LEFT JOIN {bits_table} l ON l.{key} = s.id
               LEFT JOIN (SELECT subject_id, SUM(CASE rule {cases} ELSE 0 END) AS bits
                            FROM alerts WHERE closed_at IS NULL AND subject_kind = '{kind}'
                           GROUP BY subject_id) a ON a.subject_id = s.id
              WHERE COALESCE(l.bits, 0) <> COALESCE(a.bits, 0) OR l.bits = 0
              ORDER BY s.id"
        ))
        .fetch_all(db.pool())
        .await?;
        out.extend(rows.into_iter().map(|(id, stored, open)| {
            format!("{kind} {id}: open_lags {stored}, open alerts {open}")
        }));
    }
    Ok(out)
}

/// Rows of the sweep's own tables naming a record that does not exist (empty when all is well).
/// Those tables carry no foreign keys (their keys are copied from rows that have them, in the
/// same transaction): the tests check it after every kind of write.
pub async fn dangling_references(db: &Db) -> Result<Vec<String>> {
    let checks = [
        (
            "alert framework",
            "SELECT a.id FROM alerts a LEFT JOIN frameworks f ON f.id = a.framework_id WHERE f.id IS NULL",
        ),
        (
            "alert unit",
            "SELECT a.id FROM alerts a LEFT JOIN organisations o ON o.id = a.unit_org_id
              WHERE a.unit_org_id IS NOT NULL AND o.id IS NULL",
        ),
        (
            "alert task",
            "SELECT a.id FROM alerts a LEFT JOIN tasks t ON t.id = a.subject_id
              WHERE a.subject_kind = 'task' AND t.id IS NULL",
        ),
        (
            "alert project",
            "SELECT a.id FROM alerts a LEFT JOIN projects p ON p.id = a.subject_id
              WHERE a.subject_kind = 'project' AND p.id IS NULL",
        ),
        (
            "open lags of task",
            "SELECT l.task_id FROM task_open_lags l LEFT JOIN tasks t ON t.id = l.task_id WHERE t.id IS NULL",
        ),
        (
            "open lags of project",
            "SELECT l.project_id FROM project_open_lags l LEFT JOIN projects p ON p.id = l.project_id
              WHERE p.id IS NULL",
        ),
    ];
    let mut out = Vec::new();
    for (what, sql) in checks {
        let ids: Vec<(i64,)> = sqlx::query_as(sql).fetch_all(db.pool()).await?;
        out.extend(ids.into_iter().map(|(id,)| format!("{what}: row {id}")));
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Alert {
    pub id: i64,
    pub rule: String,
    pub subject_kind: String,
    pub subject_id: i64,
    pub framework_id: i64,
    pub unit_org_id: Option<i64>,
    pub details_zh: String,
    pub details_en: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
}

/// Alerts of a task, newest first.
pub async fn alerts_of_task(db: &Db, task_id: i64) -> Result<Vec<Alert>> {
    Ok(sqlx::query_as(
        "SELECT id, rule, subject_kind, subject_id, framework_id, unit_org_id, details_zh, details_en, opened_at, closed_at
           FROM alerts WHERE subject_kind = 'task' AND subject_id = $1 ORDER BY opened_at DESC, id DESC",
    )
    .bind(task_id)
    .fetch_all(db.pool())
    .await?)
}

/// Open alerts, optionally of one framework.
pub async fn open_alerts(db: &Db, framework: Option<i64>) -> Result<Vec<Alert>> {
    let mut f = xietong_core::db::filter::Filter::new();
    f.raw("closed_at IS NULL");
    if let Some(id) = framework {
        f.int("framework_id = ?", id);
    }
    let sql = format!(
        "SELECT id, rule, subject_kind, subject_id, framework_id, unit_org_id, details_zh, details_en, opened_at, closed_at FROM alerts {} ORDER BY opened_at DESC, id DESC",
        f.sql()
    );
    Ok(f.bind_as(sqlx::query_as(&sql)).fetch_all(db.pool()).await?)
}
