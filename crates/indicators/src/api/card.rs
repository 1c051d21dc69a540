//! Report cards, their publication, and a pairing's own figures.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::error::{Error, Result};
use xietong_core::web::problem::Problem;
use xietong_core::web::{ApiJson, AppState, Ctx};

use super::{as_of, require_read};
use crate::store::activities::{self, Activity};
use crate::store::agreements::{self, Agreement};
use crate::store::card::{self, CardLine, ReportCard};
use crate::store::catalogue::{self, Indicator, IndicatorEdit};
use crate::store::values::{self, ValueRecord};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_catalogue))
        .routes(routes!(edit_indicator))
        .routes(routes!(framework_indicators))
        .routes(routes!(get_card))
        .routes(routes!(publish_card))
        .routes(routes!(get_pairing))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, default)]
pub struct AsOfQuery {
    /// The day the figures stand on (YYYY-MM-DD); today when absent.
    pub as_of: Option<String>,
}

/// The indicator catalogue.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators", responses((status = 200, body = [Indicator])))]
async fn list_catalogue(State(s): State<AppState>) -> Result<Json<Vec<Indicator>>> {
    Ok(Json(catalogue::all(&s.db).await?))
}

/// Edit a catalogue entry (admins): names, unit within its dimension, how values combine.
#[utoipa::path(patch, path = "/api/v1/indicators/{code}", tag = "indicators", params(("code" = String, Path)), request_body = IndicatorEdit,
    responses((status = 200, body = Indicator), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn edit_indicator(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    ApiJson(edit): ApiJson<IndicatorEdit>,
) -> Result<Json<Indicator>> {
    let edited = catalogue::edit(&s.db, ctx.actor()?, &code, &edit).await?;
    catalogue_changed(&s);
    Ok(Json(edited))
}

/// The indicators a framework reports, in its card's order.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/indicators", tag = "indicators", params(("id" = i64, Path)),
    responses((status = 200, body = [Indicator]), (status = 404, body = Problem)))]
