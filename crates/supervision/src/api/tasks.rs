//! Tasks, progress reports, closing, the lag sweep and alerts.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Extension;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::error::Result;
use xietong_core::web::problem::Problem;
use xietong_core::web::{ApiJson, AppState, Ctx};

use super::{today, Page};
use crate::domain::LagRules;
use crate::store::sweep::{self, Alert, SweepOutcome};
use crate::store::tasks::{
    self, require_read, MilestoneInput, Provenance, ReportInput, ResolveInput, Task, TaskDetail,
    TaskFilter, TaskInput,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks, create_task))
        .routes(routes!(get_task))
        .routes(routes!(file_report))
        .routes(routes!(resolve_task))
        .routes(routes!(add_milestone))
        .routes(routes!(task_alerts))
        .routes(routes!(run_sweep))
        .routes(routes!(list_alerts))
}

/// Tasks of the frameworks the caller may see, filtered; soonest deadline first.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "supervision", params(TaskFilter),
    responses((status = 200, body = Page<Task>), (status = 422, body = Problem)))]
async fn list_tasks(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(f): Query<TaskFilter>,
) -> Result<Json<Page<Task>>> {
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    let (items, total) = tasks::list(&s.db, &f, visible.as_deref()).await?;
    let (limit, offset) = xietong_core::db::filter::page(f.limit, f.offset);
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// Put a task in the task book (the framework's coordinators).
#[utoipa::path(post, path = "/api/v1/tasks", tag = "supervision", request_body = TaskInput,
    responses((status = 201, body = TaskDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_task(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
    ApiJson(input): ApiJson<TaskInput>,
) -> Result<(StatusCode, Json<TaskDetail>)> {
    let t = tasks::create(
        &s.db,
        ctx.actor()?,
        &input,
        Provenance::default(),
        today(),
        &rules,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Reads a task the caller may see.
pub async fn readable_task(s: &AppState, ctx: &Ctx, id: i64) -> Result<TaskDetail> {
    let t = tasks::detail(&s.db, id).await?;
    let framework = s.frameworks.get(&s.db, t.task.framework_id).await?;
    require_read(ctx.actor.as_ref(), framework.id, framework.public != 0)?;
    Ok(t)
}

/// A task with its owners, milestones and progress reports.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, body = TaskDetail), (status = 404, body = Problem)))]
async fn get_task(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<TaskDetail>> {
    Ok(Json(readable_task(&s, &ctx, id).await?))
}

/// File (or correct) the progress report of a period (staff of an owning organisation, coordinators).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reports", tag = "supervision", params(("id" = i64, Path)), request_body = ReportInput,
    responses((status = 201, body = TaskDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn file_report(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ReportInput>,
) -> Result<(StatusCode, Json<TaskDetail>)> {
    let t = tasks::file_report(&s.db, ctx.actor()?, id, &input, today(), &rules).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Close a task its owner reported done, or drop it with a reason (coordinators).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/resolution", tag = "supervision", params(("id" = i64, Path)), request_body = ResolveInput,
    responses((status = 200, body = TaskDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn resolve_task(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ResolveInput>,
) -> Result<Json<TaskDetail>> {
    Ok(Json(
        tasks::resolve(&s.db, ctx.actor()?, id, &input, today(), &rules).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/milestones", tag = "supervision", params(("id" = i64, Path)), request_body = MilestoneInput,
    responses((status = 201, body = TaskDetail), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_milestone(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<MilestoneInput>,
) -> Result<(StatusCode, Json<TaskDetail>)> {
    let t = tasks::add_milestone(&s.db, ctx.actor()?, id, &input, today(), &rules).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(get, path = "/api/v1/tasks/{id}/alerts", tag = "supervision", params(("id" = i64, Path)), responses((status = 200, body = Vec<Alert>)))]
async fn task_alerts(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Alert>>> {
    readable_task(&s, &ctx, id).await?;
    Ok(Json(sweep::alerts_of_task(&s.db, id).await?))
}

/// Run the lag sweep now (admins and coordinators); idempotent.
#[utoipa::path(post, path = "/api/v1/supervision/sweep", tag = "supervision", responses((status = 200, body = SweepOutcome), (status = 403, body = Problem)))]
async fn run_sweep(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
) -> Result<Json<SweepOutcome>> {
    Ok(Json(
        sweep::run(&s.db, ctx.actor()?, today(), None, &rules, &s.lag_finders).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    #[serde(default)]
    framework: Option<i64>,
}

/// Open alerts of the frameworks the caller may see.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "supervision", params(AlertQuery), responses((status = 200, body = Vec<Alert>)))]
async fn list_alerts(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AlertQuery>,
) -> Result<Json<Vec<Alert>>> {
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    let alerts = sweep::open_alerts(&s.db, q.framework).await?;
    Ok(Json(
        alerts
            .into_iter()
            .filter(|a| visible.as_ref().is_none_or(|v| v.contains(&a.framework_id)))
            .collect(),
    ))
}
