//! Pages: the organisation list, an organisation with its history, the create/edit form.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use xietong_core::audit;
use xietong_core::error::Result;
use xietong_core::permissions::{Action, Kind, Resource};
use xietong_core::registry::organisations::{
    self, page, OrganisationFilter, OrganisationInput, Provenance, KINDS,
};
use xietong_core::web::{AppState, CsrfForm, Ctx};
use xietong_core::write::require;

use super::{enc, form_failure, may, FormFailure};

pub async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(f): Query<OrganisationFilter>,
) -> Result<Response> {
    require(
        ctx.actor.as_ref(),
        Action::Read,
        &Resource::new(Kind::Organisation),
    )?;
    let (items, total) = organisations::list(&s.db, &f).await?;
    let (limit, offset) = page(f.limit, f.offset);
    let base = format!(
        "/organisations?q={}&kind={}&region={}",
        enc(f.q.as_deref()),
        enc(f.kind.as_deref()),
        enc(f.region.as_deref())
    );
    let can_create = may(&ctx, Action::Create, &Resource::new(Kind::Organisation));
    let values = minijinja::context! { items, total, limit, offset, base, q => f.q, kind => f.kind, region => f.region, kinds => KINDS, can_create };
    Ok(ctx
        .render(&s, "organisations.html", values)?
        .into_response())
}

pub async fn detail(State(s): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response> {
    let o = organisations::get(&s.db, id).await?;
    require(ctx.actor.as_ref(), Action::Read, &o.resource())?;
    let parent = match o.parent_id {
        Some(p) => Some(organisations::get(&s.db, p).await?),
        None => None,
    };
    let history = audit::history(&s.db, "organisation", &id.to_string()).await?;
    let can_edit = may(&ctx, Action::Update, &o.resource());
    Ok(ctx
        .render(
            &s,
            "organisation.html",
            minijinja::context! { o, parent, history, can_edit },
        )?
        .into_response())
}

async fn render_form(
    s: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    input: &OrganisationInput,
    failure: Option<FormFailure>,
) -> Result<Response> {
    let kinds: Vec<_> = KINDS
        .iter()
        .map(|k| minijinja::context! { value => k, key => format!("organisation.kind.{k}") })
        .collect();
    let (errors, alert, status) = match failure {
        Some(f) => (f.errors, f.alert, f.status),
        None => (Default::default(), None, StatusCode::OK),
    };
    let page = ctx.render(
        s,
        "organisation_form.html",
        minijinja::context! { id, input, kinds, errors, alert },
    )?;
    Ok((status, page).into_response())
}

pub async fn new_form(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    require(
        ctx.actor.as_ref(),
        Action::Create,
        &Resource::new(Kind::Organisation),
    )?;
    render_form(
        &s,
        &ctx,
        None,
        &OrganisationInput {
            kind: "government".into(),
            ..Default::default()
        },
        None,
    )
    .await
}

pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    CsrfForm(input): CsrfForm<OrganisationInput>,
) -> Result<Response> {
    match organisations::create(&s.db, ctx.actor()?, &input, Provenance::default()).await {
        Ok(o) => Ok(Redirect::to(&format!("/organisations/{}", o.id)).into_response()),
        Err(e) => render_form(&s, &ctx, None, &input, Some(form_failure(e, &ctx)?)).await,
    }
}

pub async fn edit_form(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response> {
    let o = organisations::get(&s.db, id).await?;
    require(ctx.actor.as_ref(), Action::Update, &o.resource())?;
    let input = OrganisationInput {
        name_zh: o.name_zh,
        name_en: o.name_en,
        kind: o.kind,
        region_code: o.region_code,
        parent_id: o.parent_id,
    };
    render_form(&s, &ctx, Some(id), &input, None).await
}

pub async fn update(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(input): CsrfForm<OrganisationInput>,
) -> Result<Response> {
    match organisations::update(&s.db, ctx.actor()?, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/organisations/{id}")).into_response()),
        Err(e) => render_form(&s, &ctx, Some(id), &input, Some(form_failure(e, &ctx)?)).await,
    }
}
