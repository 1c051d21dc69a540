//! The major-project register.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::error::Result;
use xietong_core::web::problem::Problem;
use xietong_core::web::{ApiJson, AppState, Ctx};

use super::{today, Page};
use crate::store::projects::{
    self, AdjustInput, InvestmentInput, PlanInput, Project, ProjectDetail, ProjectFilter,
    ProjectInput, Provenance, StageInput,
};
use crate::store::tasks::require_read;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(change_stage))
        .routes(routes!(set_plan))
        .routes(routes!(adjust_plan))
        .routes(routes!(report_investment))
}

/// Projects of the frameworks the caller may see.
#[utoipa::path(get, path = "/api/v1/projects", tag = "supervision", params(ProjectFilter), responses((status = 200, body = Page<Project>)))]
async fn list_projects(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(f): Query<ProjectFilter>,
) -> Result<Json<Page<Project>>> {
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    let (items, total) = projects::list(&s.db, &f, visible.as_deref()).await?;
    let (limit, offset) = xietong_core::db::filter::page(f.limit, f.offset);
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// Register a major project (the framework's coordinators).
#[utoipa::path(post, path = "/api/v1/projects", tag = "supervision", request_body = ProjectInput,
    responses((status = 201, body = ProjectDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_project(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<ProjectInput>,
) -> Result<(StatusCode, Json<ProjectDetail>)> {
    Ok((
        StatusCode::CREATED,
        Json(projects::create(&s.db, ctx.actor()?, &input, Provenance::default(), today()).await?),
    ))
}

/// Reads a project the caller may see.
pub async fn readable_project(s: &AppState, ctx: &Ctx, id: i64) -> Result<ProjectDetail> {
    let p = projects::detail(&s.db, id).await?;
    let framework = s.frameworks.get(&s.db, p.project.framework_id).await?;
    require_read(ctx.actor.as_ref(), framework.id, framework.public != 0)?;
    Ok(p)
}

/// A project with its plans, adjustments, stage events and monthly reports.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, body = ProjectDetail), (status = 404, body = Problem)))]
async fn get_project(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<ProjectDetail>> {
    Ok(Json(readable_project(&s, &ctx, id).await?))
}

/// Record a dated stage change (coordinators, responsible units' staff).
#[utoipa::path(post, path = "/api/v1/projects/{id}/stages", tag = "supervision", params(("id" = i64, Path)), request_body = StageInput,
    responses((status = 201, body = ProjectDetail), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn change_stage(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<StageInput>,
) -> Result<(StatusCode, Json<ProjectDetail>)> {
    Ok((
        StatusCode::CREATED,
        Json(projects::change_stage(&s.db, ctx.actor()?, id, &input, today()).await?),
    ))
}

/// Set a year's investment plan (coordinators); later changes are adjustments.
#[utoipa::path(post, path = "/api/v1/projects/{id}/plans", tag = "supervision", params(("id" = i64, Path)), request_body = PlanInput,
    responses((status = 201, body = ProjectDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_plan(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<PlanInput>,
) -> Result<(StatusCode, Json<ProjectDetail>)> {
    Ok((
        StatusCode::CREATED,
        Json(projects::set_plan(&s.db, ctx.actor()?, id, &input).await?),
    ))
}

/// Adjust a year's target (调整优化) with reason and approver (coordinators).
#[utoipa::path(post, path = "/api/v1/projects/{id}/adjustments", tag = "supervision", params(("id" = i64, Path)), request_body = AdjustInput,
    responses((status = 201, body = ProjectDetail), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn adjust_plan(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<AdjustInput>,
) -> Result<(StatusCode, Json<ProjectDetail>)> {
    Ok((
        StatusCode::CREATED,
        Json(projects::adjust_plan(&s.db, ctx.actor()?, id, &input, today()).await?),
    ))
}

/// File or correct a month's completed investment (coordinators, responsible units' staff).
#[utoipa::path(post, path = "/api/v1/projects/{id}/investment", tag = "supervision", params(("id" = i64, Path)), request_body = InvestmentInput,
    responses((status = 201, body = ProjectDetail), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn report_investment(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<InvestmentInput>,
) -> Result<(StatusCode, Json<ProjectDetail>)> {
    Ok((
        StatusCode::CREATED,
        Json(projects::report_investment(&s.db, ctx.actor()?, id, &input, today()).await?),
    ))
}
