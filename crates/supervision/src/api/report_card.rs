//! The report card (成绩单) of a framework's year.

use axum::extract::{Query, State};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::domain::text;
use xietong_core::error::{Error, Result};
use xietong_core::web::problem::Problem;
use xietong_core::web::{AppState, Ctx};

use super::today;
use crate::store::report_card::{self, CardQuery, ReportCard};
use crate::store::tasks::require_read;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_card))
}

/// Reads the card the caller may see, checking the query.
pub async fn readable_card(s: &AppState, ctx: &Ctx, q: &CardQuery) -> Result<ReportCard> {
    let framework = s.frameworks.get(&s.db, q.framework).await.map_err(|_| {
        Error::invalid(
            "framework",
            "framework_unknown",
            "协作机制不存在",
            "the framework does not exist",
        )
    })?;
    require_read(ctx.actor.as_ref(), framework.id, framework.public != 0)?;
    if !(2000..=2100).contains(&q.year) {
        return Err(Error::invalid(
            "year",
            "year_invalid",
            "年度须在 2000 至 2100 之间",
            "the year must lie between 2000 and 2100",
        ));
    }
    let as_of = match q.as_of.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => text::date("as_of", d).map_err(|e| Error::Invalid(vec![e]))?,
        None => today(),
    };
    report_card::compute(&s.db, framework.id, q.year, as_of).await
}

/// The report card of a framework's year as of a date: tasks, projects, adjusted targets,
/// warning letters, units.
#[utoipa::path(get, path = "/api/v1/report-card", tag = "supervision", params(CardQuery),
    responses((status = 200, body = ReportCard), (status = 422, body = Problem)))]
async fn get_card(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CardQuery>,
) -> Result<Json<ReportCard>> {
    Ok(Json(readable_card(&s, &ctx, &q).await?))
}
