//! Pages: meetings by level, a meeting with its documents, decisions, agenda and resulting tasks.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use xietong_core::error::Result;
use xietong_core::web::{AppState, Ctx};

use crate::store::meetings;
use crate::store::tasks::require_read;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MeetingQuery {
    #[serde(default)]
    framework: Option<i64>,
}

pub async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<MeetingQuery>,
) -> Result<Response> {
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    let items = meetings::list(&s.db, q.framework, visible.as_deref()).await?;
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    Ok(ctx
        .render(
            &s,
            "supervision/meetings.html",
            minijinja::context! { items, frameworks, framework => q.framework },
        )?
        .into_response())
}

pub async fn detail(State(s): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response> {
    let m = meetings::detail(&s.db, id).await?;
    let framework = s.frameworks.get(&s.db, m.meeting.framework_id).await?;
    require_read(ctx.actor.as_ref(), framework.id, framework.public != 0)?;
    let tasks: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT t.id, t.code, t.title_zh, t.status FROM tasks t JOIN decisions d ON d.id = t.decision_id WHERE d.meeting_id = $1 ORDER BY t.code",
    )
    .bind(id)
    .fetch_all(s.db.pool())
    .await?;
    Ok(ctx
        .render(
            &s,
            "supervision/meeting.html",
            minijinja::context! { m, framework, tasks },
        )?
        .into_response())
}
