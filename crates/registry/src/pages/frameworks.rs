//! Pages: home, the framework list, a framework with its governance and pairings.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use xietong_core::audit;
use xietong_core::error::Result;
use xietong_core::permissions::{Action, Kind, Resource};
use xietong_core::registry::frameworks::{self, FrameworkForm, FrameworkInput, Source};
use xietong_core::registry::pairings::{self, PairingFilter};
use xietong_core::web::{AppState, CsrfForm, Ctx};
use xietong_core::write::require;

use super::{form_failure, FormFailure};

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
    let can_change = super::may(&ctx, Action::Update, &detail.framework.resource());
    let history = audit::history(&s.db, "framework", &id.to_string()).await?;
    Ok(ctx
        .render(
            &s,
            "framework.html",
            minijinja::context! { f => detail.framework, parties => detail.parties, bodies => detail.bodies, pairings, total, can_edit, can_change, history },
        )?
        .into_response())
}

async fn render_form(
    s: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    input: &FrameworkForm,
    failure: Option<FormFailure>,
) -> Result<Response> {
    let kinds: Vec<_> = frameworks::KINDS
        .iter()
        .map(|k| minijinja::context! { value => k, key => format!("framework.kind.{k}") })
        .collect();
    let (errors, alert, status) = match failure {
        Some(f) => (f.errors, f.alert, f.status),
        None => (Default::default(), None, StatusCode::OK),
    };
    // Errors on one party (`parties[2]`) are shown on the parties field.
    let mut errors = errors;
    if let Some(k) = errors.keys().find(|k| k.starts_with("parties[")).cloned() {
        let message = errors.remove(&k).unwrap_or_default();
        errors.entry("parties".into()).or_insert(message);
    }
    let page = ctx.render(
        s,
        "framework_form.html",
        minijinja::context! { id, input, kinds, errors, alert },
    )?;
    Ok((status, page).into_response())
}

pub async fn new_form(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    require(
        ctx.actor.as_ref(),
        Action::Create,
        &Resource::new(Kind::Framework),
    )?;
    let input = FrameworkForm {
        kind: "economic_circle".into(),
        public: Some("on".into()),
        ..Default::default()
    };
    render_form(&s, &ctx, None, &input, None).await
}

pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<FrameworkForm>,
) -> Result<Response> {
    let input: FrameworkInput = form.clone().into();
    match frameworks::create(&s.db, ctx.actor()?, &input, Source::default()).await {
        Ok(d) => {
            s.frameworks.invalidate();
            Ok(Redirect::to(&format!("/frameworks/{}", d.framework.id)).into_response())
        }
        Err(e) => render_form(&s, &ctx, None, &form, Some(form_failure(e, &ctx)?)).await,
    }
}

pub async fn edit_form(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response> {
    let d = frameworks::detail(&s.db, id).await?;
    require(ctx.actor.as_ref(), Action::Update, &d.framework.resource())?;
    render_form(&s, &ctx, Some(id), &FrameworkForm::from(&d), None).await
}

pub async fn update(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FrameworkForm>,
) -> Result<Response> {
    let input: FrameworkInput = form.clone().into();
    match frameworks::update(&s.db, ctx.actor()?, id, &input).await {
        Ok(_) => {
            s.frameworks.invalidate();
            Ok(Redirect::to(&format!("/frameworks/{id}")).into_response())
        }
        Err(e) => render_form(&s, &ctx, Some(id), &form, Some(form_failure(e, &ctx)?)).await,
    }
}
