//! The major-project register: projects, stage events, annual plans with adjustments, and
//! monthly completed investment (each report keeps its year's total current in the same write).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
use crate::store::rollups;

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

/// A project input that passed the rules that need no database.
#[derive(Debug, Clone)]
struct ValidProject {
    code: String,
    name_zh: String,
    stage: String,
    total: Money,
    leader_zh: String,
    regions: Vec<RegionCode>,
}

impl ProjectInput {
    /// The rules of a project that need no database, every failure named by its field.
    fn parse(&self) -> Result<ValidProject> {
        let mut p = Problems::new();
        let code = p.take(text::key("code", &self.code));
        let name = p.take(text::bounded("name_zh", &self.name_zh, 1, 300));
        let stage = p.take(stage("stage", &self.stage));
        let total = if self.total_investment.trim().is_empty() {
            Some(Money::default())
        } else {
            p.take(money("total_investment", &self.total_investment))
        };
        let leader = p.take(text::optional("leader_zh", &self.leader_zh, 100));
        let mut regions = Vec::new();
        for (i, r) in self.region_codes.iter().enumerate() {
            if let Some(code) = p.take(RegionCode::parse(r).map_err(|e| FieldError {
                field: format!("region_codes[{i}]"),
                ..e
            })) {
                regions.push(code);
            }
        }
        if self.unit_org_ids.is_empty() {
            p.push(FieldError::new(
                "unit_org_ids",
                "required",
                Msg::new(
                    "至少需要一个责任单位",
                    "at least one responsible unit is needed",
                ),
            ));
        }
        if let Some(y) = self.added_in_year {
            if !(2000..=2100).contains(&y) {
                p.push(FieldError::new(
                    "added_in_year",
                    "year_invalid",
                    Msg::new(
                        "年度须在 2000 至 2100 之间",
                        "the year must lie between 2000 and 2100",
                    ),
                ));
            }
        }
        p.into_result()?;
        match (code, name, stage, total, leader) {
            (Some(code), Some(name_zh), Some(stage), Some(total), Some(leader_zh)) => {
                Ok(ValidProject {
                    code,
                    name_zh,
                    stage,
                    total,
                    leader_zh,
                    regions,
                })
            }
            _ => Err(Error::Internal("project parsed".into())),
        }
    }
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &ProjectInput,
    provenance: Provenance,
    today: Date,
) -> Result<ProjectDetail> {
    let parsed = input.parse();
    let mut p = Problems::new();
    if let Err(Error::Invalid(fields)) = &parsed {
        for f in fields {
            p.push(f.clone());
        }
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
    if let Ok(v) = &parsed {
        for (i, code) in v.regions.iter().enumerate() {
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
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), input.framework_id))?;
    p.into_result()?;
    let v = parsed?;
    let new = NewProject {
        v,
        framework_id: input.framework_id,
        unit_org_ids: input.unit_org_ids.clone(),
        added_in_year: input.added_in_year,
        provenance,
    };
    let ids = insert_projects(&mut w, std::slice::from_ref(&new), &actor.username, today)
        .await
        .map_err(|e| {
            e.on_unique(
                "project_code_taken",
                "该项目编号已存在",
                "a project with this code exists",
            )
        })?;
    let id = ids[0];
    w.record(Change::created("project", id, input)).await?;
    w.commit().await?;
    detail(db, id).await
}

/// A checked project to insert.
#[derive(Clone)]
struct NewProject {
    v: ValidProject,
    framework_id: i64,
    unit_org_ids: Vec<i64>,
    added_in_year: Option<i64>,
    provenance: Provenance,
}

