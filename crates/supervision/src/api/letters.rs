//! Warning letters and the addressee's inbox.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::error::{Error, Result};
use xietong_core::web::problem::Problem;
use xietong_core::web::{ApiJson, AppState, Ctx};

use super::today;
use crate::store::letters::{self, DraftRequest, Letter, LetterDetail, ResponseInput};
use crate::store::tasks::require_read;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_letters))
        .routes(routes!(draft_letters))
        .routes(routes!(get_letter))
        .routes(routes!(issue_letter))
        .routes(routes!(acknowledge_letter))
        .routes(routes!(respond_letter))
        .routes(routes!(resolve_letter))
        .routes(routes!(escalate_letter))
        .routes(routes!(inbox))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LetterQuery {
    #[serde(default)]
    framework: Option<i64>,
}

/// Letters of the frameworks the caller may see.
#[utoipa::path(get, path = "/api/v1/letters", tag = "supervision", params(LetterQuery), responses((status = 200, body = Vec<Letter>)))]
async fn list_letters(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LetterQuery>,
) -> Result<Json<Vec<Letter>>> {
    ctx.actor()?;
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    Ok(Json(
        letters::list(&s.db, q.framework, None, visible.as_deref()).await?,
    ))
}

/// Draft letters from the open alerts of a framework, one per responsible unit (coordinators).
#[utoipa::path(post, path = "/api/v1/letters/drafts", tag = "supervision", request_body = DraftRequest,
    responses((status = 201, body = Vec<LetterDetail>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn draft_letters(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<DraftRequest>,
) -> Result<(StatusCode, Json<Vec<LetterDetail>>)> {
    Ok((
        StatusCode::CREATED,
        Json(letters::draft_from_alerts(&s.db, ctx.actor()?, &req, today()).await?),
    ))
}

/// Reads a letter: the framework's readers and the addressee's staff.
pub async fn readable_letter(s: &AppState, ctx: &Ctx, id: i64) -> Result<LetterDetail> {
    let d = letters::detail(&s.db, id).await?;
    let addressee = ctx.actor.as_ref().and_then(|a| a.organisation_id)
        == Some(d.letter.addressee_org_id)
        && d.letter.status != "draft";
    if !addressee {
        let framework = s.frameworks.get(&s.db, d.letter.framework_id).await?;
        ctx.actor()?;
        require_read(ctx.actor.as_ref(), framework.id, false)?;
    }
    Ok(d)
}

#[utoipa::path(get, path = "/api/v1/letters/{id}", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, body = LetterDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_letter(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<LetterDetail>> {
    Ok(Json(readable_letter(&s, &ctx, id).await?))
}

/// Issue a draft: it gets its number and can no longer change (coordinators).
#[utoipa::path(post, path = "/api/v1/letters/{id}/issue", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, body = LetterDetail), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn issue_letter(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<LetterDetail>> {
    Ok(Json(letters::issue(&s.db, ctx.actor()?, id).await?))
}

/// The addressee acknowledges receipt.
#[utoipa::path(post, path = "/api/v1/letters/{id}/acknowledge", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, body = LetterDetail), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn acknowledge_letter(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<LetterDetail>> {
    Ok(Json(letters::acknowledge(&s.db, ctx.actor()?, id).await?))
}

/// The addressee answers with a rectification plan.
#[utoipa::path(post, path = "/api/v1/letters/{id}/response", tag = "supervision", params(("id" = i64, Path)), request_body = ResponseInput,
    responses((status = 200, body = LetterDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn respond_letter(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ResponseInput>,
) -> Result<Json<LetterDetail>> {
    Ok(Json(
        letters::respond(&s.db, ctx.actor()?, id, &input).await?,
    ))
}

/// Settle a letter once answered (coordinators).
#[utoipa::path(post, path = "/api/v1/letters/{id}/resolve", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, body = LetterDetail), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn resolve_letter(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<LetterDetail>> {
    Ok(Json(letters::resolve(&s.db, ctx.actor()?, id).await?))
}

/// Put the letter's items on the next coordination-level meeting's agenda (coordinators).
#[utoipa::path(post, path = "/api/v1/letters/{id}/escalate", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, body = LetterDetail), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn escalate_letter(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<LetterDetail>> {
    Ok(Json(
        letters::escalate(&s.db, ctx.actor()?, id, today()).await?,
    ))
}

/// Letters addressed to the caller's organisation.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "supervision", responses((status = 200, body = Vec<Letter>), (status = 401, body = Problem)))]
async fn inbox(State(s): State<AppState>, ctx: Ctx) -> Result<Json<Vec<Letter>>> {
    let org = ctx.actor()?.organisation_id.ok_or(Error::Forbidden)?;
    Ok(Json(letters::list(&s.db, None, Some(org), None).await?))
}
