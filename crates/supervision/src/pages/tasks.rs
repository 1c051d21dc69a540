//! Pages: the task list and a task with its timeline, report form and closing form.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Serialize;
use xietong_core::audit;
use xietong_core::db::filter::page;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::Decision;
use xietong_core::web::{AppState, CsrfForm, Ctx};

use crate::api::today;
use crate::domain::{LagRules, Period, TaskStatus};
use crate::permissions;
use crate::store::evidence::Uploads;
use crate::store::sweep;
use crate::store::tasks::{self, ReportInput, ResolveInput, TaskFilter};

async fn areas(s: &AppState) -> Result<Vec<(String, String, String)>> {
    Ok(
        sqlx::query_as("SELECT key, name_zh, name_en FROM areas ORDER BY position")
            .fetch_all(s.db.pool())
            .await?,
    )
}

pub async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(f): Query<TaskFilter>,
) -> Result<Response> {
    let visible = s.frameworks.visible_ids(&s.db, ctx.actor.as_ref()).await?;
    let (items, total) = tasks::list(&s.db, &f, visible.as_deref()).await?;
    let (limit, offset) = page(f.limit, f.offset);
    // Unit staff see what their organisation must deliver this month before anything else.
    let mine = match ctx.actor.as_ref().and_then(|a| a.organisation_id) {
        Some(org) => {
            let due = TaskFilter {
                unit: Some(org),
                due: Some(Period::of(today()).to_string()),
                limit: Some(20),
                ..Default::default()
            };
            tasks::list(&s.db, &due, visible.as_deref()).await?.0
        }
        None => vec![],
    };
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    let statuses: Vec<&str> = TaskStatus::ALL.iter().map(|s| s.as_str()).collect();
    let enc = |v: Option<&str>| urlencoding::encode(v.unwrap_or("")).into_owned();
    let base = format!(
        "/tasks?framework={}&year={}&area={}&status={}&q={}",
        f.framework.map(|v| v.to_string()).unwrap_or_default(),
        f.year.map(|v| v.to_string()).unwrap_or_default(),
        enc(f.area.as_deref()),
        enc(f.status.as_deref()),
        enc(f.q.as_deref())
    );
    let can_sweep = ctx
        .actor
        .as_ref()
        .is_some_and(|a| sweep::may_run(a) == Decision::Allow);
    // Coordinators (and admins) keep the task book, so they may import it.
    let can_import = ctx
        .actor
        .as_ref()
        .is_some_and(|a| a.is_admin() || a.has_role(xietong_core::permissions::Role::Coordinator));
    let values = minijinja::context! {
        items, total, limit, offset, base, mine, frameworks, statuses, can_sweep, can_import, areas => areas(&s).await?,
        framework => f.framework, year => f.year, area => f.area, status => f.status, q => f.q,
    };
    Ok(ctx
        .render(&s, "supervision/tasks.html", values)?
        .into_response())
}

/// One entry of a task's timeline (a report carries its evidence files).
#[derive(Serialize)]
struct Event {
    at: String,
    kind: &'static str,
    text: String,
    files: Vec<crate::store::evidence::Evidence>,
}