/// Inserts checked projects with their regions, units and first stage event in multi-row
/// statements inside the caller's write (creation and import); returns their ids in order.
/// A new project has no plan yet, so it adds nothing to the report card's roll-ups (its plan
/// will, in [`set_plan`]).
async fn insert_projects(
    w: &mut xietong_core::write::Write<'_>,
    new: &[NewProject],
    recorder: &str,
    today: Date,
) -> Result<Vec<i64>> {
    let now = xietong_core::clock::now_rfc3339();
    let mut ids = std::collections::HashMap::new();
    for chunk in new.chunks(xietong_core::db::rows_per_statement(11)) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = i * 11;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9,
                    b + 10,
                    b + 11,
                    b + 11
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO projects (code, framework_id, name_zh, stage, total_investment_fen, leader_zh, added_in_year, source_seed, source_quote, generated, created_at, updated_at)
             VALUES {values} RETURNING id, code"
        );
        let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
        for n in chunk {
            q = q
                .bind(&n.v.code)
                .bind(n.framework_id)
                .bind(&n.v.name_zh)
                .bind(&n.v.stage)
                .bind(n.v.total.fen())
                .bind(&n.v.leader_zh)
                .bind(n.added_in_year)
                .bind(&n.provenance.seed)
                .bind(&n.provenance.quote)
                .bind(n.provenance.generated as i64)
                .bind(&now);
        }
        for (id, code) in q.fetch_all(w.conn()).await? {
            ids.insert(code, id);
        }
    }
    let ids: Vec<i64> = new
        .iter()
        .map(|n| {
            ids.get(&n.v.code)
                .copied()
                .ok_or_else(|| Error::Internal("project inserted without id".into()))
        })
        .collect::<Result<_>>()?;
    let regions: Vec<(i64, String)> = new
        .iter()
        .zip(&ids)
        .flat_map(|(n, id)| {
            n.v.regions
                .iter()
                .map(move |r| (*id, r.as_str().to_string()))
        })
        .collect();
    let units: Vec<(i64, i64, i64)> = new
        .iter()
        .zip(&ids)
        .flat_map(|(n, id)| {
            n.unit_org_ids
                .iter()
                .enumerate()
                .map(move |(pos, org)| (*id, *org, pos as i64))
        })
        .collect();
    insert_regions(w, &regions).await?;
    insert_units(w, &units).await?;
    let date = text::format_date(today);
    for chunk in new
        .iter()
        .zip(&ids)
        .collect::<Vec<_>>()
        .chunks(xietong_core::db::rows_per_statement(2))
    {
        let values = (0..chunk.len())
            .map(|i| format!("($1, $2, $3, ${}, ${})", i * 2 + 4, i * 2 + 5))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO stage_events (on_date, recorded_by, created_at, project_id, stage) VALUES {values}"
        );
        let mut q = sqlx::query(&sql).bind(&date).bind(recorder).bind(&now);
        for (n, id) in chunk {
            q = q.bind(**id).bind(&n.v.stage);
        }
        q.execute(w.conn()).await?;
    }
    Ok(ids)
}

async fn insert_regions(
    w: &mut xietong_core::write::Write<'_>,
    rows: &[(i64, String)],
) -> Result<()> {
    for chunk in rows.chunks(xietong_core::db::rows_per_statement(2)) {
        let values = (0..chunk.len())
            .map(|i| format!("(${}, ${})", i * 2 + 1, i * 2 + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO project_regions (project_id, region_code) VALUES {values} ON CONFLICT DO NOTHING"
        );
        let mut q = sqlx::query(&sql);
        for (id, r) in chunk {
            q = q.bind(*id).bind(r);
        }
        q.execute(w.conn()).await?;
    }
    Ok(())
}

async fn insert_units(
    w: &mut xietong_core::write::Write<'_>,
    rows: &[(i64, i64, i64)],
) -> Result<()> {
    for chunk in rows.chunks(xietong_core::db::rows_per_statement(3)) {
        let values = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", i * 3 + 1, i * 3 + 2, i * 3 + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            format!("INSERT INTO project_units (project_id, org_id, position) VALUES {values}");
        let mut q = sqlx::query(&sql);
        for (id, org, pos) in chunk {
            q = q.bind(*id).bind(*org).bind(*pos);
        }
        q.execute(w.conn()).await?;
    }
    Ok(())
}

/// A project as the ledger template holds it, for comparing an imported row with what is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Ledgered {
    name_zh: String,
    stage: String,
    total_investment_fen: i64,
    leader_zh: String,
    region_codes: Vec<String>,
    unit_org_ids: Vec<i64>,
    added_in_year: Option<i64>,
}

