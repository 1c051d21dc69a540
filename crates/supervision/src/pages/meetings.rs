//! Pages: meetings by level, a meeting with its documents, decisions, agenda and resulting tasks.

use crate::domain::LagRules;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;
use xietong_core::domain::text;
use xietong_core::error::Result;
use xietong_core::permissions::Decision;
use xietong_core::web::{AppState, CsrfForm, Ctx};

use crate::api::today;
use crate::permissions;
use crate::store::meetings::{self, DecisionInput};
use crate::store::tasks::{self, require_read, TaskInput};

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
    let can_manage = permissions::manage(ctx.actor.as_ref(), framework.id) == Decision::Allow;
    let (orgs, areas) = if can_manage {
        form_choices(&s).await?
    } else {
        (vec![], vec![])
    };
    let today = text::format_date(today());
    let values = minijinja::context! { m, framework, tasks, can_manage, orgs, areas, year => today[..4].to_string(), today };
    Ok(ctx
        .render(&s, "supervision/meeting.html", values)?
        .into_response())
}

/// Organisations and areas for the task form.
async fn form_choices(s: &AppState) -> Result<(Vec<(i64, String)>, Vec<(String, String, String)>)> {
    let orgs = sqlx::query_as("SELECT id, name_zh FROM organisations ORDER BY name_zh")
        .fetch_all(s.db.pool())
        .await?;
    let areas = sqlx::query_as("SELECT key, name_zh, name_en FROM areas ORDER BY position")
        .fetch_all(s.db.pool())
        .await?;
    Ok((orgs, areas))
}

pub async fn add_decision(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<DecisionInput>,
) -> Result<Response> {
    meetings::add_decision(
        &s.db,
        ctx.actor()?,
        id,
        &input,
        meetings::Provenance::default(),
    )
    .await?;
    Ok(Redirect::to(&format!("/meetings/{id}")).into_response())
}

/// The task form on a meeting page: one co-owner at most (more through the API).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    title_zh: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    year: i64,
    #[serde(default)]
    lead_org_id: i64,
    #[serde(default)]
    co_org_id: Option<i64>,
    #[serde(default)]
    start_on: String,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    deliverable_zh: String,
    decision_id: i64,
}

/// Creates a task from one of the meeting's decisions and opens it; a refused form shows
/// every problem on the error page.
pub async fn create_task(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<TaskForm>,
) -> Result<Response> {
    let m = meetings::get(&s.db, id).await?;
    let input = TaskInput {
        code: f.code,
        framework_id: m.framework_id,
        title_zh: f.title_zh,
        title_en: String::new(),
        area: f.area,
        year: f.year,
        lead_org_id: f.lead_org_id,
        co_org_ids: f.co_org_id.into_iter().collect(),
        start_on: f.start_on,
        deadline: f.deadline,
        deliverable_zh: f.deliverable_zh,
        source_kind: "decision".into(),
        decision_id: Some(f.decision_id),
    };
    let task = tasks::create(
        &s.db,
        ctx.actor()?,
        &input,
        tasks::Provenance::default(),
        today(),
        &rules,
    )
    .await?;
    Ok(Redirect::to(&format!("/tasks/{}", task.task.id)).into_response())
}

/// The bodies a user may record meetings for (their frameworks' bodies).
async fn manageable_bodies(s: &AppState, ctx: &Ctx) -> Result<Vec<(i64, String, String)>> {
    let bodies: Vec<(i64, i64, String, String)> =
        sqlx::query_as("SELECT b.id, b.framework_id, f.key, b.name_zh FROM bodies b JOIN frameworks f ON f.id = b.framework_id ORDER BY f.id, b.id")
            .fetch_all(s.db.pool())
            .await?;
    Ok(bodies
        .into_iter()
        .filter(|(_, framework, _, _)| {
            permissions::manage(ctx.actor.as_ref(), *framework) == Decision::Allow
        })
        .map(|(id, _, key, name)| (id, key, name))
        .collect())
}

pub async fn new_form(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    ctx.actor()?;
    let bodies = manageable_bodies(&s, &ctx).await?;
    if bodies.is_empty() {
        return Err(xietong_core::Error::Forbidden);
    }
    Ok(ctx
        .render(
            &s,
            "supervision/meeting_form.html",
            minijinja::context! { bodies },
        )?
        .into_response())
}

/// Records a meeting (held or planned) and opens it.
pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    CsrfForm(input): CsrfForm<meetings::MeetingInput>,
) -> Result<Response> {
    let m = meetings::create(
        &s.db,
        ctx.actor()?,
        &input,
        meetings::Provenance::default(),
        today(),
    )
    .await?;
    Ok(Redirect::to(&format!("/meetings/{}", m.meeting.id)).into_response())
}
