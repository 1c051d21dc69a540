//! The report card (成绩单) of a framework's year, as of a date: tasks by area and status,
//! the project list (original, added, total) by stage with investment against plan, adjusted
//! targets, warning letters, and a per-unit table. Everything is read "as of": later letters,
//! adjustments and monthly reports do not change an earlier card.

use serde::{Deserialize, Serialize};
use time::Date;
use xietong_core::domain::text;
use xietong_core::error::Result;
use xietong_core::Db;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReportCard {
    pub framework_id: i64,
    pub year: i64,
    pub as_of: String,
    pub tasks: TaskFigures,
    pub projects: ProjectFigures,
    pub letters: LetterFigures,
    pub units: Vec<UnitRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TaskFigures {
    pub total: i64,
    /// (area, status, count)
    pub by_area_status: Vec<(String, String, i64)>,
    /// Tasks due by the as-of date.
    pub due: i64,
    /// Of those, closed no later than their deadline.
    pub closed_on_time: i64,
    /// closed_on_time ÷ due, in percent (0 when nothing was due).
    pub on_time_rate_percent: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProjectFigures {
    /// The year's list as first drawn up.
    pub original_list: i64,
    /// Added during the year (增补).
    pub added: i64,
    /// original_list + added.
    pub total: i64,
    /// Projects whose annual target was adjusted (调整优化) by the as-of date.
    pub adjusted: i64,
    /// (stage, count)
    pub by_stage: Vec<(String, i64)>,
    pub planned_fen: i64,
    pub completed_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LetterFigures {
    pub issued: i64,
    /// Distinct units that received a letter.
    pub units: i64,
    /// Distinct projects the letters listed as lagging.
    pub lagging_projects: i64,
    /// Distinct tasks the letters listed as lagging.
    pub lagging_tasks: i64,
    pub resolved: i64,
    pub escalated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UnitRow {
    pub org_id: i64,
    pub name_zh: String,
    pub tasks: i64,
    pub projects: i64,
    pub letters: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CardQuery {
    pub framework: i64,
    pub year: i64,
    /// `YYYY-MM-DD`; today when absent.
    #[serde(default)]
    pub as_of: Option<String>,
}

/// A count over `$1` framework, `$2` year and, when the query names it, `$3` the as-of bound.
async fn one(db: &Db, sql: &str, framework: i64, year: i64, as_of: &str) -> Result<i64> {
    let q = sqlx::query_as(sql).bind(framework).bind(year);
    let q = if sql.contains("$3") { q.bind(as_of) } else { q };
    let (n,): (i64,) = q.fetch_one(db.pool()).await?;
    Ok(n)
}

/// The card read from the roll-ups kept by every write (`store::rollups`): a few dozen small
/// rows, summed up to the as-of day where a figure is dated.
pub async fn compute(db: &Db, framework: i64, year: i64, as_of: Date) -> Result<ReportCard> {
    let day = text::format_date(as_of);
    let mut conn = db.pool().acquire().await?;
    let by_area_status: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT area, status, n FROM card_task_counts WHERE framework_id = $1 AND year = $2 AND n <> 0 ORDER BY area, status",
    )
    .bind(framework)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?;
    let total = by_area_status.iter().map(|r| r.2).sum();
    let (due, closed_on_time): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(due), 0) AS BIGINT), CAST(COALESCE(SUM(closed_on_time), 0) AS BIGINT)
           FROM card_task_deadlines WHERE framework_id = $1 AND year = $2 AND deadline <= $3",
    )
    .bind(framework)
    .bind(year)
    .bind(&day)
    .fetch_one(&mut *conn)
    .await?;
    let (original_list, added, planned_fen): (i64, i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN added = 0 THEN n ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN added = 1 THEN n ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(planned_fen), 0) AS BIGINT)
           FROM card_projects WHERE framework_id = $1 AND year = $2",
    )
    .bind(framework)
    .bind(year)
    .fetch_one(&mut *conn)
    .await?;
    let by_stage: Vec<(String, i64)> = sqlx::query_as(
        "SELECT stage, CAST(SUM(n) AS BIGINT) FROM card_projects WHERE framework_id = $1 AND year = $2
          GROUP BY stage HAVING SUM(n) <> 0 ORDER BY stage",
    )
    .bind(framework)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?;
    let (adjusted,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM card_adjusted WHERE framework_id = $1 AND year = $2 AND day <= $3",
    )
    .bind(framework)
    .bind(year)
    .bind(&day)
    .fetch_one(&mut *conn)
    .await?;
    let (completed_fen,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(completed_fen), 0) AS BIGINT) FROM card_investment
          WHERE framework_id = $1 AND month >= $2 AND month <= $3",
    )
    .bind(framework)
    .bind(format!("{year:04}-01"))
    .bind(format!("{year:04}-12").min(day[..7].to_string()))
    .fetch_one(&mut *conn)
    .await?;
    let (issued, resolved, escalated): (i64, i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(issued), 0) AS BIGINT), CAST(COALESCE(SUM(resolved), 0) AS BIGINT), CAST(COALESCE(SUM(escalated), 0) AS BIGINT)
           FROM card_letters WHERE framework_id = $1 AND year = $2 AND day <= $3",
    )
    .bind(framework)
    .bind(year)
    .bind(&day)
    .fetch_one(&mut *conn)
    .await?;
    let firsts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT kind, CAST(COUNT(*) AS BIGINT) FROM card_letter_firsts
          WHERE framework_id = $1 AND year = $2 AND first_day <= $3 GROUP BY kind",
    )
    .bind(framework)
    .bind(year)
    .bind(&day)
    .fetch_all(&mut *conn)
    .await?;
    let first = |kind: &str| {
        firsts
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let units: Vec<UnitRow> = sqlx::query_as(
        "SELECT o.id AS org_id, o.name_zh, c.tasks, c.projects,
                CAST(COALESCE((SELECT SUM(l.issued) FROM card_letters l
                                WHERE l.framework_id = $1 AND l.year = $2 AND l.org_id = o.id AND l.day <= $3), 0) AS BIGINT) AS letters
           FROM card_units c JOIN organisations o ON o.id = c.org_id
          WHERE c.framework_id = $1 AND c.year = $2 AND (c.tasks <> 0 OR c.projects <> 0)
          ORDER BY o.name_zh, o.id",
    )
    .bind(framework)
    .bind(year)
    .bind(&day)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ReportCard {
        framework_id: framework,
        year,
        as_of: day,
        tasks: TaskFigures {
            total,
            by_area_status,
            due,
            closed_on_time,
            on_time_rate_percent: if due > 0 {
                closed_on_time * 100 / due
            } else {
                0
            },
        },
        projects: ProjectFigures {
            original_list,
            added,
            total: original_list + added,
            adjusted,
            by_stage,
            planned_fen,
            completed_fen,
        },
        letters: LetterFigures {
            issued,
            units: first("unit"),
            lagging_projects: first("project"),
            lagging_tasks: first("task"),
            resolved,
            escalated,
        },
        units,
    })
}

