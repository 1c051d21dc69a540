//! Pages: home, frameworks, pairings (list, form, detail), organisations, regions.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use xietong_core::audit;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::{Action, Kind, Resource};
use xietong_core::registry::organisations::{self, page, OrganisationFilter};
use xietong_core::registry::pairings::{self, PairingFilter, PairingInput};
use xietong_core::registry::{frameworks, regions};
use xietong_core::web::problem::problem_of;
use xietong_core::web::{AppState, CsrfForm, Ctx};
use xietong_core::write::require;

use crate::api::registry::{readable_pairing, visible_ids};

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

pub async fn frameworks(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    Ok(ctx
        .render(&s, "frameworks.html", minijinja::context! { frameworks })?
        .into_response())
}

pub async fn framework(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response> {
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
    let can_edit = ctx.actor.is_some()
        && xietong_core::permissions::decide(
            ctx.actor.as_ref(),
            Action::Create,
            &Resource::new(Kind::Pairing).in_framework(id),
        ) == xietong_core::permissions::Decision::Allow;
    Ok(ctx
        .render(&s, "framework.html", minijinja::context! { f => detail.framework, parties => detail.parties, bodies => detail.bodies, pairings, total, can_edit })?
        .into_response())
}

pub async fn pairings(
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
        urlenc(f.q.as_deref()),
        urlenc(f.region.as_deref()),
        f.framework.map(|i| i.to_string()).unwrap_or_default(),
        urlenc(f.status.as_deref())
    );
    Ok(ctx
        .render(
            &s,
            "pairings.html",
            minijinja::context! {
                items, total, limit, offset, frameworks, base,
                q => f.q, region => f.region, framework => f.framework, status => f.status,
                can_create => ctx.actor.is_some(),
            },
        )?
        .into_response())
}

fn urlenc(s: Option<&str>) -> String {
    s.map(|v| {
        v.replace('%', "%25")
            .replace('&', "%26")
            .replace('#', "%23")
            .replace(' ', "+")
    })
    .unwrap_or_default()
}

async fn render_pairing_form(
    s: &AppState,
    ctx: &Ctx,
    input: &PairingInput,
    errors: Option<std::collections::BTreeMap<String, String>>,
    alert: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    let options: Vec<_> = frameworks
        .iter()
        .map(|f| minijinja::context! { value => f.id, label => ctx.lang.pick(&f.name_zh, &f.name_en).to_string() })
        .collect();
    let page = ctx.render(
        s,
        "pairing_form.html",
        minijinja::context! { input, options, errors => errors.unwrap_or_default(), alert },
    )?;
    Ok((status, page).into_response())
}

#[derive(Deserialize, Default)]
pub struct NewPairingQuery {
    #[serde(default)]
    framework: Option<i64>,
}

pub async fn new_pairing(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewPairingQuery>,
) -> Result<Response> {
    ctx.actor()?;
    let input = PairingInput {
        framework_id: q.framework.unwrap_or(0),
        status: "active".into(),
        ..Default::default()
    };
    render_pairing_form(&s, &ctx, &input, None, None, StatusCode::OK).await
}

pub async fn create_pairing(
    State(s): State<AppState>,
    ctx: Ctx,
    CsrfForm(input): CsrfForm<PairingInput>,
) -> Result<Response> {
    let actor = ctx.actor()?;
    match pairings::create(&s.db, actor, &input, pairings::Provenance::default()).await {
        Ok(p) => Ok(Redirect::to(&format!("/pairings/{}", p.id)).into_response()),
        Err(e @ Error::Invalid(_)) => {
            let errors = super::field_errors(&e, ctx.lang);
            render_pairing_form(
                &s,
                &ctx,
                &input,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ Error::Conflict { .. }) => {
            let p = problem_of(&e);
            let alert = ctx.lang.pick(&p.message_zh, &p.message_en).to_string();
            render_pairing_form(&s, &ctx, &input, None, Some(alert), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

pub async fn pairing(State(s): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Result<Response> {
    let p = readable_pairing(&s, &ctx, id).await?;
    let history = audit::history(&s.db, "pairing", &id.to_string()).await?;
    Ok(ctx
        .render(&s, "pairing.html", minijinja::context! { p, history })?
        .into_response())
}

pub async fn organisations(
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
        urlenc(f.q.as_deref()),
        urlenc(f.kind.as_deref()),
        urlenc(f.region.as_deref())
    );
    Ok(ctx
        .render(&s, "organisations.html", minijinja::context! {
            items, total, limit, offset, base, q => f.q, kind => f.kind, region => f.region, kinds => organisations::KINDS,
        })?
        .into_response())
}

pub async fn organisation(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response> {
    let o = organisations::get(&s.db, id).await?;
    require(ctx.actor.as_ref(), Action::Read, &o.resource())?;
    let parent = match o.parent_id {
        Some(p) => Some(organisations::get(&s.db, p).await?),
        None => None,
    };
    let history = audit::history(&s.db, "organisation", &id.to_string()).await?;
    Ok(ctx
        .render(
            &s,
            "organisation.html",
            minijinja::context! { o, parent, history },
        )?
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RegionsQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    code: Option<String>,
}

pub async fn regions(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RegionsQuery>,
) -> Result<Response> {
    let (current, items) = match q.code.as_deref().filter(|c| !c.is_empty()) {
        Some(code) => {
            let code = xietong_core::domain::RegionCode::parse(code)
                .map_err(|e| Error::Invalid(vec![e]))?;
            (
                Some(regions::get(&s.db, &code).await?),
                regions::children(&s.db, Some(&code)).await?,
            )
        }
        None if !q.q.trim().is_empty() => (None, s.regions.search(&s.db, &q.q, None, 100).await?),
        None => (None, regions::children(&s.db, None).await?),
    };
    let pairings = match &current {
        Some(r) => {
            let visible = visible_ids(&s, &ctx).await?;
            pairings::list(
                &s.db,
                &PairingFilter {
                    region: Some(r.code.clone()),
                    limit: Some(200),
                    ..Default::default()
                },
                visible.as_deref(),
            )
            .await?
            .0
        }
        None => vec![],
    };
    Ok(ctx
        .render(
            &s,
            "regions.html",
            minijinja::context! { q => q.q, current, items, pairings },
        )?
        .into_response())
}
