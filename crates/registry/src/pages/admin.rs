//! Pages: the working-day calendar, user administration, the audit trail check.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use xietong_core::accounts::users;
use xietong_core::audit;
use xietong_core::calendar::store;
use xietong_core::domain::text;
use xietong_core::error::Result;
use xietong_core::permissions::{Action, Kind, Resource};
use xietong_core::web::{AppState, CsrfForm, Ctx};
use xietong_core::write::require;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CalendarQuery {
    #[serde(default)]
    year: Option<i32>,
}

/// A year's holidays and adjusted working days, with a warning when the year is not loaded.
pub async fn calendar(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CalendarQuery>,
) -> Result<Response> {
    render_calendar(&s, &ctx, q.year, None, StatusCode::OK).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarUpload {
    #[serde(default)]
    csv: String,
}

/// An admin pastes a year's calendar (the CSV an office publishes every winter) and loads it.
pub async fn upload_calendar(
    State(s): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<CalendarUpload>,
) -> Result<Response> {
    let actor = ctx.actor()?;
    match store::import_csv(
        &s.db,
        actor,
        &form.csv,
        &format!("uploaded by {}", actor.username),
    )
    .await
    {
        Ok(years) => Ok(Redirect::to(&format!(
            "/calendar?year={}",
            years.first().copied().unwrap_or(2026)
        ))
        .into_response()),
        Err(e) => {
            let failure = super::form_failure(e, &ctx)?;
            let message = failure.errors.into_values().next().or(failure.alert);
            render_calendar(&s, &ctx, None, message, failure.status).await
        }
    }
}

async fn render_calendar(
    s: &AppState,
    ctx: &Ctx,
    year: Option<i32>,
    upload_error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let cal = s.calendar.current(&s.db).await?;
    let today = xietong_core::calendar::shanghai_date(xietong_core::clock::now());
    let year = year.unwrap_or(today.year()).clamp(1949, 2100);
    let entries: Vec<_> = cal
        .entries()
        .filter(|e| e.date.year() == year)
        .map(|e| {
            minijinja::context! {
                date => text::format_date(e.date),
                weekday => e.date.weekday().number_from_monday(),
                kind => format!("{:?}", e.kind).to_lowercase(),
                name_zh => e.name_zh.clone(),
                name_en => e.name_en.clone(),
            }
        })
        .collect();
    let loaded = cal.is_loaded(year);
    let years = store::years(&s.db).await?;
    let today_working = cal.is_working_day(today);
    let can_upload = super::may(ctx, Action::Create, &Resource::new(Kind::Calendar));
    let values = minijinja::context! {
        year, loaded, entries, years, can_upload, upload_error,
        today => text::format_date(today), today_working => today_working.value, today_provisional => today_working.provisional,
    };
    Ok((status, ctx.render(s, "calendar.html", values)?).into_response())
}

pub async fn users(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    require(ctx.actor.as_ref(), Action::Read, &Resource::new(Kind::User))?;
    let users = users::list(&s.db).await?;
    Ok(ctx
        .render(&s, "users.html", minijinja::context! { users })?
        .into_response())
}

pub async fn audit(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    require(
        ctx.actor.as_ref(),
        Action::Read,
        &Resource::new(Kind::Audit),
    )?;
    let (records, breaches) = audit::verify(&s.db).await?;
    let recent: Vec<audit::AuditRecord> = sqlx::query_as(
        "SELECT seq, at, actor_id, actor_name, action, entity, entity_id, before_json, after_json, prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT 50",
    )
    .fetch_all(s.db.pool())
    .await?;
    let breaches: Vec<String> = breaches.iter().map(|b| format!("{b:?}")).collect();
    Ok(ctx
        .render(
            &s,
            "audit.html",
            minijinja::context! { records, breaches, recent },
        )?
        .into_response())
}
