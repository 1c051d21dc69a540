//! Pages: the working-day calendar, user administration, the audit trail check.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use xietong_core::accounts::users;
use xietong_core::audit;
use xietong_core::calendar::store;
use xietong_core::domain::text;
use xietong_core::error::Result;
use xietong_core::permissions::{Action, Kind, Resource};
use xietong_core::web::{AppState, Ctx};
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
    let cal = s.calendar.current(&s.db).await?;
    let today = xietong_core::calendar::shanghai_date(xietong_core::clock::now());
    let year = q.year.unwrap_or(today.year()).clamp(1949, 2100);
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
    Ok(ctx
        .render(&s, "calendar.html", minijinja::context! {
            year, loaded, entries, years,
            today => text::format_date(today), today_working => today_working.value, today_provisional => today_working.provisional,
        })?
        .into_response())
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