async fn render_task(
    s: &AppState,
    ctx: &Ctx,
    id: i64,
    form_error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let t = crate::api::readable_task(s, ctx, id).await?;
    let alerts = sweep::alerts_of_task(&s.db, id).await?;
    let history = audit::history(&s.db, "task", &id.to_string()).await?;
    let mut timeline: Vec<Event> = Vec::new();
    for r in &t.reports {
        timeline.push(Event {
            at: r.reported_at.clone(),
            kind: "report",
            text: format!("{} · {}% · {}", r.period, r.percent, r.narrative_zh),
            files: t
                .evidence
                .iter()
                .filter(|e| e.report_id == r.id)
                .cloned()
                .collect(),
        });
    }
    for a in &alerts {
        let details = ctx.lang.pick(&a.details_zh, &a.details_en).to_string();
        timeline.push(Event {
            at: a.opened_at.clone(),
            kind: "alert_opened",
            text: details.clone(),
            files: vec![],
        });
        if let Some(closed) = &a.closed_at {
            timeline.push(Event {
                at: closed.clone(),
                kind: "alert_closed",
                text: details,
                files: vec![],
            });
        }
    }
    for h in &history {
        timeline.push(Event {
            at: h.at.clone(),
            kind: if h.action == "create" {
                "created"
            } else {
                "changed"
            },
            text: h.actor_name.clone(),
            files: vec![],
        });
    }
    timeline.sort_by(|a, b| b.at.cmp(&a.at));
    let owners: Vec<i64> = t.owners.iter().map(|o| o.org_id).collect();
    let can_report = t.task.resolution.is_none()
        && permissions::report(ctx.actor.as_ref(), t.task.framework_id, &owners) == Decision::Allow;
    let can_manage =
        permissions::manage(ctx.actor.as_ref(), t.task.framework_id) == Decision::Allow;
    // `d`, not `t`: templates call `t("key")` for messages.
    let values = minijinja::context! {
        d => t, timeline, can_report, can_manage, form_error, this_period => Period::of(today()).to_string(),
        open_alerts => alerts.iter().filter(|a| a.closed_at.is_none()).count(),
    };
    Ok((status, ctx.render(s, "supervision/task.html", values)?).into_response())
}

pub async fn detail(State(s): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response> {
    render_task(&s, &ctx, id, None, StatusCode::OK).await
}

/// Shows a refused form on the task page; other errors become an error page.
async fn refused(s: &AppState, ctx: &Ctx, id: i64, e: Error) -> Result<Response> {
    match xietong_core::web::form_refusal(ctx, &e, false) {
        Some((message, status)) => render_task(s, ctx, id, Some(message), status).await,
        None => Err(e),
    }
}

/// The report form is multipart when it carries evidence files (its CSRF token is then checked
/// here); a plain form is taken as well.
pub async fn file_report(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
    limit: Option<axum::Extension<crate::store::evidence::EvidenceLimit>>,
    Path(id): Path<i64>,
    req: axum::extract::Request,
) -> Result<Response> {
    use axum::extract::FromRequest;
    let actor = ctx.actor()?.clone();
    let limit = crate::api::evidence::limit_of(limit);
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (input, files) = if multipart {
        let form = axum::extract::Multipart::from_request(req, &s)
            .await
            .map_err(|_| crate::pages::imports::bad_upload())?;
        let (fields, files) = match crate::api::evidence::read_form(form, limit).await {
            Ok(f) => f,
            Err(e) => return refused(&s, &ctx, id, e).await,
        };
        let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
        if field("csrf").is_empty() || field("csrf") != ctx.csrf() {
            return Err(Error::BadRequest {
                code: "csrf_failed",
                message: xietong_core::error::Msg::new(
                    "页面已过期，请刷新后重试",
                    "the page has expired; reload it and try again",
                ),
            });
        }
        let input = ReportInput {
            period: field("period"),
            // A percentage that is not a number fails the range rule.
            percent: field("percent").trim().parse().unwrap_or(-1),
            narrative_zh: field("narrative_zh"),
        };
        (input, files)
    } else {
        let CsrfForm(input) = CsrfForm::<ReportInput>::from_request(req, &s).await?;
        (input, vec![])
    };
    match tasks::file_report_with_evidence(
        &s.db,
        &actor,
        id,
        &input,
        Uploads { files, limit },
        today(),
        &rules,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/tasks/{id}")).into_response()),
        Err(e) => refused(&s, &ctx, id, e).await,
    }
}

pub async fn resolve(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<ResolveInput>,
) -> Result<Response> {
    match tasks::resolve(&s.db, ctx.actor()?, id, &input, today(), &rules).await {
        Ok(_) => Ok(Redirect::to(&format!("/tasks/{id}")).into_response()),
        Err(e) => refused(&s, &ctx, id, e).await,
    }
}

#[derive(serde::Deserialize)]
pub struct Nothing {}

pub async fn sweep(
    State(s): State<AppState>,
    Extension(rules): Extension<LagRules>,
    ctx: Ctx,
    CsrfForm(_): CsrfForm<Nothing>,
) -> Result<Response> {
    sweep::run(&s.db, ctx.actor()?, today(), None, &rules, &s.lag_finders).await?;
    Ok(Redirect::to("/tasks?status=at_risk").into_response())
}