/// Imports a filled-in project-ledger template: each row is read into a [`ProjectInput`] and
/// checked by the same rules as a project registered by hand (plus: framework, regions and
/// units known, the caller manages the framework, no code twice, a code is not moved to another
/// framework), with the facts read in set queries. Nothing is written if any row fails; then
/// new codes are inserted in multi-row statements and changed ones updated, in one
/// transaction. Rows equal to what is stored are not written, so the same file twice changes
/// nothing and records nothing.
pub async fn import_ledger(
    db: &Db,
    actor: &Actor,
    rows: &[crate::excel::SheetRow],
    today: Date,
) -> Result<crate::store::tasks::LedgerOutcome> {
    import_ledger_reporting(db, actor, rows, today, &xietong_core::progress::Silent).await
}

/// [`import_ledger`], reporting its progress through the check and the write.
pub async fn import_ledger_reporting(
    db: &Db,
    actor: &Actor,
    rows: &[crate::excel::SheetRow],
    today: Date,
    progress: &dyn xietong_core::progress::Progress,
) -> Result<crate::store::tasks::LedgerOutcome> {
    let every = xietong_core::progress::every(rows.len());
    use crate::excel::{cell_problem, key_of, split_list, PROJECT_HEADERS as H, STAGE_LABELS};
    use crate::store::tasks::{org_named, LedgerOutcome};
    if rows.is_empty() {
        return Err(Error::invalid(
            "file",
            "import_empty",
            "文件中没有填写任何项目",
            "the file lists no project",
        ));
    }
    let known = Ledger::load(db, rows).await?;
    let mut problems = Problems::new();
    let mut seen = std::collections::HashSet::new();
    let mut creates: Vec<(NewProject, ProjectInput)> = Vec::new();
    let mut updates: Vec<(i64, Ledgered, Ledgered)> = Vec::new();
    let mut unchanged = 0;
    for (n, r) in rows.iter().enumerate() {
        if n % every == 0 {
            progress.step("check", n, rows.len());
        }
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
        let total = r.get(4);
        if total.contains(['亿', '万', '元']) {
            cell(
                4,
                format!("“{total}”含单位，本列只填万元数字"),
                format!("“{total}” has a unit; this column takes a number of 万元"),
            );
            ok = false;
        }
        let added = match r.get(8) {
            "" => None,
            y => match y.parse::<i64>() {
                Ok(y) => Some(y),
                Err(_) => {
                    cell(8, format!("“{y}”不是年度"), format!("“{y}” is not a year"));
                    ok = false;
                    None
                }
            },
        };
        let region_codes = split_list(r.get(6));
        for code in &region_codes {
            if RegionCode::parse(code).is_ok() && !known.regions.contains(code) {
                cell(
                    6,
                    format!("区划 {code} 不存在"),
                    format!("region {code} is not in the registry"),
                );
                ok = false;
            }
        }
        let mut units = Vec::new();
        for name in split_list(r.get(7)) {
            match org_named(&known.orgs, &name) {
                Ok(id) => units.push(id),
                Err((zh, en)) => {
                    cell(7, zh, en);
                    ok = false;
                }
            }
        }
        let input = ProjectInput {
            code: r.get(0).to_string(),
            framework_id: framework.unwrap_or(0),
            name_zh: r.get(2).to_string(),
            stage: key_of(&STAGE_LABELS, r.get(3))
                .unwrap_or(r.get(3))
                .to_string(),
            total_investment: if total.is_empty() {
                String::new()
            } else {
                format!("{total}万")
            },
            leader_zh: r.get(5).to_string(),
            region_codes,
            unit_org_ids: units,
            added_in_year: added,
        };
        // The rules of a project registered by hand, each failure put on its column.
        let valid = match input.parse() {
            Ok(v) => Some(v),
            Err(Error::Invalid(fields)) => {
                for f in fields {
                    let c = match f.field.as_str() {
                        "code" => 0,
                        "name_zh" => 2,
                        "stage" => 3,
                        "total_investment" if !ok && total.contains(['亿', '万', '元']) => {
                            continue
                        }
                        "total_investment" => 4,
                        "leader_zh" => 5,
                        "unit_org_ids" if r.get(7).is_empty() => 7,
                        "unit_org_ids" => continue,
                        "added_in_year" => 8,
                        f if f.starts_with("region_codes") => 6,
                        _ => 0,
                    };
                    problems.push(cell_problem(r.row, H[c], f.message));
                }
                None
            }
            Err(e) => return Err(e),
        };
        let (Some(v), true) = (valid, ok) else {
            continue;
        };
        if permissions::manage(Some(actor), input.framework_id) != Decision::Allow {
            problems.push(cell_problem(
                r.row,
                H[1],
                Msg::new(
                    format!("无权管理协作机制“{}”的项目", r.get(1)),
                    format!(
                        "you may not manage the projects of framework “{}”",
                        r.get(1)
                    ),
                ),
            ));
            continue;
        }
        if !seen.insert(v.code.clone()) {
            problems.push(cell_problem(
                r.row,
                H[0],
                Msg::new(
                    format!("项目编号“{}”重复填写", v.code),
                    format!("the project code “{}” appears twice", v.code),
                ),
            ));
            continue;
        }
        match known.projects.get(&v.code) {
            Some((_, framework_id, _)) if *framework_id != input.framework_id => {
                problems.push(cell_problem(
                    r.row,
                    H[0],
                    Msg::new(
                        format!("项目编号“{}”已属于其他协作机制", v.code),
                        format!("the project code “{}” belongs to another framework", v.code),
                    ),
                ));
            }
            Some((id, _, before)) => {
                let mut region_codes: Vec<String> =
                    v.regions.iter().map(|r| r.as_str().to_string()).collect();
                region_codes.sort_unstable();
                region_codes.dedup();
                let after = Ledgered {
                    name_zh: v.name_zh.clone(),
                    stage: v.stage.clone(),
                    total_investment_fen: v.total.fen(),
                    leader_zh: v.leader_zh.clone(),
                    region_codes,
                    unit_org_ids: input.unit_org_ids.clone(),
                    added_in_year: input.added_in_year,
                };
                if *before == after {
                    unchanged += 1;
                } else {
                    updates.push((*id, before.clone(), after));
                }
            }
            None => creates.push((
                NewProject {
                    v,
                    framework_id: input.framework_id,
                    unit_org_ids: input.unit_org_ids.clone(),
                    added_in_year: input.added_in_year,
                    provenance: Provenance::default(),
                },
                input,
            )),
        }
    }
    problems.into_result()?;
    let outcome = LedgerOutcome {
        rows: rows.len(),
        created: creates.len(),
        updated: updates.len(),
        unchanged,
    };
    if creates.is_empty() && updates.is_empty() {
        // Nothing differs from what is stored: no write, no audit record.
        return Ok(outcome);
    }
    let mut w = db.write(actor).await?;
    // Each row's permission was decided above, row by row.
    w.authorize_decision(Decision::Allow)?;
    let new: Vec<NewProject> = creates.iter().map(|(n, _)| n.clone()).collect();
    progress.step("check", rows.len(), rows.len());
    let ids = insert_projects(&mut w, &new, &actor.username, today).await?;
    let writes = creates.len() + updates.len();
    progress.step("write", creates.len() / 2, writes);
    let created: Vec<Change> = ids
        .iter()
        .zip(&creates)
        .map(|(id, (_, input))| {
            Change::created(
                "project",
                id,
                serde_json::json!({"input": input, "via": "import"}),
            )
        })
        .collect();
    w.record_many(created).await?;
    progress.step("write", creates.len(), writes);
    let mut changed = Vec::with_capacity(updates.len());
    let now = xietong_core::clock::now_rfc3339();
    // New projects have no plan yet, so only the changed ones move the report card's roll-ups.
    let updated: Vec<i64> = updates.iter().map(|(id, ..)| *id).collect();
    let rolled = rollups::ProjectMove::start(w.conn(), &updated).await?;
    let mut regions = Vec::new();
    let mut units = Vec::new();
    let mut moved = Vec::new();
    for (id, before, after) in &updates {
        sqlx::query(
            "UPDATE projects SET name_zh = $1, stage = $2, total_investment_fen = $3, leader_zh = $4, added_in_year = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(&after.name_zh)
        .bind(&after.stage)
        .bind(after.total_investment_fen)
        .bind(&after.leader_zh)
        .bind(after.added_in_year)
        .bind(&now)
        .bind(id)
        .execute(w.conn())
        .await?;
        if before.region_codes != after.region_codes {
            sqlx::query("DELETE FROM project_regions WHERE project_id = $1")
                .bind(id)
                .execute(w.conn())
                .await?;
            regions.extend(after.region_codes.iter().map(|r| (*id, r.clone())));
        }
        if before.unit_org_ids != after.unit_org_ids {
            sqlx::query("DELETE FROM project_units WHERE project_id = $1")
                .bind(id)
                .execute(w.conn())
                .await?;
            units.extend(
                after
                    .unit_org_ids
                    .iter()
                    .enumerate()
                    .map(|(pos, org)| (*id, *org, pos as i64)),
            );
        }
        if before.stage != after.stage {
            moved.push((*id, after.stage.clone()));
        }
        changed.push(Change::updated("project", id, before, after));
    }
    w.record_many(changed).await?;
    insert_regions(&mut w, &regions).await?;
    insert_units(&mut w, &units).await?;
    rolled.finish(w.conn()).await?;
    // A stage changed by import is a stage event dated today, as when changed by hand.
    for (id, stage) in &moved {
        sqlx::query("INSERT INTO stage_events (project_id, stage, on_date, recorded_by, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(stage)
            .bind(text::format_date(today))
            .bind(&actor.username)
            .bind(&now)
            .execute(w.conn())
            .await?;
    }
    progress.step("write", writes, writes);
    w.commit().await?;
    Ok(outcome)
}

/// What a ledger import's checks need, read in a few set queries.
struct Ledger {
    frameworks: std::collections::HashMap<String, i64>,
    regions: std::collections::HashSet<String>,
    orgs: std::collections::HashMap<String, Vec<i64>>,
    /// Stored projects by code: id, framework, what the ledger holds.
    projects: std::collections::HashMap<String, (i64, i64, Ledgered)>,
}

impl Ledger {
    async fn load(db: &Db, rows: &[crate::excel::SheetRow]) -> Result<Ledger> {
        use crate::excel::split_list;
        let frameworks = sqlx::query_as::<_, (String, i64)>("SELECT key, id FROM frameworks")
            .fetch_all(db.pool())
            .await?
            .into_iter()
            .collect();
        let set = |c: usize| {
            let mut v: Vec<String> = rows.iter().flat_map(|r| split_list(r.get(c))).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let mut regions = std::collections::HashSet::new();
        for chunk in set(6).chunks(xietong_core::db::rows_per_statement(1)) {
            let marks = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("SELECT code FROM regions WHERE code IN ({marks})");
            let mut q = sqlx::query_as::<_, (String,)>(&sql);
            for c in chunk {
                q = q.bind(c);
            }
            regions.extend(q.fetch_all(db.pool()).await?.into_iter().map(|(c,)| c));
        }
        let orgs = crate::store::tasks::org_ids_by_name(db, &set(7)).await?;
        let mut codes: Vec<&str> = rows.iter().map(|r| r.get(0)).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut projects = std::collections::HashMap::new();
        for chunk in codes.chunks(xietong_core::db::rows_per_statement(1)) {
            let marks = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT id, code, framework_id, name_zh, stage, total_investment_fen, leader_zh, added_in_year FROM projects WHERE code IN ({marks})"
            );
            let mut q = sqlx::query_as::<
                _,
                (i64, String, i64, String, String, i64, String, Option<i64>),
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
                .map(|p| p.0.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let mut units: std::collections::HashMap<i64, Vec<i64>> = Default::default();
            for (p, org) in sqlx::query_as::<_, (i64, i64)>(&format!(
                "SELECT project_id, org_id FROM project_units WHERE project_id IN ({list}) ORDER BY project_id, position"
            ))
            .fetch_all(db.pool())
            .await?
            {
                units.entry(p).or_default().push(org);
            }
            let mut regions: std::collections::HashMap<i64, Vec<String>> = Default::default();
            for (p, code) in sqlx::query_as::<_, (i64, String)>(&format!(
                "SELECT project_id, region_code FROM project_regions WHERE project_id IN ({list}) ORDER BY project_id, region_code"
            ))
            .fetch_all(db.pool())
            .await?
            {
                regions.entry(p).or_default().push(code);
            }
            for p in found {
                let ledgered = Ledgered {
                    name_zh: p.3,
                    stage: p.4,
                    total_investment_fen: p.5,
                    leader_zh: p.6,
                    region_codes: regions.remove(&p.0).unwrap_or_default(),
                    unit_org_ids: units.remove(&p.0).unwrap_or_default(),
                    added_in_year: p.7,
                };
                projects.insert(p.1, (p.0, p.2, ledgered));
            }
        }
        Ok(Ledger {
            frameworks,
            regions,
            orgs,
            projects,
        })
    }
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
    let moved = rollups::ProjectMove::start(w.conn(), &[id]).await?;
    sqlx::query("UPDATE projects SET stage = $1, updated_at = $2 WHERE id = $3")
        .bind(&stage)
        .bind(&now)
        .bind(id)
        .execute(w.conn())
        .await?;
    moved.finish(w.conn()).await?;
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
    let moved = rollups::ProjectMove::start(w.conn(), &[id]).await?;
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
    moved.finish(w.conn()).await?;
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
    let moved = rollups::ProjectMove::start(w.conn(), &[id]).await?;
    let first_before = rollups::first_adjustment(w.conn(), id, input.year).await?;
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
    moved.finish(w.conn()).await?;
    let first_after = rollups::first_adjustment(w.conn(), id, input.year).await?;
    let mut deltas = rollups::Deltas::default();
    deltas.first_adjusted(
        project.framework_id,
        input.year,
        first_before.as_deref(),
        first_after.as_deref(),
    );
    deltas.apply(w.conn()).await?;
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
    let mut deltas = rollups::Deltas::default();
    store_investment(
        &mut w,
        &mut deltas,
        (id, project.framework_id),
        month,
        amount,
        previous.map(|(v,)| v),
        &actor.username,
    )
    .await?;
    deltas.apply(w.conn()).await?;
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
    let mut checked: Vec<(i64, i64, Period, Money)> = Vec::new();
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
        checked.push((id, framework_id, month, amount));
    }
    problems.into_result()?;
    let mut w = db.write(actor).await?;
    // Each row's permission was decided above, row by row.
    w.authorize_decision(Decision::Allow)?;
    let mut outcome = ImportOutcome {
        rows: checked.len(),
        ..Default::default()
    };
    let mut changes = Vec::new();
    let mut deltas = rollups::Deltas::default();
    let previous = stored_investment(w.conn(), &checked).await?;
    let mut stored = Vec::new();
    let mut plan_deltas: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for (id, framework_id, month, amount) in &checked {
        let before = previous.get(&(*id, month.to_string())).copied();
        if before == Some(amount.fen()) {
            outcome.unchanged += 1;
            continue;
        }
        let delta = amount.fen() - before.unwrap_or(0);
        deltas.investment(*framework_id, &month.to_string(), delta);
        *plan_deltas.entry((*id, month.year as i64)).or_default() += delta;
        stored.push((*id, month.to_string(), amount.fen()));
        changes.push(Change::updated(
            "investment_report",
            format!("{id}/{month}"),
            serde_json::json!({"completed_fen": before}),
            serde_json::json!({"completed_fen": amount.fen(), "via": "import"}),
        ));
        outcome.changed += 1;
    }
    store_investments(w.conn(), &stored, &plan_deltas, &actor.username).await?;
    w.record_many(changes).await?;
    deltas.apply(w.conn()).await?;
    if outcome.changed == 0 {
        // Nothing differs from what is stored: no write, no audit record.
        return Ok(outcome);
    }
    w.commit().await?;
    Ok(outcome)
}

/// The stored completed investment of each (project, month) the rows name.
async fn stored_investment(
    conn: &mut sqlx::AnyConnection,
    rows: &[(i64, i64, Period, Money)],
) -> Result<BTreeMap<(i64, String), i64>> {
    let ids: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.0).collect();
    let ids: Vec<i64> = ids.into_iter().collect();
    let mut out = BTreeMap::new();
    // Ids are integers this database produced, so they are listed inline.
    for chunk in ids.chunks(1000) {
        let list = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let found: Vec<(i64, String, i64)> = sqlx::query_as(&format!(
            "SELECT project_id, month, completed_fen FROM investment_reports WHERE project_id IN ({list})"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for (project, month, fen) in found {
            out.insert((project, month), fen);
        }
    }
    Ok(out)
}

/// Stores an import's changed months and moves each plan's year total by the sum of its
/// differences: a few statements for the whole sheet instead of three a row (10,000 rows took
/// ~4 s on PostgreSQL in round trips alone). Every inline value is an id, an amount in fen or
/// a month this module parsed.
async fn store_investments(
    conn: &mut sqlx::AnyConnection,
    stored: &[(i64, String, i64)],
    plan_deltas: &BTreeMap<(i64, i64), i64>,
    reporter: &str,
) -> Result<()> {
    let now = xietong_core::clock::now_rfc3339();
    for chunk in stored.chunks(1000) {
        let values = chunk
            .iter()
            .map(|(id, month, fen)| format!("({id}, '{month}', {fen}, $1, $2)"))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "INSERT INTO investment_reports (project_id, month, completed_fen, reported_by, reported_at) VALUES {values}
             ON CONFLICT (project_id, month) DO UPDATE SET completed_fen = excluded.completed_fen,
                 reported_by = excluded.reported_by, reported_at = excluded.reported_at"
        ))
        .bind(reporter)
        .bind(&now)
        .persistent(false)
        .execute(&mut *conn)
        .await?;
    }
    let plans: Vec<(&(i64, i64), &i64)> = plan_deltas.iter().filter(|(_, d)| **d != 0).collect();
    for chunk in plans.chunks(1000) {
        // Unnamed VALUES columns are column1, column2, … on both engines.
        let values = chunk
            .iter()
            .map(|((id, year), delta)| format!("({id}, {year}, {delta})"))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "UPDATE project_plans SET completed_fen = project_plans.completed_fen + d.column3
               FROM (VALUES {values}) AS d
              WHERE project_plans.project_id = d.column1 AND project_plans.year = d.column2"
        ))
        .persistent(false)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Stores a month's completed investment and moves the year's total by the difference, inside
/// the caller's write: the import's statements for a sheet of one row.
async fn store_investment(
    w: &mut xietong_core::write::Write<'_>,
    deltas: &mut rollups::Deltas,
    (id, framework_id): (i64, i64),
    month: Period,
    amount: Money,
    previous: Option<i64>,
    reporter: &str,
) -> Result<()> {
    let delta = amount.fen() - previous.unwrap_or(0);
    deltas.investment(framework_id, &month.to_string(), delta);
    store_investments(
        w.conn(),
        &[(id, month.to_string(), amount.fen())],
        &BTreeMap::from([((id, month.year as i64), delta)]),
        reporter,
    )
    .await
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
        for chunk in codes.chunks(xietong_core::db::rows_per_statement(1)) {
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
