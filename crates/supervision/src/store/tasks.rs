//! Tasks (任务书 items): creation, owners, milestones, progress reports, closing and dropping.

use serde::{Deserialize, Serialize};
use time::Date;
use xietong_core::audit::Change;
use xietong_core::db::filter::page;
use xietong_core::db::filter::Filter;
use xietong_core::domain::text;
use xietong_core::error::{Error, FieldError, Msg, Problems, Result};
use xietong_core::permissions::{Action, Actor, Decision, Kind, Resource};
use xietong_core::write::Write;
use xietong_core::Db;

use crate::domain::{self, LagRules, Period, Resolution, TaskFacts, TaskStatus};
use crate::permissions;
use crate::store::evidence::{self, EvidenceLimit, Upload};
use crate::store::rollups;

pub const SOURCE_KINDS: &[&str] = &[
    "decision",
    "agreement",
    "annual_plan",
    "problem_list",
    "other",
];

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Task {
    pub id: i64,
    pub code: String,
    pub framework_id: i64,
    pub title_zh: String,
    pub title_en: String,
    pub area: String,
    pub year: i64,
    pub lead_org_id: i64,
    pub lead_name_zh: String,
    pub start_on: String,
    pub deadline: String,
    pub deliverable_zh: String,
    pub source_kind: String,
    pub decision_id: Option<i64>,
    pub status: String,
    pub resolution: Option<String>,
    pub resolution_reason: String,
    pub latest_percent: Option<i64>,
    pub latest_period: Option<String>,
    pub source_seed: Option<String>,
    pub source_quote: Option<String>,
    pub generated: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Owner {
    pub org_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Milestone {
    pub id: i64,
    pub title_zh: String,
    pub due_on: String,
    pub done_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ProgressReport {
    pub id: i64,
    pub period: String,
    pub percent: i64,
    pub narrative_zh: String,
    pub reported_by: String,
    pub reported_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: Task,
    pub owners: Vec<Owner>,
    pub milestones: Vec<Milestone>,
    pub reports: Vec<ProgressReport>,
    /// Evidence files of the reports, newest period first.
    pub evidence: Vec<crate::store::evidence::Evidence>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TaskInput {
    pub code: String,
    pub framework_id: i64,
    pub title_zh: String,
    pub title_en: String,
    pub area: String,
    pub year: i64,
    pub lead_org_id: i64,
    pub co_org_ids: Vec<i64>,
    pub start_on: String,
    pub deadline: String,
    pub deliverable_zh: String,
    pub source_kind: String,
    pub decision_id: Option<i64>,
}

struct ValidTask {
    start_on: Date,
    deadline: Date,
    title_zh: String,
    title_en: String,
    deliverable_zh: String,
    code: String,
}

impl TaskInput {
    fn parse(&self) -> Result<ValidTask> {
        let mut p = Problems::new();
        let code = p.take(text::key("code", &self.code));
        let title_zh = p.take(text::bounded("title_zh", &self.title_zh, 1, 300));
        let title_en = p.take(text::optional("title_en", &self.title_en, 500));
        let deliverable_zh = p.take(text::optional("deliverable_zh", &self.deliverable_zh, 1000));
        let start_on = p.take(text::date("start_on", &self.start_on));
        let deadline = p.take(text::date("deadline", &self.deadline));
        if let (Some(s), Some(d)) = (start_on, deadline) {
            if d < s {
                p.push(FieldError::new(
                    "deadline",
                    "deadline_before_start",
                    Msg::new("截止日期早于开始日期", "the deadline is before the start"),
                ));
            }
        }
        if !(2000..=2100).contains(&self.year) {
            p.push(FieldError::new(
                "year",
                "year_invalid",
                Msg::new(
                    "年度须在 2000 至 2100 之间",
                    "the year must lie between 2000 and 2100",
                ),
            ));
        }
        if !SOURCE_KINDS.contains(&self.source_kind.as_str()) {
            p.push(FieldError::new(
                "source_kind",
                "value_unknown",
                Msg::new(
                    format!("来源类型可选：{}", SOURCE_KINDS.join("、")),
                    format!("source kind: one of {}", SOURCE_KINDS.join(", ")),
                ),
            ));
        }
        if self.co_org_ids.contains(&self.lead_org_id) {
            p.push(FieldError::new(
                "co_org_ids",
                "owner_twice",
                Msg::new(
                    "牵头单位不能同时是配合单位",
                    "the lead organisation cannot also be a co-owner",
                ),
            ));
        }
        p.into_result()?;
        match (code, title_zh, title_en, deliverable_zh, start_on, deadline) {
            (
                Some(code),
                Some(title_zh),
                Some(title_en),
                Some(deliverable_zh),
                Some(start_on),
                Some(deadline),
            ) => Ok(ValidTask {
                start_on,
                deadline,
                title_zh,
                title_en,
                deliverable_zh,
                code,
            }),
            _ => Err(Error::Internal("task parsed".into())),
        }
    }
}

const SELECT: &str = "SELECT t.id, t.code, t.framework_id, t.title_zh, t.title_en, t.area, t.year, t.lead_org_id, o.name_zh AS lead_name_zh,
       t.start_on, t.deadline, t.deliverable_zh, t.source_kind, t.decision_id, t.status, t.resolution, t.resolution_reason,
       t.latest_percent, t.latest_period, t.source_seed, t.source_quote, t.generated
  FROM tasks t JOIN organisations o ON o.id = t.lead_org_id";

pub async fn get(db: &Db, id: i64) -> Result<Task> {
    sqlx::query_as(&format!("{SELECT} WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("task", id))
}

pub async fn owners(db: &Db, task_id: i64) -> Result<Vec<Owner>> {
    Ok(sqlx::query_as(
        "SELECT w.org_id, o.name_zh, o.name_en, w.role FROM task_owners w JOIN organisations o ON o.id = w.org_id
          WHERE w.task_id = $1 ORDER BY CASE w.role WHEN 'lead' THEN 0 ELSE 1 END, o.id",
    )
    .bind(task_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn detail(db: &Db, id: i64) -> Result<TaskDetail> {
    let task = get(db, id).await?;
    let milestones = sqlx::query_as("SELECT id, title_zh, due_on, done_on FROM milestones WHERE task_id = $1 ORDER BY due_on, id")
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    let reports = sqlx::query_as(
        "SELECT id, period, percent, narrative_zh, reported_by, reported_at FROM progress_reports WHERE task_id = $1 ORDER BY period DESC",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(TaskDetail {
        owners: owners(db, id).await?,
        task,
        milestones,
        reports,
        evidence: crate::store::evidence::of_task(db, id).await?,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TaskFilter {
    #[serde(default)]
    pub framework: Option<i64>,
    #[serde(default)]
    pub year: Option<i64>,
    #[serde(default)]
    pub area: Option<String>,
    /// Organisation id: tasks it leads or co-owns.
    #[serde(default)]
    pub unit: Option<i64>,
    /// Derived status, e.g. `at_risk`.
    #[serde(default)]
    pub status: Option<String>,
    /// Tasks whose deadline falls in this month (`YYYY-MM`).
    #[serde(default)]
    pub due: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

pub async fn list(db: &Db, f: &TaskFilter, visible: Option<&[i64]>) -> Result<(Vec<Task>, i64)> {
    let mut w = Filter::new();
    if let Some(fw) = f.framework {
        w.int("t.framework_id = ?", fw);
    }
    if let Some(y) = f.year {
        w.int("t.year = ?", y);
    }
    if let Some(a) = f.area.as_deref().filter(|s| !s.is_empty()) {
        w.text("t.area = ?", a);
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        w.text("t.status = ?", s);
    }
    if let Some(unit) = f.unit {
        w.int(
            "t.id IN (SELECT task_id FROM task_owners WHERE org_id = ?)",
            unit,
        );
    }
    if let Some(due) = f.due.as_deref().filter(|s| !s.is_empty()) {
        let period = Period::parse("due", due).map_err(|e| Error::Invalid(vec![e]))?;
        w.text("t.deadline >= ?", text::format_date(period.first_day()));
        w.text("t.deadline <= ?", text::format_date(period.last_day()));
    }
    let q = f.q.as_deref().unwrap_or("").trim().replace(['%', '_'], "");
    if !q.is_empty() {
        w.text("(t.title_zh LIKE ? OR t.code LIKE ?)", format!("%{q}%"));
    }
    match visible {
        None => {}
        Some([]) => {
            w.raw("1 = 0");
        }
        Some(ids) => {
            w.raw(format!(
                "t.framework_id IN ({})",
                ids.iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
    }
    let (limit, offset) = page(f.limit, f.offset);
    let n = w.next_placeholder();
    // The page's ids first (read from the index in deadline order, without visiting the rows
    // skipped), then those rows with their lead's name.
    let sql = format!(
        "{SELECT} WHERE t.id IN (SELECT t.id FROM tasks t {} ORDER BY t.deadline, t.id LIMIT ${n} OFFSET ${})
          ORDER BY t.deadline, t.id",
        w.sql(),
        n + 1
    );
    let rows = w
        .bind_as(sqlx::query_as(&sql))
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    // Filtered by framework, year, area and status only, the total is the sum of the report
    // card's counters (kept exact in every writing transaction) instead of a count of rows.
    let counted = if f.unit.is_none() && f.due.as_deref().unwrap_or("").is_empty() && q.is_empty() {
        "SELECT CAST(COALESCE(SUM(t.n), 0) AS BIGINT) FROM card_task_counts t"
    } else {
        "SELECT COUNT(*) FROM tasks t"
    };
    let (total,): (i64,) = w
        .bind_as(sqlx::query_as(&format!("{counted} {}", w.sql())))
        .fetch_one(db.pool())
        .await?;
    Ok((rows, total))
}

/// Where a seeded task came from.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub seed: Option<String>,
    pub quote: Option<String>,
    pub generated: bool,
}

fn manage(w: &mut Write<'_>, framework_id: i64) -> Result<()> {
    let decision = permissions::manage(Some(w.actor()), framework_id);
    w.authorize_decision(decision)
}

async fn require_org(db: &Db, field: &str, id: i64) -> Result<()> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM organisations WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    found.map(|_| ()).ok_or_else(|| {
        Error::invalid(
            field,
            "organisation_unknown",
            format!("机构 {id} 不存在"),
            format!("organisation {id} does not exist"),
        )
    })
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &TaskInput,
    provenance: Provenance,
    today: Date,
    rules: &LagRules,
) -> Result<TaskDetail> {
    let v = input.parse()?;
    xietong_core::registry::frameworks::get(db, input.framework_id)
        .await
        .map_err(|_| {
            Error::invalid(
                "framework_id",
                "framework_unknown",
                "协作机制不存在",
                "the framework does not exist",
            )
        })?;
    require_org(db, "lead_org_id", input.lead_org_id).await?;
    for id in &input.co_org_ids {
        require_org(db, "co_org_ids", *id).await?;
    }
    let area: Option<(String,)> = sqlx::query_as("SELECT key FROM areas WHERE key = $1")
        .bind(&input.area)
        .fetch_optional(db.pool())
        .await?;
    if area.is_none() {
        return Err(Error::invalid(
            "area",
            "area_unknown",
            "未知的领域",
            "unknown area",
        ));
    }
    let mut w = db.write(actor).await?;
    manage(&mut w, input.framework_id)?;
    let id = insert(&mut w, &v, input, &provenance, today, rules)
        .await
        .map_err(|e| {
            e.on_unique(
                "task_code_taken",
                "该任务编号已存在",
                "a task with this code exists",
            )
        })?;
    w.record(Change::created("task", id, input)).await?;
    w.commit().await?;
    detail(db, id).await
}

/// Inserts a checked task with its owners inside the caller's write (creation and import).
async fn insert(
    w: &mut Write<'_>,
    v: &ValidTask,
    input: &TaskInput,
    provenance: &Provenance,
    today: Date,
    rules: &LagRules,
) -> Result<i64> {
    let facts = TaskFacts {
        start_on: v.start_on,
        deadline: v.deadline,
        resolution: None,
        latest: None,
        overdue_milestones: 0,
    };
    let status = domain::status(&facts, today, rules);
    let now = xietong_core::clock::now_rfc3339();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO tasks (code, framework_id, title_zh, title_en, area, year, lead_org_id, start_on, deadline, deliverable_zh, source_kind,
                            decision_id, status, source_seed, source_quote, generated, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id",
    )
    .bind(&v.code)
    .bind(input.framework_id)
    .bind(&v.title_zh)
    .bind(&v.title_en)
    .bind(&input.area)
    .bind(input.year)
    .bind(input.lead_org_id)
    .bind(text::format_date(v.start_on))
    .bind(text::format_date(v.deadline))
    .bind(&v.deliverable_zh)
    .bind(&input.source_kind)
    .bind(input.decision_id)
    .bind(status.as_str())
    .bind(&provenance.seed)
    .bind(&provenance.quote)
    .bind(provenance.generated as i64)
    .bind(&now)
    .fetch_one(w.conn())
    .await?;
    set_owners(w, id, input.lead_org_id, &input.co_org_ids).await?;
    rollups::TaskMove::new_task(id).finish(w.conn()).await?;
    Ok(id)
}

async fn set_owners(w: &mut Write<'_>, id: i64, lead: i64, co: &[i64]) -> Result<()> {
    sqlx::query("DELETE FROM task_owners WHERE task_id = $1")
        .bind(id)
        .execute(w.conn())
        .await?;
    sqlx::query("INSERT INTO task_owners (task_id, org_id, role) VALUES ($1, $2, 'lead')")
        .bind(id)
        .bind(lead)
        .execute(w.conn())
        .await?;
    for org in co {
        sqlx::query("INSERT INTO task_owners (task_id, org_id, role) VALUES ($1, $2, 'co')")
            .bind(id)
            .bind(*org)
            .execute(w.conn())
            .await?;
    }
    Ok(())
}

/// What an import of a task list or project ledger did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct LedgerOutcome {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// A task as the task-list template holds it, for comparing an imported row with what is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Sheeted {
    title_zh: String,
    area: String,
    year: i64,
    lead_org_id: i64,
    co_org_ids: Vec<i64>,
    start_on: String,
    deadline: String,
    deliverable_zh: String,
    source_kind: String,
}

/// Imports a filled-in task-list template: each row is read into a [`TaskInput`] and checked by
/// the same rules as a task created by hand (plus: framework, area and units known, the caller
/// manages the framework, no code twice, a code is not moved to another framework). Nothing is
/// written if any row fails; then new codes are created and changed ones updated in one
/// transaction. Rows equal to what is stored are not written, so the same file twice changes
/// nothing and records nothing.
pub async fn import(
    db: &Db,
    actor: &Actor,
    rows: &[crate::excel::SheetRow],
    today: Date,
    rules: &LagRules,
) -> Result<LedgerOutcome> {
    use crate::excel::{cell_problem, key_of, split_list, SOURCE_KIND_LABELS, TASK_HEADERS as H};
    if rows.is_empty() {
        return Err(Error::invalid(
            "file",
            "import_empty",
            "文件中没有填写任何任务",
            "the file lists no task",
        ));
    }
    let known = Known::load(db, rows).await?;
    let mut problems = Problems::new();
    let mut seen = std::collections::HashSet::new();
    let mut checked: Vec<(TaskInput, ValidTask, Option<i64>)> = Vec::new();
    for r in rows {
        let mut cell = |c: usize, zh: String, en: String| {
            problems.push(cell_problem(r.row, H[c], Msg::new(zh, en)));
        };
        let mut ok = true;
        let framework = known.frameworks.get(r.get(1)).copied();
        if framework.is_none() {
            cell(
                1,
                format!("协作机制“{}”不存在", r.get(1)),
                format!("no framework has the key “{}”", r.get(1)),
            );
            ok = false;
        }
        let area = known.areas.get(r.get(3)).cloned();
        if area.is_none() {
            cell(
                3,
                format!("领域“{}”不存在", r.get(3)),
                format!("there is no area “{}”", r.get(3)),
            );
            ok = false;
        }
        let year = r.get(4).parse::<i64>().ok();
        if year.is_none() {
            cell(
                4,
                format!("“{}”不是年度", r.get(4)),
                format!("“{}” is not a year", r.get(4)),
            );
            ok = false;
        }
        let lead = known.org(r.get(5));
        if let Err((zh, en)) = &lead {
            cell(5, zh.clone(), en.clone());
            ok = false;
        }
        let mut co = Vec::new();
        for name in split_list(r.get(6)) {
            match known.org(&name) {
                Ok(id) => co.push(id),
                Err((zh, en)) => {
                    cell(6, zh, en);
                    ok = false;
                }
            }
        }
        let source_kind = key_of(&SOURCE_KIND_LABELS, r.get(10)).unwrap_or("");
        let input = TaskInput {
            code: r.get(0).to_string(),
            framework_id: framework.unwrap_or(0),
            title_zh: r.get(2).to_string(),
            title_en: String::new(),
            area: area.unwrap_or_default(),
            year: year.unwrap_or(0),
            lead_org_id: lead.unwrap_or(0),
            co_org_ids: co,
            start_on: r.get(7).to_string(),
            deadline: r.get(8).to_string(),
            deliverable_zh: r.get(9).to_string(),
            source_kind: source_kind.to_string(),
            decision_id: None,
        };
        // The rules of a task created by hand, each failure put on its column.
        let valid = match input.parse() {
            Ok(v) => Some(v),
            Err(Error::Invalid(fields)) => {
                for f in fields {
                    let c = match f.field.as_str() {
                        "code" => 0,
                        "title_zh" => 2,
                        "year" if year.is_none() => continue,
                        "year" => 4,
                        "co_org_ids" => 6,
                        "start_on" => 7,
                        "deadline" => 8,
                        "deliverable_zh" => 9,
                        "source_kind" => 10,
                        _ => 0,
                    };
                    problems.push(cell_problem(r.row, H[c], f.message));
                }
                None
            }
            Err(e) => return Err(e),
        };
        let (Some(valid), true) = (valid, ok) else {
            continue;
        };
        if permissions::manage(Some(actor), input.framework_id) != Decision::Allow {
            problems.push(cell_problem(
                r.row,
                H[1],
                Msg::new(
                    format!("无权管理协作机制“{}”的任务", r.get(1)),
                    format!("you may not manage the tasks of framework “{}”", r.get(1)),
                ),
            ));
            continue;
        }
        if !seen.insert(valid.code.clone()) {
            problems.push(cell_problem(
                r.row,
                H[0],
                Msg::new(
                    format!("任务编号“{}”重复填写", valid.code),
                    format!("the task code “{}” appears twice", valid.code),
                ),
            ));
            continue;
        }
        let existing = known.tasks.get(&valid.code);
        if let Some((_, framework_id, _)) = existing {
            if *framework_id != input.framework_id {
                problems.push(cell_problem(
                    r.row,
                    H[0],
                    Msg::new(
                        format!("任务编号“{}”已属于其他协作机制", valid.code),
                        format!(
                            "the task code “{}” belongs to another framework",
                            valid.code
                        ),
                    ),
                ));
                continue;
            }
        }
        let id = existing.map(|(id, _, _)| *id);
        checked.push((input, valid, id));
    }
    problems.into_result()?;

    let mut w = db.write(actor).await?;
    // Each row's permission was decided above, row by row.
    w.authorize_decision(Decision::Allow)?;
    let mut outcome = LedgerOutcome {
        rows: checked.len(),
        ..Default::default()
    };
    for (input, v, id) in &checked {
        let after = Sheeted {
            title_zh: v.title_zh.clone(),
            area: input.area.clone(),
            year: input.year,
            lead_org_id: input.lead_org_id,
            co_org_ids: {
                let mut co = input.co_org_ids.clone();
                co.sort_unstable();
                co
            },
            start_on: text::format_date(v.start_on),
            deadline: text::format_date(v.deadline),
            deliverable_zh: v.deliverable_zh.clone(),
            source_kind: input.source_kind.clone(),
        };
        match id {
            None => {
                let id = insert(&mut w, v, input, &Provenance::default(), today, rules).await?;
                w.record(Change::created(
                    "task",
                    id,
                    serde_json::json!({"input": input, "via": "import"}),
                ))
                .await?;
                outcome.created += 1;
            }
            Some(id) => {
                let before = &known.tasks[&v.code].2;
                if *before == after {
                    outcome.unchanged += 1;
                    continue;
                }
                let moved = rollups::TaskMove::start(w.conn(), *id).await?;
                sqlx::query(
                    "UPDATE tasks SET title_zh = $1, area = $2, year = $3, lead_org_id = $4, start_on = $5, deadline = $6,
                            deliverable_zh = $7, source_kind = $8, updated_at = $9 WHERE id = $10",
                )
                .bind(&after.title_zh)
                .bind(&after.area)
                .bind(after.year)
                .bind(after.lead_org_id)
                .bind(&after.start_on)
                .bind(&after.deadline)
                .bind(&after.deliverable_zh)
                .bind(&after.source_kind)
                .bind(xietong_core::clock::now_rfc3339())
                .bind(id)
                .execute(w.conn())
                .await?;
                if before.lead_org_id != after.lead_org_id || before.co_org_ids != after.co_org_ids
                {
                    set_owners(&mut w, *id, input.lead_org_id, &input.co_org_ids).await?;
                }
                refresh_status(&mut w, *id, today, rules).await?;
                moved.finish(w.conn()).await?;
                w.record(Change::updated("task", id, before, &after))
                    .await?;
                outcome.updated += 1;
            }
        }
    }
    if outcome.created + outcome.updated == 0 {
        // Nothing differs from what is stored: no write, no audit record.
        return Ok(outcome);
    }
    w.commit().await?;
    Ok(outcome)
}

/// What a task import's checks need, read in a few set queries instead of several per row.
struct Known {
    frameworks: std::collections::HashMap<String, i64>,
    /// Area by its Chinese name and by its key.
    areas: std::collections::HashMap<String, String>,
    /// Organisation ids by Chinese name (more than one when the name is shared).
    orgs: std::collections::HashMap<String, Vec<i64>>,
    /// Stored tasks by code: id, framework, what the template holds.
    tasks: std::collections::HashMap<String, (i64, i64, Sheeted)>,
}

impl Known {
    async fn load(db: &Db, rows: &[crate::excel::SheetRow]) -> Result<Known> {
        let frameworks = sqlx::query_as::<_, (String, i64)>("SELECT key, id FROM frameworks")
            .fetch_all(db.pool())
            .await?
            .into_iter()
            .collect();
        let mut areas = std::collections::HashMap::new();
        for (key, name) in sqlx::query_as::<_, (String, String)>("SELECT key, name_zh FROM areas")
            .fetch_all(db.pool())
            .await?
        {
            areas.insert(name, key.clone());
            areas.insert(key.clone(), key);
        }
        let mut names: Vec<String> = rows
            .iter()
            .flat_map(|r| {
                let mut n = crate::excel::split_list(r.get(6));
                n.push(r.get(5).to_string());
                n
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        let orgs = org_ids_by_name(db, &names).await?;
        let mut codes: Vec<&str> = rows.iter().map(|r| r.get(0)).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut tasks = std::collections::HashMap::new();
        for chunk in codes.chunks(xietong_core::db::rows_per_statement(1)) {
            let marks = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT id, code, framework_id, title_zh, area, year, lead_org_id, start_on, deadline, deliverable_zh, source_kind
                   FROM tasks WHERE code IN ({marks})"
            );
            let mut q = sqlx::query_as::<
                _,
                (
                    i64,
                    String,
                    i64,
                    String,
                    String,
                    i64,
                    i64,
                    String,
                    String,
                    String,
                    String,
                ),
            >(&sql);
            for c in chunk {
                q = q.bind(*c);
            }
            let found = q.fetch_all(db.pool()).await?;
            if found.is_empty() {
                continue;
            }
            // Ids are integers this database produced, so they are listed inline.
            let list = found
                .iter()
                .map(|t| t.0.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let mut co: std::collections::HashMap<i64, Vec<i64>> = Default::default();
            for (task, org) in sqlx::query_as::<_, (i64, i64)>(&format!(
                "SELECT task_id, org_id FROM task_owners WHERE role = 'co' AND task_id IN ({list}) ORDER BY org_id"
            ))
            .fetch_all(db.pool())
            .await?
            {
                co.entry(task).or_default().push(org);
            }
            for t in found {
                let sheeted = Sheeted {
                    title_zh: t.3,
                    area: t.4,
                    year: t.5,
                    lead_org_id: t.6,
                    co_org_ids: co.remove(&t.0).unwrap_or_default(),
                    start_on: t.7,
                    deadline: t.8,
                    deliverable_zh: t.9,
                    source_kind: t.10,
                };
                tasks.insert(t.1, (t.0, t.2, sheeted));
            }
        }
        Ok(Known {
            frameworks,
            areas,
            orgs,
            tasks,
        })
    }

    /// The organisation a cell names, or why it names none.
    fn org(&self, name: &str) -> Result<i64, (String, String)> {
        org_named(&self.orgs, name)
    }
}

/// Organisation ids by Chinese name, for the names given, in set queries.
pub async fn org_ids_by_name(
    db: &Db,
    names: &[String],
) -> Result<std::collections::HashMap<String, Vec<i64>>> {
    let mut orgs: std::collections::HashMap<String, Vec<i64>> = Default::default();
    for chunk in names.chunks(xietong_core::db::rows_per_statement(1)) {
        let marks = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT name_zh, id FROM organisations WHERE name_zh IN ({marks})");
        let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
        for n in chunk {
            q = q.bind(n);
        }
        for (name, id) in q.fetch_all(db.pool()).await? {
            orgs.entry(name).or_default().push(id);
        }
    }
    Ok(orgs)
}

/// The one organisation a cell names, or why it names none (unknown, or a name two share).
pub fn org_named(
    orgs: &std::collections::HashMap<String, Vec<i64>>,
    name: &str,
) -> Result<i64, (String, String)> {
    match orgs.get(name).map(Vec::as_slice) {
        Some([id]) => Ok(*id),
        Some(_) => Err((
            format!("机构名称“{name}”不唯一，请联系管理员"),
            format!("more than one organisation is named “{name}”; ask an administrator"),
        )),
        None if name.is_empty() => {
            Err(("须填写机构名称".into(), "an organisation is needed".into()))
        }
        None => Err((
            format!("机构“{name}”不存在"),
            format!("no organisation is named “{name}”"),
        )),
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReportInput {
    /// `YYYY-MM`
    pub period: String,
    pub percent: i64,
    pub narrative_zh: String,
}

/// Files (or replaces) the progress report of a period, and re-derives the task's status.
pub async fn file_report(
    db: &Db,
    actor: &Actor,
    task_id: i64,
    input: &ReportInput,
    today: Date,
    rules: &LagRules,
) -> Result<TaskDetail> {
    file_report_with_evidence(
        db,
        actor,
        task_id,
        input,
        evidence::Uploads::default(),
        today,
        rules,
    )
    .await
}

/// Files a progress report with evidence files, all in one transaction: a refused file
/// refuses the report too.
pub async fn file_report_with_evidence(
    db: &Db,
    actor: &Actor,
    task_id: i64,
    input: &ReportInput,
    uploads: evidence::Uploads,
    today: Date,
    rules: &LagRules,
) -> Result<TaskDetail> {
    let task = get(db, task_id).await?;
    let owner_ids: Vec<i64> = owners(db, task_id)
        .await?
        .iter()
        .map(|o| o.org_id)
        .collect();
    let mut p = Problems::new();
    let period = p.take(Period::parse("period", &input.period));
    let narrative = p.take(text::bounded("narrative_zh", &input.narrative_zh, 1, 4000));
    if !(0..=100).contains(&input.percent) {
        p.push(FieldError::new(
            "percent",
            "percent_out_of_range",
            Msg::new(
                "完成进度须在 0 至 100 之间",
                "the percentage must lie between 0 and 100",
            ),
        ));
    }
    if let Some(period) = period {
        let start = text::date("start_on", &task.start_on).map(Period::of).ok();
        if start.is_some_and(|s| period < s) || period > Period::of(today) {
            p.push(FieldError::new(
                "period",
                "period_outside_task",
                Msg::new(
                    format!("报告期 {period} 不在任务开始至本月之间"),
                    format!("period {period} is not between the task's start and this month"),
                ),
            ));
        }
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::report(
        Some(actor),
        task.framework_id,
        &owner_ids,
    ))?;
    p.into_result()?;
    if task.resolution.is_some() {
        return Err(Error::conflict(
            "task_resolved",
            "任务已关闭或撤销，不能再报送进度",
            "the task is closed or dropped; no more reports",
        ));
    }
    let (period, narrative) = match (period, narrative) {
        (Some(p), Some(n)) => (p, n),
        _ => return Err(Error::Internal("report parsed".into())),
    };
    let files = evidence::check(uploads.files, uploads.limit)?;
    let previous: Option<ProgressReport> = sqlx::query_as(
        "SELECT id, period, percent, narrative_zh, reported_by, reported_at FROM progress_reports WHERE task_id = $1 AND period = $2",
    )
    .bind(task_id)
    .bind(period.to_string())
    .fetch_optional(w.conn())
    .await?;
    let now = xietong_core::clock::now_rfc3339();
    sqlx::query(
        "INSERT INTO progress_reports (task_id, period, percent, narrative_zh, reported_by, reported_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (task_id, period) DO UPDATE SET percent = $3, narrative_zh = $4, reported_by = $5, reported_at = $6",
    )
    .bind(task_id)
    .bind(period.to_string())
    .bind(input.percent)
    .bind(&narrative)
    .bind(&actor.username)
    .bind(&now)
    .execute(w.conn())
    .await?;
    let (report_id,): (i64,) =
        sqlx::query_as("SELECT id FROM progress_reports WHERE task_id = $1 AND period = $2")
            .bind(task_id)
            .bind(period.to_string())
            .fetch_one(w.conn())
            .await?;
    evidence::attach(&mut w, report_id, &files).await?;
    let moved = rollups::TaskMove::start(w.conn(), task_id).await?;
    refresh_status(&mut w, task_id, today, rules).await?;
    moved.finish(w.conn()).await?;
    let after = serde_json::json!({"period": period.to_string(), "percent": input.percent, "narrative_zh": narrative});
    let change = match previous {
        Some(prev) => Change::updated(
            "progress_report",
            format!("{task_id}/{period}"),
            prev,
            after,
        ),
        None => Change::created("progress_report", format!("{task_id}/{period}"), after),
    };
    w.record(change).await?;
    w.commit().await?;
    detail(db, task_id).await
}

/// Adds evidence files to the report of a period already filed (as for filing the report:
/// staff of an owning organisation, coordinators; not on a closed or dropped task).
pub async fn attach_evidence(
    db: &Db,
    actor: &Actor,
    task_id: i64,
    period: &str,
    uploads: Vec<Upload>,
    limit: EvidenceLimit,
) -> Result<TaskDetail> {
    let task = get(db, task_id).await?;
    let owner_ids: Vec<i64> = owners(db, task_id)
        .await?
        .iter()
        .map(|o| o.org_id)
        .collect();
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::report(
        Some(actor),
        task.framework_id,
        &owner_ids,
    ))?;
    if task.resolution.is_some() {
        return Err(Error::conflict(
            "task_resolved",
            "任务已关闭或撤销，不能再报送进度",
            "the task is closed or dropped; no more reports",
        ));
    }
    let report: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM progress_reports WHERE task_id = $1 AND period = $2")
            .bind(task_id)
            .bind(period)
            .fetch_optional(w.conn())
            .await?;
    let (report_id,) = report.ok_or_else(|| Error::not_found("progress_report", period))?;
    if uploads.is_empty() {
        return Err(Error::invalid(
            "files",
            "required",
            "请选择要上传的佐证材料",
            "choose the evidence files to upload",
        ));
    }
    let files = evidence::check(uploads, limit)?;
    if evidence::attach(&mut w, report_id, &files).await? == 0 {
        // Every file is already attached: nothing to write, nothing to record.
        drop(w);
        return detail(db, task_id).await;
    }
    w.commit().await?;
    detail(db, task_id).await
}

/// Re-derives and stores a task's latest report and status inside a write.
pub async fn refresh_status(
    w: &mut Write<'_>,
    task_id: i64,
    today: Date,
    rules: &LagRules,
) -> Result<TaskStatus> {
    let row: (String, String, Option<String>) =
        sqlx::query_as("SELECT start_on, deadline, resolution FROM tasks WHERE id = $1")
            .bind(task_id)
            .fetch_one(w.conn())
            .await?;
    let latest: Option<(String, i64)> = sqlx::query_as("SELECT period, percent FROM progress_reports WHERE task_id = $1 ORDER BY period DESC LIMIT 1")
        .bind(task_id)
        .fetch_optional(w.conn())
        .await?;
    let (overdue,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM milestones WHERE task_id = $1 AND done_on IS NULL AND due_on < $2",
    )
    .bind(task_id)
    .bind(text::format_date(today))
    .fetch_one(w.conn())
    .await?;
    let facts = facts_of(
        &row.0,
        &row.1,
        row.2.as_deref(),
        latest.as_ref().map(|(p, c)| (*c, p.as_str())),
        overdue as usize,
    )?;
    let status = domain::status(&facts, today, rules);
    sqlx::query("UPDATE tasks SET status = $1, latest_percent = $2, latest_period = $3, updated_at = $4 WHERE id = $5")
        .bind(status.as_str())
        .bind(latest.as_ref().map(|l| l.1))
        .bind(latest.as_ref().map(|l| l.0.clone()))
        .bind(xietong_core::clock::now_rfc3339())
        .bind(task_id)
        .execute(w.conn())
        .await?;
    Ok(status)
}

/// The facts the rules need, from stored text.
pub fn facts_of(
    start_on: &str,
    deadline: &str,
    resolution: Option<&str>,
    latest: Option<(i64, &str)>,
    overdue_milestones: usize,
) -> Result<TaskFacts> {
    let bad = |e: FieldError| Error::Internal(format!("stored task: {}", e.message.en));
    Ok(TaskFacts {
        start_on: text::date("start_on", start_on).map_err(bad)?,
        deadline: text::date("deadline", deadline).map_err(bad)?,
        resolution: match resolution {
            Some("closed") => Some(Resolution::Closed),
            Some("dropped") => Some(Resolution::Dropped),
            _ => None,
        },
        latest: match latest {
            Some((percent, period)) => {
                Some((percent, Period::parse("period", period).map_err(bad)?))
            }
            None => None,
        },
        overdue_milestones,
    })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ResolveInput {
    /// `closed` (verified done) or `dropped` (with a reason).
    pub resolution: String,
    pub reason: String,
}

/// Closes a task whose owner claimed it done, or drops it with a reason (coordinators).
pub async fn resolve(
    db: &Db,
    actor: &Actor,
    task_id: i64,
    input: &ResolveInput,
    today: Date,
    rules: &LagRules,
) -> Result<TaskDetail> {
    let task = get(db, task_id).await?;
    let mut w = db.write(actor).await?;
    manage(&mut w, task.framework_id)?;
    let reason =
        text::optional("reason", &input.reason, 1000).map_err(|e| Error::Invalid(vec![e]))?;
    match input.resolution.as_str() {
        "closed" if task.latest_percent != Some(100) => {
            return Err(Error::conflict(
                "task_not_claimed",
                "牵头单位尚未报送完成（100%），不能关闭",
                "the lead has not reported the task done (100 %); it cannot be closed",
            ));
        }
        "closed" => {}
        "dropped" if reason.is_empty() => {
            return Err(Error::invalid(
                "reason",
                "required",
                "撤销任务须说明理由",
                "dropping a task needs a reason",
            ))
        }
        "dropped" => {}
        _ => {
            return Err(Error::invalid(
                "resolution",
                "value_unknown",
                "可选：closed、dropped",
                "one of: closed, dropped",
            ))
        }
    }
    if task.resolution.is_some() {
        return Err(Error::conflict(
            "task_resolved",
            "任务已关闭或撤销",
            "the task is already closed or dropped",
        ));
    }
    let moved = rollups::TaskMove::start(w.conn(), task_id).await?;
    sqlx::query("UPDATE tasks SET resolution = $1, resolution_reason = $2, resolved_by = $3, resolved_at = $4 WHERE id = $5")
        .bind(&input.resolution)
        .bind(&reason)
        .bind(&actor.username)
        .bind(xietong_core::clock::now_rfc3339())
        .bind(task_id)
        .execute(w.conn())
        .await?;
    refresh_status(&mut w, task_id, today, rules).await?;
    moved.finish(w.conn()).await?;
    // Its open alerts are settled with it, and with them its open lags.
    sqlx::query("UPDATE alerts SET closed_at = $1 WHERE subject_kind = 'task' AND subject_id = $2 AND closed_at IS NULL")
        .bind(xietong_core::clock::now_rfc3339())
        .bind(task_id)
        .execute(w.conn())
        .await?;
    sqlx::query("DELETE FROM task_open_lags WHERE task_id = $1")
        .bind(task_id)
        .execute(w.conn())
        .await?;
    w.record(Change::updated(
        "task",
        task_id,
        serde_json::json!({"status": task.status}),
        serde_json::json!({"resolution": input.resolution, "reason": reason}),
    ))
    .await?;
    w.commit().await?;
    detail(db, task_id).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MilestoneInput {
    pub title_zh: String,
    pub due_on: String,
}

pub async fn add_milestone(
    db: &Db,
    actor: &Actor,
    task_id: i64,
    input: &MilestoneInput,
    today: Date,
    rules: &LagRules,
) -> Result<TaskDetail> {
    let task = get(db, task_id).await?;
    let mut p = Problems::new();
    let title = p.take(text::bounded("title_zh", &input.title_zh, 1, 300));
    let due = p.take(text::date("due_on", &input.due_on));
    let mut w = db.write(actor).await?;
    manage(&mut w, task.framework_id)?;
    p.into_result()?;
    let (title, due) = match (title, due) {
        (Some(t), Some(d)) => (t, d),
        _ => return Err(Error::Internal("milestone parsed".into())),
    };
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO milestones (task_id, title_zh, due_on) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(task_id)
    .bind(&title)
    .bind(text::format_date(due))
    .fetch_one(w.conn())
    .await?;
    let moved = rollups::TaskMove::start(w.conn(), task_id).await?;
    refresh_status(&mut w, task_id, today, rules).await?;
    moved.finish(w.conn()).await?;
    w.record(Change::created("milestone", id, serde_json::json!({"task_id": task_id, "title_zh": title, "due_on": text::format_date(due)})))
        .await?;
    w.commit().await?;
    detail(db, task_id).await
}

/// A resource for core's read checks: tasks are read by whoever may read their framework.
pub fn read_resource(framework_id: i64, public: bool) -> Resource {
    Resource::new(Kind::Record)
        .in_framework(framework_id)
        .public(public)
}

/// Only for the read check: maps a core decision to an error.
pub fn require_read(actor: Option<&Actor>, framework_id: i64, public: bool) -> Result<()> {
    xietong_core::write::require(actor, Action::Read, &read_resource(framework_id, public))
}
