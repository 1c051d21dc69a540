//! The major-project register: projects, stage events, annual plans with adjustments, and
//! monthly completed investment (each report keeps its year's total current in the same write).

use serde::{Deserialize, Serialize};
use time::Date;
use xietong_core::audit::Change;
use xietong_core::db::filter::page;
use xietong_core::db::filter::Filter;
use xietong_core::domain::{text, Money, RegionCode};
use xietong_core::error::{Error, FieldError, Msg, Problems, Result};
use xietong_core::permissions::{Actor, Decision};
use xietong_core::Db;

use crate::domain::Period;
use crate::permissions;
use crate::projects_rules::STAGES;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Project {
    pub id: i64,
    pub code: String,
    pub framework_id: i64,
    pub name_zh: String,
    pub stage: String,
    pub total_investment_fen: i64,
    pub leader_zh: String,
    pub added_in_year: Option<i64>,
    pub source_seed: Option<String>,
    pub source_quote: Option<String>,
    pub generated: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Plan {
    pub year: i64,
    pub original_fen: i64,
    pub planned_fen: i64,
    pub planned_start_on: Option<String>,
    pub planned_completion_on: Option<String>,
    pub completed_fen: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StageEvent {
    pub stage: String,
    pub on_date: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Adjustment {
    pub year: i64,
    pub from_fen: i64,
    pub to_fen: i64,
    pub reason_zh: String,
    pub approver_zh: String,
    pub approved_on: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MonthlyReport {
    pub month: String,
    pub completed_fen: i64,
    pub reported_by: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Unit {
    pub org_id: i64,
    pub name_zh: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectDetail {
    #[serde(flatten)]
    pub project: Project,
    pub regions: Vec<String>,
    pub units: Vec<Unit>,
    pub plans: Vec<Plan>,
    pub stages: Vec<StageEvent>,
    pub adjustments: Vec<Adjustment>,
    pub reports: Vec<MonthlyReport>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectInput {
    pub code: String,
    pub framework_id: i64,
    pub name_zh: String,
    pub stage: String,
    /// Yuan, with 万/亿 allowed: `"150000万元"`, `"15亿"`.
    pub total_investment: String,
    pub leader_zh: String,
    pub region_codes: Vec<String>,
    pub unit_org_ids: Vec<i64>,
    /// Set when the project is added to the register mid-year (增补).
    pub added_in_year: Option<i64>,
}

fn stage(field: &str, s: &str) -> Result<String, FieldError> {
    if STAGES.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(
            field,
            "value_unknown",
            Msg::new(
                format!("项目阶段可选：{}", STAGES.join("、")),
                format!("stage: one of {}", STAGES.join(", ")),
            ),
        ))
    }
}

fn money(field: &str, s: &str) -> Result<Money, FieldError> {
    let m = Money::parse_yuan(field, s)?;
    if m.fen() < 0 {
        return Err(FieldError::new(
            field,
            "money_negative",
            Msg::new("金额不能为负", "the amount cannot be negative"),
        ));
    }
    Ok(m)
}

const SELECT: &str = "SELECT id, code, framework_id, name_zh, stage, total_investment_fen, leader_zh, added_in_year, source_seed, source_quote, generated FROM projects";

pub async fn get(db: &Db, id: i64) -> Result<Project> {
    sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("project", id))
}

pub async fn unit_ids(db: &Db, id: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> =
        sqlx::query_as("SELECT org_id FROM project_units WHERE project_id = $1 ORDER BY position")
            .bind(id)
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(|(o,)| o).collect())
}

pub async fn detail(db: &Db, id: i64) -> Result<ProjectDetail> {
    let project = get(db, id).await?;
    let regions: Vec<(String,)> = sqlx::query_as(
        "SELECT region_code FROM project_regions WHERE project_id = $1 ORDER BY region_code",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let units = sqlx::query_as("SELECT u.org_id, o.name_zh FROM project_units u JOIN organisations o ON o.id = u.org_id WHERE u.project_id = $1 ORDER BY u.position")
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    let plans = sqlx::query_as(
        "SELECT year, original_fen, planned_fen, planned_start_on, planned_completion_on, completed_fen FROM project_plans WHERE project_id = $1 ORDER BY year DESC",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let stages = sqlx::query_as("SELECT stage, on_date, recorded_by FROM stage_events WHERE project_id = $1 ORDER BY on_date DESC, id DESC").bind(id).fetch_all(db.pool()).await?;
    let adjustments = sqlx::query_as("SELECT year, from_fen, to_fen, reason_zh, approver_zh, approved_on FROM plan_adjustments WHERE project_id = $1 ORDER BY id DESC")
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    let reports = sqlx::query_as("SELECT month, completed_fen, reported_by FROM investment_reports WHERE project_id = $1 ORDER BY month DESC").bind(id).fetch_all(db.pool()).await?;
    Ok(ProjectDetail {
        project,
        regions: regions.into_iter().map(|(r,)| r).collect(),
        units,
        plans,
        stages,
        adjustments,
        reports,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProjectFilter {
    #[serde(default)]
    pub framework: Option<i64>,
    #[serde(default)]
    pub stage: Option<String>,
    /// Organisation id: projects it is responsible for.
    #[serde(default)]
    pub unit: Option<i64>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

fn filter_of(f: &ProjectFilter, visible: Option<&[i64]>) -> Filter {
    let mut w = Filter::new();
    if let Some(fw) = f.framework {
        w.int("framework_id = ?", fw);
    }
    if let Some(s) = f.stage.as_deref().filter(|s| !s.is_empty()) {
        w.text("stage = ?", s);
    }
    if let Some(u) = f.unit {
        w.int(
            "id IN (SELECT project_id FROM project_units WHERE org_id = ?)",
            u,
        );
    }
    let q = f.q.as_deref().unwrap_or("").trim().replace(['%', '_'], "");
    if !q.is_empty() {
        w.text("(name_zh LIKE ? OR code LIKE ?)", format!("%{q}%"));
    }
    if let Some(ids) = visible {
        let list = ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        w.raw(if list.is_empty() {
            "1 = 0".to_string()
        } else {
            format!("framework_id IN ({list})")
        });
    }
    w
}

pub async fn list(
    db: &Db,
    f: &ProjectFilter,
    visible: Option<&[i64]>,
) -> Result<(Vec<Project>, i64)> {
    let w = filter_of(f, visible);
    let (limit, offset) = page(f.limit, f.offset);
    let n = w.next_placeholder();
    let sql = format!(
        "{SELECT} {} ORDER BY code LIMIT ${n} OFFSET ${}",
        w.sql(),
        n + 1
    );
    let rows = w
        .bind_as(sqlx::query_as(&sql))
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    let (total,): (i64,) = w
        .bind_as(sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM projects {}",
            w.sql()
        )))
        .fetch_one(db.pool())
        .await?;
    Ok((rows, total))
}

/// How many projects are in each stage (the pipeline board's columns).
pub async fn stage_counts(
    db: &Db,
    f: &ProjectFilter,
    visible: Option<&[i64]>,
) -> Result<Vec<(String, i64)>> {
    let w = filter_of(
        &ProjectFilter {
            stage: None,
            ..f.clone()
        },
        visible,
    );
    Ok(w.bind_as(sqlx::query_as(&format!(
        "SELECT stage, COUNT(*) FROM projects {} GROUP BY stage",
        w.sql()
    )))
    .fetch_all(db.pool())
    .await?)
}

/// Where a seeded project came from.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub seed: Option<String>,
    pub quote: Option<String>,
    pub generated: bool,
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &ProjectInput,
    provenance: Provenance,
    today: Date,
) -> Result<ProjectDetail> {
    let mut p = Problems::new();
    let code = p.take(text::key("code", &input.code));
    let name = p.take(text::bounded("name_zh", &input.name_zh, 1, 300));
    let stage = p.take(stage("stage", &input.stage));
    let total = if input.total_investment.trim().is_empty() {
        Some(Money::default())
    } else {
        p.take(money("total_investment", &input.total_investment))
    };
    let leader = p.take(text::optional("leader_zh", &input.leader_zh, 100));
    let mut regions = Vec::new();
    for (i, r) in input.region_codes.iter().enumerate() {
        if let Some(code) = p.take(RegionCode::parse(r).map_err(|e| FieldError {
            field: format!("region_codes[{i}]"),
            ..e
        })) {
            regions.push(code);
        }
    }
    if input.unit_org_ids.is_empty() {
        p.push(FieldError::new(
            "unit_org_ids",
            "required",
            Msg::new(
                "至少需要一个责任单位",
                "at least one responsible unit is needed",
            ),
        ));
    }
    for (i, id) in input.unit_org_ids.iter().enumerate() {
        let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
        if found.is_none() {
            p.push(FieldError::new(
                format!("unit_org_ids[{i}]"),
                "organisation_unknown",
                Msg::new(
                    format!("机构 {id} 不存在"),
                    format!("organisation {id} does not exist"),
                ),
            ));
        }
    }
    for (i, code) in regions.iter().enumerate() {
        if xietong_core::registry::regions::get(db, code)
            .await
            .is_err()
        {
            p.push(FieldError::new(
                format!("region_codes[{i}]"),
                "region_unknown",
                Msg::new(
                    format!("区划 {code} 不存在"),
                    format!("region {code} is not in the registry"),
                ),
            ));
        }
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), input.framework_id))?;
    p.into_result()?;
    let (Some(code), Some(name), Some(stage), Some(total), Some(leader)) =
        (code, name, stage, total, leader)
    else {
        return Err(Error::Internal("project parsed".into()));
    };
    let now = xietong_core::clock::now_rfc3339();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO projects (code, framework_id, name_zh, stage, total_investment_fen, leader_zh, added_in_year, source_seed, source_quote, generated, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(&code)
    .bind(input.framework_id)
    .bind(&name)
    .bind(&stage)
    .bind(total.fen())
    .bind(&leader)
    .bind(input.added_in_year)
    .bind(&provenance.seed)
    .bind(&provenance.quote)
    .bind(provenance.generated as i64)
    .bind(&now)
    .fetch_one(w.conn())
    .await
    .map_err(|e| Error::from(e).on_unique("project_code_taken", "该项目编号已存在", "a project with this code exists"))?;
    for r in &regions {
        sqlx::query("INSERT INTO project_regions (project_id, region_code) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id).bind(r.as_str()).execute(w.conn()).await?;
    }
    for (position, org) in input.unit_org_ids.iter().enumerate() {
        sqlx::query("INSERT INTO project_units (project_id, org_id, position) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(org)
            .bind(position as i64)
            .execute(w.conn())
            .await?;
    }
    sqlx::query("INSERT INTO stage_events (project_id, stage, on_date, recorded_by, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(&stage)
        .bind(text::format_date(today))
        .bind(&actor.username)
        .bind(&now)
        .execute(w.conn())
        .await?;
    w.record(Change::created("project", id, input)).await?;
    w.commit().await?;
    detail(db, id).await
}

/// Coordinators, or staff of a responsible unit.
async fn may_report(db: &Db, actor: &Actor, project: &Project) -> Result<Decision> {
    let units = unit_ids(db, project.id).await?;
    Ok(permissions::report(
        Some(actor),
        project.framework_id,
        &units,
    ))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StageInput {
    pub stage: String,
    /// `YYYY-MM-DD`
    pub on_date: String,
}

/// Records a stage change as a dated event (coordinators, responsible units' staff).
pub async fn change_stage(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &StageInput,
    today: Date,
) -> Result<ProjectDetail> {
    let project = get(db, id).await?;
    let decision = may_report(db, actor, &project).await?;
    let mut w = db.write(actor).await?;
    w.authorize_decision(decision)?;
    let mut p = Problems::new();
    let stage = p.take(stage("stage", &input.stage));
    let on = p.take(text::date("on_date", &input.on_date));
    if on.is_some_and(|d| d > today) {
        p.push(FieldError::new(
            "on_date",
            "date_in_future",
            Msg::new(
                "阶段变化日期不能晚于今天",
                "a stage change cannot be dated in the future",
            ),
        ));
    }
    p.into_result()?;
    let (Some(stage), Some(on)) = (stage, on) else {
        return Err(Error::Internal("stage parsed".into()));
    };
    let now = xietong_core::clock::now_rfc3339();
    sqlx::query("INSERT INTO stage_events (project_id, stage, on_date, recorded_by, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(&stage)
        .bind(text::format_date(on))
        .bind(&actor.username)
        .bind(&now)
        .execute(w.conn())
        .await?;
    sqlx::query("UPDATE projects SET stage = $1, updated_at = $2 WHERE id = $3")
        .bind(&stage)
        .bind(&now)
        .bind(id)
        .execute(w.conn())
        .await?;
    w.record(Change::updated(
        "project",
        id,
        serde_json::json!({"stage": project.stage}),
        serde_json::json!({"stage": stage, "on_date": text::format_date(on)}),
    ))
    .await?;
    w.commit().await?;
    detail(db, id).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PlanInput {
    pub year: i64,
    /// Planned investment for the year, yuan with 万/亿 allowed.
    pub planned: String,
    pub planned_start_on: String,
    pub planned_completion_on: String,
}

/// Sets a year's plan once; later changes go through [`adjust_plan`] so history is kept.
pub async fn set_plan(db: &Db, actor: &Actor, id: i64, input: &PlanInput) -> Result<ProjectDetail> {
    let project = get(db, id).await?;
    let mut p = Problems::new();
    let planned = p.take(money("planned", &input.planned));
    let start = p
        .take(text::optional_date(
            "planned_start_on",
            &input.planned_start_on,
        ))
        .flatten();
    let done = p
        .take(text::optional_date(
            "planned_completion_on",
            &input.planned_completion_on,
        ))
        .flatten();
    if !(2000..=2100).contains(&input.year) {
        p.push(FieldError::new(
            "year",
            "year_invalid",
            Msg::new(
                "年度须在 2000 至 2100 之间",
                "the year must lie between 2000 and 2100",
            ),
        ));
    }
    if let (Some(s), Some(d)) = (start, done) {
        if d < s {
            p.push(FieldError::new(
                "planned_completion_on",
                "completion_before_start",
                Msg::new(
                    "计划竣工早于计划开工",
                    "planned completion is before the planned start",
                ),
            ));
        }
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), project.framework_id))?;
    p.into_result()?;
    let planned = planned.ok_or_else(|| Error::Internal("plan parsed".into()))?;
    sqlx::query(
        "INSERT INTO project_plans (project_id, year, original_fen, planned_fen, planned_start_on, planned_completion_on) VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind(id)
    .bind(input.year)
    .bind(planned.fen())
    .bind(start.map(text::format_date))
    .bind(done.map(text::format_date))
    .execute(w.conn())
    .await
    .map_err(|e| Error::from(e).on_unique("plan_exists", "该年度计划已存在，请通过调整优化修改", "this year's plan exists; change it by an adjustment"))?;
    w.record(Change::created(
        "project_plan",
        format!("{id}/{}", input.year),
        input,
    ))
    .await?;
    w.commit().await?;
    detail(db, id).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AdjustInput {
    pub year: i64,
    /// The new planned investment for the year.
    pub planned: String,
    pub reason_zh: String,
    pub approver_zh: String,
    pub approved_on: String,
}

/// Adjusts a year's target (调整优化), keeping the original and every adjustment.
pub async fn adjust_plan(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &AdjustInput,
    today: Date,
) -> Result<ProjectDetail> {
    let project = get(db, id).await?;
    let mut p = Problems::new();
    let planned = p.take(money("planned", &input.planned));
    let reason = p.take(text::bounded("reason_zh", &input.reason_zh, 1, 1000));
    let approver = p.take(text::bounded("approver_zh", &input.approver_zh, 1, 100));
    let approved = p.take(text::date("approved_on", &input.approved_on));
    if approved.is_some_and(|d| d > today) {
        p.push(FieldError::new(
            "approved_on",
            "date_in_future",
            Msg::new(
                "批准日期不能晚于今天",
                "the approval cannot be dated in the future",
            ),
        ));
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), project.framework_id))?;
    p.into_result()?;
    let (Some(planned), Some(reason), Some(approver), Some(approved)) =
        (planned, reason, approver, approved)
    else {
        return Err(Error::Internal("adjustment parsed".into()));
    };
    let current: Option<(i64,)> =
        sqlx::query_as("SELECT planned_fen FROM project_plans WHERE project_id = $1 AND year = $2")
            .bind(id)
            .bind(input.year)
            .fetch_optional(w.conn())
            .await?;
    let (from,) = current.ok_or_else(|| {
        Error::invalid(
            "year",
            "plan_missing",
            "该年度尚无计划，不能调整",
            "there is no plan for this year to adjust",
        )
    })?;
    sqlx::query("UPDATE project_plans SET planned_fen = $1 WHERE project_id = $2 AND year = $3")
        .bind(planned.fen())
        .bind(id)
        .bind(input.year)
        .execute(w.conn())
        .await?;
    sqlx::query(
        "INSERT INTO plan_adjustments (project_id, year, from_fen, to_fen, reason_zh, approver_zh, approved_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(input.year)
    .bind(from)
    .bind(planned.fen())
    .bind(&reason)
    .bind(&approver)
    .bind(text::format_date(approved))
    .bind(xietong_core::clock::now_rfc3339())
    .execute(w.conn())
    .await?;
    w.record(Change::updated(
        "project_plan",
        format!("{id}/{}", input.year),
        serde_json::json!({"planned_fen": from}),
        serde_json::json!({"planned_fen": planned.fen(), "reason_zh": reason}),
    ))
    .await?;
    w.commit().await?;
    detail(db, id).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct InvestmentInput {
    /// `YYYY-MM`
    pub month: String,
    /// Investment completed in that month, yuan with 万/亿 allowed.
    pub completed: String,
}

/// Files (or corrects) a month's completed investment and keeps the year's total exact.
pub async fn report_investment(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &InvestmentInput,
    today: Date,
) -> Result<ProjectDetail> {
    let project = get(db, id).await?;
    let decision = may_report(db, actor, &project).await?;
    let mut p = Problems::new();
    let month = p.take(Period::parse("month", &input.month));
    let amount = p.take(money("completed", &input.completed));
    if month.is_some_and(|m| m > Period::of(today)) {
        p.push(FieldError::new(
            "month",
            "month_in_future",
            Msg::new("不能报送未来月份", "a future month cannot be reported"),
        ));
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(decision)?;
    p.into_result()?;
    let (Some(month), Some(amount)) = (month, amount) else {
        return Err(Error::Internal("report parsed".into()));
    };
    let plan: Option<(i64,)> = sqlx::query_as(
        "SELECT completed_fen FROM project_plans WHERE project_id = $1 AND year = $2",
    )
    .bind(id)
    .bind(month.year as i64)
    .fetch_optional(w.conn())
    .await?;
    if plan.is_none() {
        return Err(Error::invalid(
            "month",
            "plan_missing",
            format!("{} 年尚无投资计划", month.year),
            format!("there is no investment plan for {}", month.year),
        ));
    }
    let previous: Option<(i64,)> = sqlx::query_as(
        "SELECT completed_fen FROM investment_reports WHERE project_id = $1 AND month = $2",
    )
    .bind(id)
    .bind(month.to_string())
    .fetch_optional(w.conn())
    .await?;
    store_investment(
        &mut w,
        id,
        month,
        amount,
        previous.map(|(v,)| v),
        &actor.username,
    )
    .await?;
    let change = match previous {
        Some((old,)) => Change::updated(
            "investment_report",
            format!("{id}/{month}"),
            serde_json::json!({"completed_fen": old}),
            serde_json::json!({"completed_fen": amount.fen()}),
        ),
        None => Change::created(
            "investment_report",
            format!("{id}/{month}"),
            serde_json::json!({"completed_fen": amount.fen()}),
        ),
    };
    w.record(change).await?;
    w.commit().await?;
    detail(db, id).await
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub rows: usize,
    pub changed: usize,
    pub unchanged: usize,
}

/// Imports a filled-in monthly-investment template: every row is checked first (project known,
/// reporter allowed, month valid and planned for, amount sane, no row twice) and nothing is
/// written if any row fails; then all rows go in one transaction. Importing the same file again
/// changes nothing.
pub async fn import_investment(
    db: &Db,
    actor: &Actor,
    rows: &[crate::excel::InvestmentRow],
    today: Date,
) -> Result<ImportOutcome> {
    if rows.is_empty() {
        return Err(Error::invalid(
            "file",
            "import_empty",
            "文件中没有填写任何月度投资",
            "the file reports no monthly investment",
        ));
    }
    let mut problems = Problems::new();
    let mut checked: Vec<(i64, Period, Money)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let cell = |row: usize, column: &str, zh: String, en: String| {
        FieldError::new(
            format!("第{row}行 {column}"),
            "import_cell",
            Msg::new(zh, en),
        )
    };
    let [code_col, _, month_col, _] = crate::excel::INVESTMENT_HEADERS;
    let known = Known::load(db, rows).await?;
    for r in rows {
        let project = known.projects.get(&r.code).copied();
        let Some((id, framework_id)) = project else {
            problems.push(cell(
                r.row,
                code_col,
                format!("项目编号“{}”不存在", r.code),
                format!("no project has the code “{}”", r.code),
            ));
            continue;
        };
        if permissions::report(
            Some(actor),
            framework_id,
            known.units.get(&id).map(Vec::as_slice).unwrap_or(&[]),
        ) != Decision::Allow
        {
            problems.push(cell(
                r.row,
                code_col,
                format!("无权报送项目“{}”", r.code),
                format!("you may not report for project “{}”", r.code),
            ));
            continue;
        }
        let month = match Period::parse("month", &r.month) {
            Ok(m) if m <= Period::of(today) => m,
            Ok(m) => {
                problems.push(cell(
                    r.row,
                    month_col,
                    format!("{m} 是未来月份"),
                    format!("{m} is in the future"),
                ));
                continue;
            }
            Err(_) => {
                problems.push(cell(
                    r.row,
                    month_col,
                    format!("“{}”不是 YYYY-MM 格式的月份", r.month),
                    format!("“{}” is not a YYYY-MM month", r.month),
                ));
                continue;
            }
        };
        let Some(amount) = problems.take(crate::excel::parse_wan(r.row, &r.amount_wan)) else {
            continue;
        };
        if !known.plans.contains(&(id, month.year as i64)) {
            problems.push(cell(
                r.row,
                month_col,
                format!("项目“{}”{} 年尚无投资计划", r.code, month.year),
                format!("project “{}” has no plan for {}", r.code, month.year),
            ));
            continue;
        }
        if !seen.insert((id, month)) {
            problems.push(cell(
                r.row,
                code_col,
                format!("项目“{}”{month} 重复填写", r.code),
                format!("project “{}” is reported twice for {month}", r.code),
            ));
            continue;
        }
        checked.push((id, month, amount));
    }
    problems.into_result()?;
    let mut w = db.write(actor).await?;
    // Each row's permission was decided above, row by row.
    w.authorize_decision(Decision::Allow)?;
    let mut outcome = ImportOutcome {
        rows: checked.len(),
        ..Default::default()
    };
    for (id, month, amount) in &checked {
        let previous: Option<(i64,)> = sqlx::query_as(
            "SELECT completed_fen FROM investment_reports WHERE project_id = $1 AND month = $2",
        )
        .bind(id)
        .bind(month.to_string())
        .fetch_optional(w.conn())
        .await?;
        if previous.map(|(v,)| v) == Some(amount.fen()) {
            outcome.unchanged += 1;
            continue;
        }
        store_investment(
            &mut w,
            *id,
            *month,
            *amount,
            previous.map(|(v,)| v),
            &actor.username,
        )
        .await?;
        w.record(Change::updated(
            "investment_report",
            format!("{id}/{month}"),
            serde_json::json!({"completed_fen": previous.map(|(v,)| v)}),
            serde_json::json!({"completed_fen": amount.fen(), "via": "import"}),
        ))
        .await?;
        outcome.changed += 1;
    }
    if outcome.changed == 0 {
        // Nothing differs from what is stored: no write, no audit record.
        return Ok(outcome);
    }
    w.commit().await?;
    Ok(outcome)
}

/// Stores a month's completed investment and moves the year's total by the difference, inside
/// the caller's write.
async fn store_investment(
    w: &mut xietong_core::write::Write<'_>,
    id: i64,
    month: Period,
    amount: Money,
    previous: Option<i64>,
    reporter: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO investment_reports (project_id, month, completed_fen, reported_by, reported_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project_id, month) DO UPDATE SET completed_fen = $3, reported_by = $4, reported_at = $5",
    )
    .bind(id)
    .bind(month.to_string())
    .bind(amount.fen())
    .bind(reporter)
    .bind(xietong_core::clock::now_rfc3339())
    .execute(w.conn())
    .await?;
    sqlx::query("UPDATE project_plans SET completed_fen = completed_fen + $1 WHERE project_id = $2 AND year = $3")
        .bind(amount.fen() - previous.unwrap_or(0))
        .bind(id)
        .bind(month.year as i64)
        .execute(w.conn())
        .await?;
    Ok(())
}

/// What an import's checks need, read in a few set queries instead of several per row.
struct Known {
    projects: std::collections::HashMap<String, (i64, i64)>,
    units: std::collections::HashMap<i64, Vec<i64>>,
    plans: std::collections::HashSet<(i64, i64)>,
}

impl Known {
    async fn load(db: &Db, rows: &[crate::excel::InvestmentRow]) -> Result<Known> {
        let mut codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut projects = std::collections::HashMap::new();
        for chunk in codes.chunks(500) {
            let marks = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql =
                format!("SELECT code, id, framework_id FROM projects WHERE code IN ({marks})");
            let mut q = sqlx::query_as::<_, (String, i64, i64)>(&sql);
            for c in chunk {
                q = q.bind(*c);
            }
            for (code, id, framework) in q.fetch_all(db.pool()).await? {
                projects.insert(code, (id, framework));
            }
        }
        let ids: Vec<i64> = projects.values().map(|(id, _)| *id).collect();
        let mut units: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
        let mut plans = std::collections::HashSet::new();
        // Ids are integers this database produced, so they are listed inline.
        for chunk in ids.chunks(1000) {
            let list = chunk
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
                "SELECT project_id, org_id FROM project_units WHERE project_id IN ({list})"
            ))
            .fetch_all(db.pool())
            .await?;
            for (project, org) in rows {
                units.entry(project).or_default().push(org);
            }
            let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
                "SELECT project_id, year FROM project_plans WHERE project_id IN ({list})"
            ))
            .fetch_all(db.pool())
            .await?;
            plans.extend(rows);
        }
        Ok(Known {
            projects,
            units,
            plans,
        })
    }
}
