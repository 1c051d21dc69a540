//! Pages: the project pipeline board by stage, and a project with its plans and reports.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use xietong_core::domain::Money;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::Decision;
use xietong_core::web::{AppState, CsrfForm, Ctx};

use crate::api::{readable_project, today};
use crate::permissions;
use crate::projects_rules::STAGES;
use crate::store::projects::{self, InvestmentInput, ProjectFilter};

/// Money as ledgers show it (万元 / 亿元).
fn show(fen: i64) -> String {
    Money::from_fen(fen).map(|m| m.ledger()).unwrap_or_default()
}

/// The board's query: the list filters, plus the outcome of an import just made.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    #[serde(default)]
    framework: Option<i64>,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    imported: Option<usize>,
    #[serde(default)]
    unchanged: Option<usize>,
}

pub async fn board(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(b): Query<BoardQuery>,
) -> Result<Response> {
    let f = ProjectFilter {
        framework: b.framework,
        stage: b.stage.clone(),
        q: b.q.clone(),
        ..Default::default()
    };
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    let counts = projects::stage_counts(&s.db, &f, visible.as_deref()).await?;
    let columns: Vec<_> = STAGES
        .iter()
        .map(|st| minijinja::context! { stage => st, count => counts.iter().find(|(k, _)| k == st).map(|(_, n)| *n).unwrap_or(0), selected => f.stage.as_deref() == Some(*st) })
        .collect();
    let filter = ProjectFilter {
        limit: Some(f.limit.unwrap_or(100)),
        ..f.clone()
    };
    let (items, total) = projects::list(&s.db, &filter, visible.as_deref()).await?;
    let items: Vec<_> = items
        .into_iter()
        .map(|p| minijinja::context! { total_investment => show(p.total_investment_fen), p })
        .collect();
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    let can_import = ctx.actor.is_some();
    let values = minijinja::context! {
        columns, items, total, frameworks, can_import, framework => f.framework, stage => f.stage, q => f.q,
        imported => b.imported, unchanged => b.unchanged,
    };
    Ok(ctx
        .render(&s, "supervision/projects.html", values)?
        .into_response())
}

pub async fn detail(State(s): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response> {
    let d = readable_project(&s, &ctx, id).await?;
    let plans: Vec<_> = d
        .plans
        .iter()
        .map(|pl| {
            let share = if pl.planned_fen > 0 { (pl.completed_fen as i128 * 100 / pl.planned_fen as i128) as i64 } else { 0 };
            minijinja::context! {
                year => pl.year, original => show(pl.original_fen), planned => show(pl.planned_fen), completed => show(pl.completed_fen),
                adjusted => pl.original_fen != pl.planned_fen, share, start => pl.planned_start_on, completion => pl.planned_completion_on,
            }
        })
        .collect();
    let adjustments: Vec<_> = d
        .adjustments
        .iter()
        .map(|a| minijinja::context! { a, from => show(a.from_fen), to => show(a.to_fen) })
        .collect();
    let reports: Vec<_> = d
        .reports
        .iter()
        .map(|r| minijinja::context! { r, amount => show(r.completed_fen) })
        .collect();
    let units: Vec<i64> = d.units.iter().map(|u| u.org_id).collect();
    let can_report =
        permissions::report(ctx.actor.as_ref(), d.project.framework_id, &units) == Decision::Allow;
    let alerts = sqlx::query_as::<_, (String, String, Option<String>)>(
        "SELECT details_zh, details_en, closed_at FROM alerts WHERE subject_kind = 'project' AND subject_id = $1 ORDER BY opened_at DESC",
    )
    .bind(id)
    .fetch_all(s.db.pool())
    .await?;
    let values = minijinja::context! {
        d, plans, adjustments, reports, can_report, alerts, total_investment => show(d.project.total_investment_fen),
        this_month => format!("{:04}-{:02}", today().year(), today().month() as u8),
    };
    Ok(ctx
        .render(&s, "supervision/project.html", values)?
        .into_response())
}

pub async fn report_investment(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<InvestmentInput>,
) -> Result<Response> {
    projects::report_investment(&s.db, ctx.actor()?, id, &input, today()).await?;
    Ok(Redirect::to(&format!("/projects/{id}")).into_response())
}

/// The import form posts the file with the CSRF token as multipart; both are checked before
/// anything is read into the database. A failed import shows each bad cell and offers the
/// sheet with them marked.
pub async fn import(
    State(s): State<AppState>,
    ctx: Ctx,
    form: axum::extract::Multipart,
) -> Result<Response> {
    let actor = ctx.actor()?.clone();
    let file = super::imports::read_upload(&ctx, form).await?;
    let outcome = match crate::excel::read_investment(&file) {
        Ok(rows) => projects::import_investment(&s.db, &actor, &rows, today()).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(outcome) => Ok(Redirect::to(&format!(
            "/projects?imported={}&unchanged={}",
            outcome.changed, outcome.unchanged
        ))
        .into_response()),
        Err(e) => super::imports::failure_page(
            &s,
            &ctx,
            e,
            &file,
            &crate::excel::INVESTMENT_HEADERS,
            "investment",
            "/projects",
        ),
    }
}

pub async fn template(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ProjectFilter>,
) -> Result<Response> {
    crate::api::excel::template_response(&s, &ctx, q.framework).await
}

pub async fn export(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(f): Query<ProjectFilter>,
) -> Result<Response> {
    let rows = crate::api::excel::all_projects(&s, &ctx, &f).await?;
    Ok(crate::api::excel::xlsx_response(
        "projects.xlsx",
        crate::excel::projects(&rows)?,
    ))
}

/// The project form: one region and one responsible unit (more through the API).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    framework_id: i64,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    total_investment: String,
    #[serde(default)]
    region_code: String,
    #[serde(default)]
    unit_org_id: i64,
    #[serde(default)]
    added_in_year: Option<i64>,
}

pub async fn new_form(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    ctx.actor()?;
    let frameworks: Vec<_> = s
        .frameworks
        .visible(&s.db, ctx.actor.as_ref())
        .await?
        .into_iter()
        .filter(|f| permissions::manage(ctx.actor.as_ref(), f.id) == Decision::Allow)
        .collect();
    if frameworks.is_empty() {
        return Err(Error::Forbidden);
    }
    let orgs: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name_zh FROM organisations ORDER BY name_zh")
            .fetch_all(s.db.pool())
            .await?;
    Ok(ctx
        .render(
            &s,
            "supervision/project_form.html",
            minijinja::context! { frameworks, orgs, stages => STAGES },
        )?
        .into_response())
}

pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<ProjectForm>,
) -> Result<Response> {
    let input = projects::ProjectInput {
        code: f.code,
        framework_id: f.framework_id,
        name_zh: f.name_zh,
        stage: f.stage,
        total_investment: f.total_investment,
        leader_zh: String::new(),
        region_codes: if f.region_code.trim().is_empty() {
            vec![]
        } else {
            vec![f.region_code]
        },
        unit_org_ids: vec![f.unit_org_id],
        added_in_year: f.added_in_year,
    };
    let p = projects::create(
        &s.db,
        ctx.actor()?,
        &input,
        projects::Provenance::default(),
        today(),
    )
    .await?;
    Ok(Redirect::to(&format!("/projects/{}", p.project.id)).into_response())
}
