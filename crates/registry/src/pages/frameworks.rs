//! Pages: home, the framework list, a framework with its governance and pairings.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use xietong_core::audit;
use xietong_core::error::Result;
use xietong_core::permissions::{Action, Kind, Resource};
use xietong_core::registry::frameworks;
use xietong_core::registry::pairings::{self, PairingFilter};
use xietong_core::web::{AppState, Ctx};
use xietong_core::write::require;

async fn count(s: &AppState, sql: &str) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(s.db.pool()).await?;
    Ok(n)
}

pub async fn home(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    let stats = minijinja::context! {
        frameworks => frameworks.len(),
        pairings => count(&s, "SELECT COUNT(*) FROM pairings").await?,
        organisations => count(&s, "SELECT COUNT(*) FROM organisations").await?,
        regions => count(&s, "SELECT COUNT(*) FROM regions").await?,
    };
    Ok(ctx
        .render(&s, "home.html", minijinja::context! { frameworks, stats })?
        .into_response())
}

pub async fn list(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    Ok(ctx
        .render(&s, "frameworks.html", minijinja::context! { frameworks })?
        .into_response())
}

pub async fn detail(State(s): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response> {
    let detail = frameworks::detail(&s.db, id).await?;
    require(
        ctx.actor.as_ref(),
        Action::Read,
        &detail.framework.resource(),
    )?;
    let filter = PairingFilter {
        framework: Some(id),
        limit: Some(200),
        ..Default::default()
    };
    let (pairings, total) = pairings::list(&s.db, &filter, None).await?;
    let can_edit = super::may(
        &ctx,
        Action::Create,
        &Resource::new(Kind::Pairing).in_framework(id),
    );
    let history = audit::history(&s.db, "framework", &id.to_string()).await?;
    Ok(ctx
        .render(
            &s,
            "framework.html",
            minijinja::context! { f => detail.framework, parties => detail.parties, bodies => detail.bodies, pairings, total, can_edit, history },
        )?
        .into_response())
}
