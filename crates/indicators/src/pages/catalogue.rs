//! The indicator catalogue: whoever is signed in reads it; admins edit an entry's names, its
//! unit (within the same dimension), how its values combine and whether more is better.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use xietong_core::error::Result;
use xietong_core::permissions::Decision;
use xietong_core::web::{form_refusal, AppState, CsrfForm, Ctx};

use crate::permissions;
use crate::store::catalogue::{self, IndicatorEdit};
use crate::units;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditForm {
    name_zh: String,
    name_en: String,
    unit: String,
    combine: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    higher_is_better: Option<String>,
}

/// The units an entry may switch to: those of its own dimension.
fn units_like(unit: &str) -> Vec<&'static str> {
    let Some(u) = units::Unit::parse(unit) else {
        return Vec::new();
    };
    units::UNITS
        .iter()
        .filter(|v| v.dimension == u.dimension)
        .map(|v| v.symbol)
        .collect()
}

async fn render(
    s: &AppState,
    ctx: &Ctx,
    refused: Option<(&str, String)>,
    status: StatusCode,
) -> Result<Response> {
    ctx.actor()?;
    let items: Vec<_> = catalogue::all(&s.db)
        .await?
        .into_iter()
        .map(|i| {
            let choices = units_like(&i.unit);
            minijinja::context! { i, choices }
        })
        .collect();
    let can_edit = permissions::edit_catalogue(ctx.actor.as_ref()) == Decision::Allow;
    let (refused_code, message) = refused.unzip();
    let combines = ["sum", "count_events", "latest", "count_pairs"];
    let values = minijinja::context! { items, can_edit, refused_code, message, combines };
    let mut r = ctx
        .render(s, "indicators/catalogue.html", values)?
        .into_response();
    *r.status_mut() = status;
    Ok(r)
}

pub async fn page(State(s): State<AppState>, ctx: Ctx) -> Result<Response> {
    render(&s, &ctx, None, StatusCode::OK).await
}

pub async fn edit(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> Result<Response> {
    let actor = ctx.actor()?;
    let edit = IndicatorEdit {
        name_zh: Some(form.name_zh),
        name_en: Some(form.name_en),
        unit: Some(form.unit),
        combine: Some(form.combine),
        higher_is_better: Some(form.higher_is_better.is_some()),
    };
    match catalogue::edit(&s.db, actor, &code, &edit).await {
        Ok(_) => {
            crate::api::catalogue_changed(&s);
            Ok(Redirect::to(&format!("/indicators/catalogue#{code}")).into_response())
        }
        Err(e) => match form_refusal(&ctx, &e, true) {
            Some((message, status)) => render(&s, &ctx, Some((&code, message)), status).await,
            None => Err(e),
        },
    }
}
