//! Spreadsheets: the reporting template of a framework and period (rows = pairings, columns =
//! indicators with their units), its all-or-nothing import, and the report card export.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::error::{Error, Result};
use xietong_core::web::problem::Problem;
use xietong_core::web::{xlsx_response, AppState, Ctx};

use super::{as_of, require_read};
use crate::excel;
use crate::periods::Period;
use crate::store::values::{self, WriteSummary};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(template))
        .routes(routes!(import))
        .routes(routes!(export_card))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, default)]
pub struct PeriodQuery {
    /// `2022-08`, `2022-Q3` or `2022`.
    pub period: String,
}

fn period(q: &PeriodQuery) -> Result<Period> {
    Period::parse("period", &q.period).map_err(|e| Error::Invalid(vec![e]))
}

/// The reporting template of a framework and period, prefilled with current figures.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/reporting-template", tag = "indicators", params(("id" = i64, Path), PeriodQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 422, body = Problem)))]
async fn template(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response> {
    let fw = s.frameworks.get(&s.db, id).await?;
    require_read(ctx.actor.as_ref(), fw.id, fw.public != 0)?;
    let p = period(&q)?;
    let bytes = excel::template(&s.db, fw.id, &p).await?;
    Ok(xlsx_response(
        &format!("{}-{}.xlsx", fw.key, p.key()),
        bytes,
    ))
}

/// Import a filled-in template: every cell is checked first; nothing is stored if any fails,
/// and the problems name row, column and reason. Importing the same file twice changes nothing.
#[utoipa::path(post, path = "/api/v1/frameworks/{id}/reporting-template", tag = "indicators", params(("id" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = WriteSummary), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn import(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Json<WriteSummary>> {
    let fw = s.frameworks.get(&s.db, id).await?;
    let actor = ctx.actor()?;
    let inputs = excel::read_template(&s.db, fw.id, &body).await?;
    Ok(Json(
        values::write(&s.db, actor, fw.id, &inputs, "xlsx").await?,
    ))
}

/// The report card as a spreadsheet: totals, then one row per pairing.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/report-card.xlsx", tag = "indicators", params(("id" = i64, Path), super::card::AsOfQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = Problem)))]
async fn export_card(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<super::card::AsOfQuery>,
) -> Result<Response> {
    let day = as_of(q.as_of.as_deref())?;
    let c = super::readable_card(&s, &ctx, id, day).await?;
    Ok(xlsx_response(
        &format!("{}-{}.xlsx", c.framework_key, c.as_of),
        excel::card(&c)?,
    ))
}
