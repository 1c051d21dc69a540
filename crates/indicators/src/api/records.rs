//! Writing figures: values (with corrections), activities, agreements; and which pairings have
//! not reported for a period.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::error::Result;
use xietong_core::web::problem::Problem;
use xietong_core::web::{ApiJson, AppState, Ctx};

use super::require_read;
use crate::periods::Period;
use crate::store::activities::{self, ActivityInput};
use crate::store::agreements::{self, Agreement, AgreementInput};
use crate::store::reporting::{self, ReportingStatus};
use crate::store::values::{self, ValueInput, WriteSummary};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report_values))
        .routes(routes!(withdraw_value))
        .routes(routes!(record_activities))
        .routes(routes!(delete_activity))
        .routes(routes!(create_agreement, list_agreements))
        .routes(routes!(reporting_status))
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ValuesInput {
    pub values: Vec<OneValue>,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OneValue {
    pub pairing_id: i64,
    /// Indicator code, e.g. `FUNDS`.
    pub indicator: String,
    /// `2022-08`, `2022-Q3` or `2022`.
    pub period: String,
    /// The figure with or without its unit: `4.39亿元`, `1200`.
    pub amount: String,
    pub evidence: String,
}

/// Report figures for a framework's pairings, all or nothing (staff of a party, coordinators).
/// A figure that differs from the period's current one corrects it; the same figure changes nothing.
#[utoipa::path(post, path = "/api/v1/frameworks/{id}/values", tag = "indicators", params(("id" = i64, Path)), request_body = ValuesInput,
    responses((status = 200, body = WriteSummary), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn report_values(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ValuesInput>,
) -> Result<Json<WriteSummary>> {
    let fw = s.frameworks.get(&s.db, id).await?;
    let inputs: Vec<ValueInput> = input
        .values
        .into_iter()
        .enumerate()
        .map(|(i, v)| ValueInput {
            at: format!("values[{i}]"),
            pairing_id: v.pairing_id,
            indicator: v.indicator,
            period: v.period,
            amount: v.amount,
            evidence: v.evidence,
        })
        .collect();
    Ok(Json(
        values::write(&s.db, ctx.actor()?, fw.id, &inputs, "api").await?,
    ))
}

/// Withdraw a reported value; its history stays.
#[utoipa::path(delete, path = "/api/v1/indicator-values/{id}", tag = "indicators", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn withdraw_value(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    values::delete(&s.db, ctx.actor()?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ActivitiesInput {
    pub activities: Vec<ActivityInput>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub ids: Vec<i64>,
}

/// Record activities, all or nothing; the indicators they feed move at once.
#[utoipa::path(post, path = "/api/v1/activities", tag = "indicators", request_body = ActivitiesInput,
    responses((status = 201, body = Created), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn record_activities(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<ActivitiesInput>,
) -> Result<(StatusCode, Json<Created>)> {
    let ids = activities::record(&s.db, ctx.actor()?, &input.activities, "api").await?;
    Ok((StatusCode::CREATED, Json(Created { ids })))
}

/// Delete an activity; the indicators it fed lose its share.
#[utoipa::path(delete, path = "/api/v1/activities/{id}", tag = "indicators", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_activity(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    activities::delete(&s.db, ctx.actor()?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record an agreement and the targets it sets (coordinators).
#[utoipa::path(post, path = "/api/v1/agreements", tag = "indicators", request_body = AgreementInput,
    responses((status = 201, body = Agreement), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_agreement(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<AgreementInput>,
) -> Result<(StatusCode, Json<Agreement>)> {
    let a = agreements::create(&s.db, ctx.actor()?, &input).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, default)]
pub struct FrameworkQuery {
    pub framework: i64,
}

/// A framework's agreements, newest year first.
#[utoipa::path(get, path = "/api/v1/agreements", tag = "indicators", params(FrameworkQuery),
    responses((status = 200, body = [Agreement]), (status = 404, body = Problem)))]
async fn list_agreements(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FrameworkQuery>,
) -> Result<Json<Vec<Agreement>>> {
    let fw = s.frameworks.get(&s.db, q.framework).await?;
    require_read(ctx.actor.as_ref(), fw.id, fw.public != 0)?;
    Ok(Json(agreements::of_framework(&s.db, fw.id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, default)]
pub struct StatusQuery {
    /// A month, e.g. `2022-08`.
    pub period: String,
}

/// Which pairings reported for a month and which did not (members of the framework).
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/reporting-status", tag = "indicators", params(("id" = i64, Path), StatusQuery),
    responses((status = 200, body = ReportingStatus), (status = 422, body = Problem)))]
async fn reporting_status(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<StatusQuery>,
) -> Result<Json<ReportingStatus>> {
    let fw = s.frameworks.get(&s.db, id).await?;
    require_read(ctx.actor.as_ref(), fw.id, fw.public != 0)?;
    let period = Period::parse("period", &q.period)
        .map_err(|e| xietong_core::error::Error::Invalid(vec![e]))?;
    Ok(Json(reporting::status_of(&s.db, fw.id, &period).await?))
}
