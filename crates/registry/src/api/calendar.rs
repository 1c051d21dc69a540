//! The working-day calendar: ask whether a day is a working day, add working days, count them;
//! admins load a new year's calendar.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use xietong_core::calendar::{store, WorkingDays};
use xietong_core::domain::text;
use xietong_core::error::{Error, FieldError, Msg, Result};
use xietong_core::web::problem::Problem;
use xietong_core::web::{AppState, Ctx};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(working_day))
        .routes(routes!(add_days))
        .routes(routes!(between))
        .routes(routes!(list_years, load_years))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DateQuery {
    /// `YYYY-MM-DD`
    date: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DayAnswer {
    date: String,
    working_day: bool,
    /// True when the year's official calendar is not loaded: the answer only knows weekends.
    provisional: bool,
}

/// Is this date a working day in China (statutory holidays and adjusted working days included)?
#[utoipa::path(get, path = "/api/v1/calendar/working-day", tag = "calendar", params(DateQuery),
    responses((status = 200, body = DayAnswer), (status = 422, body = Problem)))]
async fn working_day(
    State(s): State<AppState>,
    Query(q): Query<DateQuery>,
) -> Result<Json<DayAnswer>> {
    let date = text::date("date", &q.date).map_err(|e| Error::Invalid(vec![e]))?;
    let cal = s.calendar.current(&s.db).await?;
    let a = cal.is_working_day(date);
    Ok(Json(DayAnswer {
        date: text::format_date(date),
        working_day: a.value,
        provisional: a.provisional,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AddQuery {
    /// `YYYY-MM-DD`
    start: String,
    /// Working days to add (0–3650).
    days: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AddAnswer {
    start: String,
    days: u32,
    /// The `days`-th working day after `start` (start itself not counted).
    date: String,
    provisional: bool,
}

/// The date `days` working days after `start` — e.g. a promised time limit.
#[utoipa::path(get, path = "/api/v1/calendar/add", tag = "calendar", params(AddQuery),
    responses((status = 200, body = AddAnswer), (status = 422, body = Problem)))]
async fn add_days(State(s): State<AppState>, Query(q): Query<AddQuery>) -> Result<Json<AddAnswer>> {
    let start = text::date("start", &q.start).map_err(|e| Error::Invalid(vec![e]))?;
    let n = WorkingDays::new(q.days).map_err(|e| {
        Error::Invalid(vec![FieldError::new(
            "days",
            "out_of_range",
            Msg::new(format!("工作日数无效：{e}"), e.to_string()),
        )])
    })?;
    let cal = s.calendar.current(&s.db).await?;
    let a = cal.add_working_days(start, n);
    Ok(Json(AddAnswer {
        start: text::format_date(start),
        days: q.days,
        date: text::format_date(a.value),
        provisional: a.provisional,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BetweenQuery {
    /// A date `YYYY-MM-DD` or an RFC 3339 instant.
    from: String,
    to: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BetweenAnswer {
    from: String,
    to: String,
    /// Working days d with from < d ≤ to, counted on Asia/Shanghai dates.
    working_days: i64,
    provisional: bool,
}

fn date_or_instant(field: &str, s: &str) -> Result<time::Date> {
    if let Some(t) = xietong_core::clock::parse(s.trim()) {
        return Ok(xietong_core::calendar::shanghai_date(t));
    }
    text::date(field, s).map_err(|e| Error::Invalid(vec![e]))
}

/// Working days between two dates or instants (Asia/Shanghai).
#[utoipa::path(get, path = "/api/v1/calendar/between", tag = "calendar", params(BetweenQuery),
    responses((status = 200, body = BetweenAnswer), (status = 422, body = Problem)))]
async fn between(
    State(s): State<AppState>,
    Query(q): Query<BetweenQuery>,
) -> Result<Json<BetweenAnswer>> {
    let from = date_or_instant("from", &q.from)?;
    let to = date_or_instant("to", &q.to)?;
    let cal = s.calendar.current(&s.db).await?;
    let a = cal.working_days_between(from, to);
    Ok(Json(BetweenAnswer {
        from: text::format_date(from),
        to: text::format_date(to),
        working_days: a.value,
        provisional: a.provisional,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CalendarYear {
    year: i64,
    source: String,
    loaded_at: String,
}

/// The years whose official calendar is loaded.
#[utoipa::path(get, path = "/api/v1/calendar/years", tag = "calendar", responses((status = 200, body = Vec<CalendarYear>)))]
async fn list_years(State(s): State<AppState>) -> Result<Json<Vec<CalendarYear>>> {
    let years = store::years(&s.db).await?;
    Ok(Json(
        years
            .into_iter()
            .map(|(year, source, loaded_at)| CalendarYear {
                year,
                source,
                loaded_at,
            })
            .collect(),
    ))
}

/// Load (or replace) whole years from a CSV body `date,kind,name_zh,name_en` (admins).
#[utoipa::path(post, path = "/api/v1/calendar/years", tag = "calendar", request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = Vec<i32>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn load_years(
    State(s): State<AppState>,
    ctx: Ctx,
    body: String,
) -> Result<(StatusCode, Json<Vec<i32>>)> {
    let actor = ctx.actor()?;
    let years = store::import_csv(
        &s.db,
        actor,
        &body,
        &format!("uploaded by {}", actor.username),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(years)))
}
