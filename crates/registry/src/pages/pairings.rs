//! Pages: the pairing list with filters, a pairing with its history, the create/edit form.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use xietong_core::audit;
use xietong_core::db::filter::page;
use xietong_core::error::Result;
use xietong_core::permissions::Action;
use xietong_core::registry::pairings::{self, PairingFilter, PairingInput};
use xietong_core::web::{AppState, CsrfForm, Ctx};

use super::{enc, form_failure, may, FormFailure};
use crate::api::registry::{readable_pairing, visible_ids};

pub async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(f): Query<PairingFilter>,
) -> Result<Response> {
    let visible = visible_ids(&s, &ctx).await?;
    let (items, total) = pairings::list(&s.db, &f, visible.as_deref()).await?;
    let (limit, offset) = page(f.limit, f.offset);
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    let base = format!(
        "/pairings?q={}&region={}&framework={}&status={}",
        enc(f.q.as_deref()),
        enc(f.region.as_deref()),
        f.framework.map(|i| i.to_string()).unwrap_or_default(),
        enc(f.status.as_deref())
    );
    let values = minijinja::context! {
        items, total, limit, offset, frameworks, base,
        q => f.q, region => f.region, framework => f.framework, status => f.status,
        can_create => ctx.actor.is_some(),
    };
    Ok(ctx.render(&s, "pairings.html", values)?.into_response())
}

/// The form, for a new pairing (`id` none) or an existing one.
async fn render_form(
    s: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    input: &PairingInput,
    failure: Option<FormFailure>,
) -> Result<Response> {
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    let options: Vec<_> = frameworks
        .iter()
        .map(|f| minijinja::context! { value => f.id, label => ctx.lang.pick(&f.name_zh, &f.name_en).to_string() })
        .collect();
    let (errors, alert, status) = match failure {
        Some(f) => (f.errors, f.alert, f.status),
        None => (Default::default(), None, StatusCode::OK),
    };
    let page = ctx.render(
        s,
        "pairing_form.html",
        minijinja::context! { id, input, options, errors, alert },
    )?;
    Ok((status, page).into_response())
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    framework: Option<i64>,
}

pub async fn new_form(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewQuery>,
) -> Result<Response> {
    ctx.actor()?;
    let input = PairingInput {
        framework_id: q.framework.unwrap_or(0),
        status: "active".into(),
        ..Default::default()
    };
    render_form(&s, &ctx, None, &input, None).await
}

pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    CsrfForm(input): CsrfForm<PairingInput>,
) -> Result<Response> {
    match pairings::create(&s.db, ctx.actor()?, &input, pairings::Provenance::default()).await {
        Ok(p) => Ok(Redirect::to(&format!("/pairings/{}", p.id)).into_response()),
        Err(e) => render_form(&s, &ctx, None, &input, Some(form_failure(e, &ctx)?)).await,
    }
}

pub async fn detail(State(s): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response> {
    let p = readable_pairing(&s, &ctx, id).await?;
    let history = audit::history(&s.db, "pairing", &id.to_string()).await?;
    let can_edit = may(&ctx, Action::Update, &p.resource(false));
    let can_delete = may(&ctx, Action::Delete, &p.resource(false));
    Ok(ctx
        .render(
            &s,
            "pairing.html",
            minijinja::context! { p, history, can_edit, can_delete },
        )?
        .into_response())
}

pub async fn edit_form(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response> {
    let p = readable_pairing(&s, &ctx, id).await?;
    xietong_core::write::require(ctx.actor.as_ref(), Action::Update, &p.resource(false))?;
    let input = PairingInput {
        framework_id: p.framework_id,
        party_a: p.party_a,
        party_b: p.party_b,
        started_on: p.started_on.unwrap_or_default(),
        status: p.status,
        ended_on: p.ended_on.unwrap_or_default(),
        note_zh: p.note_zh,
        note_en: p.note_en,
        owner_org_id: p.owner_org_id,
    };
    render_form(&s, &ctx, Some(id), &input, None).await
}

pub async fn update(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<PairingInput>,
) -> Result<Response> {
    match pairings::update(&s.db, ctx.actor()?, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/pairings/{id}")).into_response()),
        Err(e) => render_form(&s, &ctx, Some(id), &input, Some(form_failure(e, &ctx)?)).await,
    }
}

#[derive(Deserialize)]
pub struct Nothing {}

pub async fn delete(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Nothing>,
) -> Result<Response> {
    pairings::delete(&s.db, ctx.actor()?, id).await?;
    Ok(Redirect::to("/pairings").into_response())
}
