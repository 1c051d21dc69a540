//! Regions, organisations, frameworks and pairings.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::audit::{self, AuditRecord};
use xietong_core::domain::RegionCode;
use xietong_core::error::{Error, FieldError, Result};
use xietong_core::permissions::{Action, Kind, Resource};
use xietong_core::registry::frameworks::{
    self, BodyInput, Framework, FrameworkDetail, FrameworkInput, Source,
};
use xietong_core::registry::organisations::{
    self, page, Organisation, OrganisationFilter, OrganisationInput, Provenance,
};
use xietong_core::registry::pairings::{
    self, Pairing, PairingFilter, PairingInput, PairingSummary,
};
use xietong_core::registry::regions::{self, Region};
use xietong_core::web::problem::Problem;
use xietong_core::web::{ApiJson, AppState, Ctx};
use xietong_core::write::require;

use super::Page;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions))
        .routes(routes!(get_region))
        .routes(routes!(list_organisations, create_organisation))
        .routes(routes!(get_organisation, update_organisation))
        .routes(routes!(organisation_history))
        .routes(routes!(list_frameworks, create_framework))
        .routes(routes!(get_framework, update_framework))
        .routes(routes!(add_body))
        .routes(routes!(list_pairings, create_pairing))
        .routes(routes!(get_pairing, update_pairing, delete_pairing))
        .routes(routes!(pairing_history))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RegionQuery {
    /// A code prefix or part of the name, e.g. `永川` or `5002`.
    #[serde(default)]
    q: String,
    /// `province`, `prefecture`, `county` or `zone`.
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

/// Search regions by code or name (public reference data).
#[utoipa::path(get, path = "/api/v1/regions", tag = "registry", params(RegionQuery),
    responses((status = 200, body = Vec<Region>), (status = 400, body = Problem)))]
async fn list_regions(
    State(s): State<AppState>,
    Query(q): Query<RegionQuery>,
) -> Result<Json<Vec<Region>>> {
    if q.q.trim().is_empty() {
        return Ok(Json(regions::children(&s.db, None).await?));
    }
    Ok(Json(
        s.regions
            .search(&s.db, &q.q, q.level.as_deref(), q.limit.unwrap_or(50))
            .await?,
    ))
}

fn parse_code(field: &str, s: &str) -> Result<RegionCode> {
    RegionCode::parse(s).map_err(|e| {
        Error::Invalid(vec![FieldError {
            field: field.into(),
            ..e
        }])
    })
}

/// One region with its children.
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "registry", params(("code" = String, Path, description = "GB/T 2260 code")),
    responses((status = 200, body = RegionDetail), (status = 404, body = Problem)))]
async fn get_region(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<RegionDetail>> {
    let code = parse_code("code", &code)?;
    let region = regions::get(&s.db, &code).await?;
    let children = regions::children(&s.db, Some(&code)).await?;
    Ok(Json(RegionDetail { region, children }))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RegionDetail {
    region: Region,
    children: Vec<Region>,
}

/// List organisations, filtered by name, kind and region.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "registry", params(OrganisationFilter),
    responses((status = 200, body = Page<Organisation>), (status = 401, body = Problem)))]
async fn list_organisations(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(f): Query<OrganisationFilter>,
) -> Result<Json<Page<Organisation>>> {
    require(
        ctx.actor.as_ref(),
        Action::Read,
        &Resource::new(Kind::Organisation),
    )?;
    let (items, total) = organisations::list(&s.db, &f).await?;
    let (limit, offset) = page(f.limit, f.offset);
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// Register an organisation (coordinators and admins).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "registry", request_body = OrganisationInput,
    responses((status = 201, body = Organisation), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_organisation(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<OrganisationInput>,
) -> Result<(StatusCode, Json<Organisation>)> {
    let org = organisations::create(&s.db, ctx.actor()?, &input, Provenance::default()).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200, body = Organisation), (status = 404, body = Problem)))]
