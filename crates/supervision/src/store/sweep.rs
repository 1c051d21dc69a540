//! The lag sweep: derives every open task's lags, opens an alert for each new one, closes the
//! alerts of tasks that caught up, and stores the derived statuses — in one transaction, so a
//! sweep killed midway leaves nothing half-made. Running it twice changes nothing the second time.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use time::Date;
use xietong_core::audit::Change;
use xietong_core::domain::text;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::{Actor, Decision, Role};
use xietong_core::Db;

use crate::domain::{self, Lag, LagRules};
use crate::projects_rules::{self, PlanFacts, ProjectRules};
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

/// One lag found by the sweep, before it becomes (or keeps) an alert.
struct Found {
    rule: &'static str,
    kind: &'static str,
    id: i64,
    framework_id: i64,
    unit: Option<i64>,
    zh: String,
    en: String,
}

/// id, framework, stage, planned, completed, planned start, first responsible unit.
type ProjectRow = (i64, i64, String, i64, i64, Option<String>, Option<i64>);

/// id, framework, lead, start, deadline, stored status, latest percent and period, year, area.
type TaskRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    i64,
    String,
);

/// Runs the sweep for `today`. With a `slot` (e.g. `2026-11-29`), a slot already run by any
/// instance is skipped: the database's unique key, not process memory, decides.
pub async fn run(
    db: &Db,
    actor: &Actor,
    today: Date,
    slot: Option<&str>,
    rules: &LagRules,
) -> Result<SweepOutcome> {
    let mut w = db.write(actor).await?;
    w.authorize_decision(may_run(actor))?;
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
    let tasks: Vec<TaskRow> = sqlx::query_as(
        "SELECT id, framework_id, lead_org_id, start_on, deadline, status, latest_percent, latest_period, year, area FROM tasks WHERE resolution IS NULL",
    )
    .fetch_all(w.conn())
    .await?;
    let overdue: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT task_id, COUNT(*) FROM milestones WHERE done_on IS NULL AND due_on < $1 GROUP BY task_id",
    )
    .bind(text::format_date(today))
    .fetch_all(w.conn())
    .await?;
    let overdue: HashMap<i64, i64> = overdue.into_iter().collect();
    let open: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, rule, subject_kind, subject_id FROM alerts WHERE closed_at IS NULL",
    )
    .fetch_all(w.conn())
    .await?;
    let open_keys: HashSet<(String, String, i64)> = open
        .iter()
        .map(|(_, rule, kind, id)| (rule.clone(), kind.clone(), *id))
        .collect();

    // Every lag found today, as (rule, subject kind, subject id) with where it belongs and why.
    let mut found: Vec<Found> = Vec::new();
    // New statuses, by status, written in a few set updates after the loop.
    let mut changed: HashMap<&'static str, Vec<i64>> = HashMap::new();
    let mut outcome = SweepOutcome {
        tasks: tasks.len(),
        ..Default::default()
    };
    // The report card's counts of tasks by status move with the statuses.
    let mut deltas = crate::store::rollups::Deltas::default();
    for (id, framework_id, lead, start_on, deadline, stored_status, percent, period, year, area) in
        &tasks
    {
        let latest = match (percent, period) {
            (Some(p), Some(per)) => Some((*p, per.as_str())),
            _ => None,
        };
        let facts = facts_of(
            start_on,
            deadline,
            None,
            latest,
            overdue.get(id).copied().unwrap_or(0) as usize,
        )?;
        let status = domain::status(&facts, today, rules);
        if status.as_str() != stored_status {
            changed.entry(status.as_str()).or_default().push(*id);
            deltas.task_status(*framework_id, *year, area, stored_status, status.as_str());
            outcome.statuses_changed += 1;
        }
        for lag in domain::lags(&facts, today, rules) {
            let (zh, en) = describe(&lag, deadline);
            found.push(Found {
                rule: rule_of(&lag),
                kind: "task",
                id: *id,
                framework_id: *framework_id,
                unit: Some(*lead),
                zh,
                en,
            });
        }
    }
    let projects: Vec<ProjectRow> = sqlx::query_as(
        "SELECT p.id, p.framework_id, p.stage, pl.planned_fen, pl.completed_fen, pl.planned_start_on,
                (SELECT u.org_id FROM project_units u WHERE u.project_id = p.id ORDER BY u.position LIMIT 1)
           FROM projects p JOIN project_plans pl ON pl.project_id = p.id AND pl.year = $1",
    )
    .bind(today.year() as i64)
    .fetch_all(w.conn())
    .await?;
    outcome.projects = projects.len();
    let project_rules = ProjectRules::default();
    for (id, framework_id, stage, planned, completed, start, unit) in projects {
        let planned_start_on = start
            .as_deref()
            .and_then(|s| text::date("planned_start_on", s).ok());
        let facts = PlanFacts {
            year: today.year(),
            stage,
            planned_fen: planned,
            completed_fen: completed,
            planned_start_on,
        };
        for lag in projects_rules::lags(&facts, today, &project_rules) {
            let (zh, en) = projects_rules::describe(&lag);
            found.push(Found {
                rule: projects_rules::rule_of(&lag),
                kind: "project",
                id,
                framework_id,
                unit,
                zh,
                en,
            });
        }
    }

    for (status, ids) in &changed {
        for chunk in ids.chunks(1000) {
            // Ids are integers this database produced, so they are listed inline.
            let list = chunk
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",");
            sqlx::query(&format!(
                "UPDATE tasks SET status = $1 WHERE id IN ({list})"
            ))
            .bind(*status)
            .execute(w.conn())
            .await?;
        }
    }

    deltas.apply(w.conn()).await?;

    let now = xietong_core::clock::now_rfc3339();
    let mut wanted: HashSet<(String, String, i64)> = HashSet::new();
    let mut new_alerts: Vec<Found> = Vec::new();
    for f in found {
        let key = (f.rule.to_string(), f.kind.to_string(), f.id);
        if !open_keys.contains(&key) && !wanted.contains(&key) {
            new_alerts.push(f);
        }
        wanted.insert(key);
    }
    outcome.opened = new_alerts.len();
    // Many rows per statement: a first sweep over a national register opens tens of thousands.
    for chunk in new_alerts.chunks(xietong_core::db::rows_per_statement(7)) {
        let mut sql = String::from("INSERT INTO alerts (rule, subject_kind, subject_id, framework_id, unit_org_id, details_zh, details_en, opened_at) VALUES ");
        for (i, _) in chunk.iter().enumerate() {
            let b = i * 7;
            if i > 0 {
                sql.push_str(", ");
            }
            // $1 is the shared opening time; each row's own values follow.
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, $1)",
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            ));
        }
        let mut q = sqlx::query(&sql).bind(&now);
        for f in chunk {
            q = q
                .bind(f.rule)
                .bind(f.kind)
                .bind(f.id)
                .bind(f.framework_id)
                .bind(f.unit)
                .bind(&f.zh)
                .bind(&f.en);
        }
        q.execute(w.conn()).await.map_err(|e| {
            Error::from(e).on_unique("alert_exists", "预警已存在", "the alert exists")
        })?;
    }
    let to_close: Vec<i64> = open
        .iter()
        .filter(|(_, rule, kind, subject)| {
            !wanted.contains(&(rule.clone(), kind.clone(), *subject))
        })
        .map(|(id, ..)| *id)
        .collect();
    outcome.closed = to_close.len();
    for chunk in to_close.chunks(1000) {
        let list = chunk
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(&format!(
            "UPDATE alerts SET closed_at = $1 WHERE id IN ({list})"
        ))
        .bind(&now)
        .execute(w.conn())
        .await?;
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
    w.record(Change::created("sweep", text::format_date(today), &outcome))
        .await?;
    w.commit().await?;
    Ok(outcome)
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
