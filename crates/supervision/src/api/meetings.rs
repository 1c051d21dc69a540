//! Meetings, their documents and decisions.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::error::Result;
use xietong_core::web::problem::Problem;
use xietong_core::web::{ApiJson, AppState, Ctx};

use crate::store::meetings::{
    self, Decision, DecisionInput, DocumentInput, Meeting, MeetingDetail, MeetingInput, Provenance,
};
use crate::store::tasks::require_read;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_meetings, create_meeting))
        .routes(routes!(get_meeting))
        .routes(routes!(add_document))
        .routes(routes!(add_decision))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MeetingQuery {
    #[serde(default)]
    framework: Option<i64>,
}

/// Meetings of the frameworks the caller may see, by level and newest first.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "supervision", params(MeetingQuery), responses((status = 200, body = Vec<Meeting>)))]
async fn list_meetings(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<MeetingQuery>,
) -> Result<Json<Vec<Meeting>>> {
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    Ok(Json(
        meetings::list(&s.db, q.framework, visible.as_deref()).await?,
    ))
}

/// Record a meeting of a governance body (the framework's coordinators).
#[utoipa::path(post, path = "/api/v1/meetings", tag = "supervision", request_body = MeetingInput,
    responses((status = 201, body = MeetingDetail), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_meeting(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<MeetingInput>,
) -> Result<(StatusCode, Json<MeetingDetail>)> {
    let m = meetings::create(
        &s.db,
        ctx.actor()?,
        &input,
        Provenance::default(),
        super::today(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// A meeting with the documents it adopted, its decisions and its agenda.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, body = MeetingDetail), (status = 404, body = Problem)))]
async fn get_meeting(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<MeetingDetail>> {
    let m = meetings::detail(&s.db, id).await?;
    let framework = s.frameworks.get(&s.db, m.meeting.framework_id).await?;
    require_read(ctx.actor.as_ref(), framework.id, framework.public != 0)?;
    Ok(Json(m))
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/documents", tag = "supervision", params(("id" = i64, Path)), request_body = DocumentInput,
    responses((status = 201, body = MeetingDetail), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_document(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DocumentInput>,
) -> Result<(StatusCode, Json<MeetingDetail>)> {
    let m = meetings::add_document(&s.db, ctx.actor()?, id, &input, Provenance::default()).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// Record a decision of a meeting; tasks may then cite it as their source.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/decisions", tag = "supervision", params(("id" = i64, Path)), request_body = DecisionInput,
    responses((status = 201, body = Decision), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_decision(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<(StatusCode, Json<Decision>)> {
    let d = meetings::add_decision(&s.db, ctx.actor()?, id, &input, Provenance::default()).await?;
    Ok((StatusCode::CREATED, Json(d)))
}