async fn get_organisation(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Organisation>> {
    let org = organisations::get(&s.db, id).await?;
    require(ctx.actor.as_ref(), Action::Read, &org.resource())?;
    Ok(Json(org))
}

/// Change an organisation (its own staff, coordinators who own it, admins).
#[utoipa::path(put, path = "/api/v1/organisations/{id}", tag = "registry", params(("id" = i64, Path)), request_body = OrganisationInput,
    responses((status = 200, body = Organisation), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn update_organisation(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<OrganisationInput>,
) -> Result<Json<Organisation>> {
    Ok(Json(
        organisations::update(&s.db, ctx.actor()?, id, &input).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}/history", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AuditRecord>)))]
async fn organisation_history(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<AuditRecord>>> {
    let org = organisations::get(&s.db, id).await?;
    require(ctx.actor.as_ref(), Action::Read, &org.resource())?;
    Ok(Json(
        audit::history(&s.db, "organisation", &id.to_string()).await?,
    ))
}

/// The frameworks the caller may see (public ones to everybody).
#[utoipa::path(get, path = "/api/v1/frameworks", tag = "registry", responses((status = 200, body = Vec<Framework>)))]
async fn list_frameworks(State(s): State<AppState>, ctx: Ctx) -> Result<Json<Vec<Framework>>> {
    Ok(Json(s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?))
}

/// Create a framework (admins).
#[utoipa::path(post, path = "/api/v1/frameworks", tag = "registry", request_body = FrameworkInput,
    responses((status = 201, body = FrameworkDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_framework(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<FrameworkInput>,
) -> Result<(StatusCode, Json<FrameworkDetail>)> {
    let f = frameworks::create(&s.db, ctx.actor()?, &input, Source::default()).await?;
    s.frameworks.invalidate();
    Ok((StatusCode::CREATED, Json(f)))
}

/// A framework with its parties and governance bodies by level.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200, body = FrameworkDetail), (status = 404, body = Problem)))]
async fn get_framework(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<FrameworkDetail>> {
    let detail = frameworks::detail(&s.db, id).await?;
    require(
        ctx.actor.as_ref(),
        Action::Read,
        &detail.framework.resource(),
    )?;
    Ok(Json(detail))
}

/// Change a framework (its coordinators, admins); parties may shrink only around existing pairings.
#[utoipa::path(put, path = "/api/v1/frameworks/{id}", tag = "registry", params(("id" = i64, Path)), request_body = FrameworkInput,
    responses((status = 200, body = FrameworkDetail), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_framework(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<FrameworkInput>,
) -> Result<Json<FrameworkDetail>> {
    let f = frameworks::update(&s.db, ctx.actor()?, id, &input).await?;
    s.frameworks.invalidate();
    Ok(Json(f))
}

/// Add a governance body to a framework (its coordinators, admins).
#[utoipa::path(post, path = "/api/v1/frameworks/{id}/bodies", tag = "registry", params(("id" = i64, Path)), request_body = BodyInput,
    responses((status = 201, body = frameworks::Body), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_body(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<BodyInput>,
) -> Result<(StatusCode, Json<frameworks::Body>)> {
    let body =
        frameworks::add_body(&s.db, ctx.actor()?, id, &input, Source::default(), false).await?;
    Ok((StatusCode::CREATED, Json(body)))
}

/// The frameworks whose pairings the caller may list; `None` means all.
pub async fn visible_ids(s: &AppState, ctx: &Ctx) -> Result<Option<Vec<i64>>> {
    s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await
}

/// List pairings; `region=<code>` gives every pairing that region is a party to, in any framework.
#[utoipa::path(get, path = "/api/v1/pairings", tag = "registry", params(PairingFilter),
    responses((status = 200, body = Page<PairingSummary>), (status = 422, body = Problem)))]
async fn list_pairings(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(f): Query<PairingFilter>,
) -> Result<Json<Page<PairingSummary>>> {
    let visible = visible_ids(&s, &ctx).await?;
    let (items, total) = pairings::list(&s.db, &f, visible.as_deref()).await?;
    let (limit, offset) = page(f.limit, f.offset);
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// Pair two parties within a framework (its coordinators, admins).
#[utoipa::path(post, path = "/api/v1/pairings", tag = "registry", request_body = PairingInput,
    responses((status = 201, body = Pairing), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_pairing(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<PairingInput>,
) -> Result<(StatusCode, Json<Pairing>)> {
    let p = pairings::create(&s.db, ctx.actor()?, &input, pairings::Provenance::default()).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// Reads a pairing the caller may see.
pub async fn readable_pairing(s: &AppState, ctx: &Ctx, id: i64) -> Result<Pairing> {
    let p = pairings::get(&s.db, id).await?;
    let framework = s.frameworks.get(&s.db, p.framework_id).await?;
    require(
        ctx.actor.as_ref(),
        Action::Read,
        &p.resource(framework.public != 0),
    )?;
    Ok(p)
}

#[utoipa::path(get, path = "/api/v1/pairings/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200, body = Pairing), (status = 404, body = Problem)))]
async fn get_pairing(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Pairing>> {
    Ok(Json(readable_pairing(&s, &ctx, id).await?))
}

#[utoipa::path(put, path = "/api/v1/pairings/{id}", tag = "registry", params(("id" = i64, Path)), request_body = PairingInput,
    responses((status = 200, body = Pairing), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_pairing(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<PairingInput>,
) -> Result<Json<Pairing>> {
    Ok(Json(
        pairings::update(&s.db, ctx.actor()?, id, &input).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/pairings/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_pairing(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    pairings::delete(&s.db, ctx.actor()?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/pairings/{id}/history", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AuditRecord>)))]
async fn pairing_history(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<AuditRecord>>> {
    readable_pairing(&s, &ctx, id).await?;
    Ok(Json(
        audit::history(&s.db, "pairing", &id.to_string()).await?,
    ))
}