/// The same card counted from the raw records on every read: the reference the roll-ups are
/// checked against in tests (and the full scan the benchmark compares with).
pub async fn scan(db: &Db, framework: i64, year: i64, as_of: Date) -> Result<ReportCard> {
    let day = text::format_date(as_of);
    // Timestamps are RFC 3339 text: everything up to the end of the as-of day sorts below this.
    let until = format!("{day}T23:59:59.999Z");
    let by_area_status: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT area, status, COUNT(*) FROM tasks WHERE framework_id = $1 AND year = $2 GROUP BY area, status ORDER BY area, status",
    )
    .bind(framework)
    .bind(year)
    .fetch_all(db.pool())
    .await?;
    let total = by_area_status.iter().map(|r| r.2).sum();
    let due = one(
        db,
        "SELECT COUNT(*) FROM tasks WHERE framework_id = $1 AND year = $2 AND deadline <= $3",
        framework,
        year,
        &day,
    )
    .await?;
    let closed_on_time = one(
        db,
        "SELECT COUNT(*) FROM tasks WHERE framework_id = $1 AND year = $2 AND deadline <= $3 AND resolution = 'closed' AND SUBSTR(resolved_at, 1, 10) <= deadline",
        framework,
        year,
        &day,
    )
    .await?;

    let plans = "FROM projects p JOIN project_plans pl ON pl.project_id = p.id AND pl.year = $2 WHERE p.framework_id = $1";
    let original_list = one(
        db,
        &format!("SELECT COUNT(*) {plans} AND (p.added_in_year IS NULL OR p.added_in_year <> $2)"),
        framework,
        year,
        &day,
    )
    .await?;
    let added = one(
        db,
        &format!("SELECT COUNT(*) {plans} AND p.added_in_year = $2"),
        framework,
        year,
        &day,
    )
    .await?;
    let adjusted = one(
        db,
        "SELECT COUNT(DISTINCT a.project_id) FROM plan_adjustments a JOIN projects p ON p.id = a.project_id
          WHERE p.framework_id = $1 AND a.year = $2 AND a.approved_on <= $3",
        framework,
        year,
        &day,
    )
    .await?;
    let by_stage: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT p.stage, COUNT(*) {plans} GROUP BY p.stage ORDER BY p.stage"
    ))
    .bind(framework)
    .bind(year)
    .fetch_all(db.pool())
    .await?;
    let (planned_fen,): (i64,) = sqlx::query_as(&format!(
        "SELECT CAST(COALESCE(SUM(pl.planned_fen), 0) AS BIGINT) {plans}"
    ))
    .bind(framework)
    .bind(year)
    .fetch_one(db.pool())
    .await?;
    let (completed_fen,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(r.completed_fen), 0) AS BIGINT) FROM investment_reports r JOIN projects p ON p.id = r.project_id
          WHERE p.framework_id = $1 AND r.month >= $2 AND r.month <= $3",
    )
    .bind(framework)
    .bind(format!("{year:04}-01"))
    .bind(format!("{year:04}-12").min(day[..7].to_string()))
    .fetch_one(db.pool())
    .await?;

    let issued = "FROM letters l WHERE l.framework_id = $1 AND l.year = $2 AND l.issued_at IS NOT NULL AND l.issued_at <= $3";
    let letters = LetterFigures {
        issued: one(db, &format!("SELECT COUNT(*) {issued}"), framework, year, &until).await?,
        units: one(db, &format!("SELECT COUNT(DISTINCT l.addressee_org_id) {issued}"), framework, year, &until).await?,
        lagging_projects: one(
            db,
            &format!("SELECT COUNT(DISTINCT i.subject_id) FROM letter_items i WHERE i.subject_kind = 'project' AND i.letter_id IN (SELECT l.id {issued})"),
            framework,
            year,
            &until,
        )
        .await?,
        lagging_tasks: one(
            db,
            &format!("SELECT COUNT(DISTINCT i.subject_id) FROM letter_items i WHERE i.subject_kind = 'task' AND i.letter_id IN (SELECT l.id {issued})"),
            framework,
            year,
            &until,
        )
        .await?,
        resolved: one(db, &format!("SELECT COUNT(*) {issued} AND l.resolved_at IS NOT NULL AND l.resolved_at <= $3"), framework, year, &until).await?,
        escalated: one(db, &format!("SELECT COUNT(*) {issued} AND l.escalated_at IS NOT NULL AND l.escalated_at <= $3"), framework, year, &until).await?,
    };
    let units: Vec<UnitRow> = sqlx::query_as(
        "SELECT o.id AS org_id, o.name_zh,
                (SELECT COUNT(*) FROM tasks t WHERE t.framework_id = $1 AND t.year = $2 AND t.lead_org_id = o.id) AS tasks,
                (SELECT COUNT(*) FROM project_units u JOIN projects p ON p.id = u.project_id JOIN project_plans pl ON pl.project_id = p.id AND pl.year = $2
                  WHERE p.framework_id = $1 AND u.org_id = o.id) AS projects,
                (SELECT COUNT(*) FROM letters l WHERE l.framework_id = $1 AND l.year = $2 AND l.addressee_org_id = o.id AND l.issued_at IS NOT NULL AND l.issued_at <= $3) AS letters
           FROM organisations o
          WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.framework_id = $1 AND t.year = $2 AND t.lead_org_id = o.id)
             OR EXISTS (SELECT 1 FROM project_units u JOIN projects p ON p.id = u.project_id JOIN project_plans pl ON pl.project_id = p.id AND pl.year = $2
                         WHERE p.framework_id = $1 AND u.org_id = o.id)
          ORDER BY o.name_zh, o.id",
    )
    .bind(framework)
    .bind(year)
    .bind(&until)
    .fetch_all(db.pool())
    .await?;
    Ok(ReportCard {
        framework_id: framework,
        year,
        as_of: day,
        tasks: TaskFigures {
            total,
            by_area_status,
            due,
            closed_on_time,
            on_time_rate_percent: if due > 0 {
                closed_on_time * 100 / due
            } else {
                0
            },
        },
        projects: ProjectFigures {
            original_list,
            added,
            total: original_list + added,
            adjusted,
            by_stage,
            planned_fen,
            completed_fen,
        },
        letters,
        units,
    })
}