async fn framework_indicators(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Indicator>>> {
    let fw = s.frameworks.get(&s.db, id).await?;
    require_read(ctx.actor.as_ref(), fw.id, fw.public != 0)?;
    Ok(Json(catalogue::for_framework(&s.db, id).await?))
}

/// The application's copy of the catalogue (reads only; writes read it afresh).
pub async fn catalogue_of(s: &AppState) -> Result<std::sync::Arc<catalogue::Catalogue>> {
    s.caches.get::<catalogue::Cache>().get(&s.db).await
}

/// Drops the application's copy of the catalogue after an edit, so the next read sees it.
pub fn catalogue_changed(s: &AppState) {
    s.caches.get::<catalogue::Cache>().invalidate();
}

/// Reads a card the caller may see: members of the framework always, anyone once published.
pub async fn readable_card(
    s: &AppState,
    ctx: &Ctx,
    framework_id: i64,
    day: time::Date,
) -> Result<ReportCard> {
    let fw = s.frameworks.get(&s.db, framework_id).await?;
    if !card::is_published(&s.db, fw.id, &day.to_string()).await? {
        require_read(ctx.actor.as_ref(), fw.id, fw.public != 0)?;
    }
    card::build_from(&s.db, &*catalogue_of(s).await?, &fw, day).await
}

/// A framework's report card (成绩单) as of a day: per pairing, per side and in total, against
/// the year's targets and the same day a year earlier.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/report-card", tag = "indicators", params(("id" = i64, Path), AsOfQuery),
    responses((status = 200, body = ReportCard), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn get_card(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<AsOfQuery>,
) -> Result<Json<ReportCard>> {
    let day = as_of(q.as_of.as_deref())?;
    Ok(Json(readable_card(&s, &ctx, id, day).await?))
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PublishInput {
    pub as_of: String,
}

/// Publish a framework's card as of a day (coordinators): the public page then shows it.
#[utoipa::path(post, path = "/api/v1/frameworks/{id}/report-card/publication", tag = "indicators", params(("id" = i64, Path)), request_body = PublishInput,
    responses((status = 201), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn publish_card(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<PublishInput>,
) -> Result<StatusCode> {
    let fw = s.frameworks.get(&s.db, id).await?;
    let day = xietong_core::domain::text::date("as_of", &input.as_of)
        .map_err(|e| Error::Invalid(vec![e]))?;
    card::publish(&s.db, ctx.actor()?, fw.id, day).await?;
    Ok(StatusCode::CREATED)
}

/// A pairing's figures on a day, its activities, agreements and reported values.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PairingView {
    pub pairing_id: i64,
    pub framework_id: i64,
    pub label_zh: String,
    pub party_a: String,
    pub party_b: String,
    pub as_of: String,
    pub agreement_signed: bool,
    pub indicators: Vec<PairingFigure>,
    /// The latest 30 activities.
    pub activities: Vec<Activity>,
    pub agreements: Vec<Agreement>,
    /// The latest 80 reported values, corrections included.
    pub values: Vec<ValueRecord>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PairingFigure {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub amount: i64,
    pub display: String,
    pub target: Option<i64>,
    pub progress_percent: Option<i64>,
}

/// How much of a pairing's history its page carries (the newest first).
const LATEST_ACTIVITIES: i64 = 30;
const LATEST_VALUES: i64 = 80;

pub async fn readable_pairing(
    s: &AppState,
    ctx: &Ctx,
    id: i64,
    day: time::Date,
) -> Result<PairingView> {
    let p = crate::store::pairing(&s.db, id).await?;
    let fw = s.frameworks.get(&s.db, p.framework_id).await?;
    require_read(ctx.actor.as_ref(), fw.id, fw.public != 0)?;
    let agreements = agreements::of_pairing(&s.db, p.id).await?;
    let catalogue = catalogue_of(s).await?;
    let c = card::build_for_pairing(&s.db, &catalogue, &fw, p.clone(), &agreements, day).await?;
    let line = c.pairings.iter().find(|l| l.pairing_id == p.id);
    let indicators = c
        .indicators
        .iter()
        .enumerate()
        .map(|(k, ind): (usize, &CardLine)| {
            let amount = line.map(|l| l.values[k]).unwrap_or(0);
            let target = line.and_then(|l| l.targets[k]);
            PairingFigure {
                code: ind.code.clone(),
                name_zh: ind.name_zh.clone(),
                name_en: ind.name_en.clone(),
                unit: ind.unit.clone(),
                amount,
                display: line.map(|l| l.displays[k].clone()).unwrap_or_default(),
                target,
                progress_percent: target.and_then(|t| crate::rules::progress_percent(amount, t)),
            }
        })
        .collect();
    Ok(PairingView {
        pairing_id: p.id,
        framework_id: fw.id,
        label_zh: p.label(),
        party_a: p.party_a.clone(),
        party_b: p.party_b.clone(),
        as_of: day.to_string(),
        agreement_signed: line.is_some_and(|l| l.agreement_signed),
        indicators,
        activities: activities::of_pairing(&s.db, p.id, LATEST_ACTIVITIES).await?,
        agreements,
        values: values::history(&s.db, p.id, LATEST_VALUES).await?,
    })
}

/// A pairing's figures on a day against its targets, with its activities, agreements and the
/// history of its reported values (corrections included).
#[utoipa::path(get, path = "/api/v1/pairings/{id}/figures", tag = "indicators", params(("id" = i64, Path), AsOfQuery),
    responses((status = 200, body = PairingView), (status = 404, body = Problem)))]
async fn get_pairing(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<AsOfQuery>,
) -> Result<Json<PairingView>> {
    let day = as_of(q.as_of.as_deref())?;
    Ok(Json(readable_pairing(&s, &ctx, id, day).await?))
}
