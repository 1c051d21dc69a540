//! Page: find a region by name or code; a region with its children and its pairings.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use xietong_core::domain::RegionCode;
use xietong_core::error::{Error, Result};
use xietong_core::registry::pairings::{self, PairingFilter};
use xietong_core::registry::regions;
use xietong_core::web::{AppState, Ctx};

use crate::api::registry::visible_ids;

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
            let code = RegionCode::parse(code).map_err(|e| Error::Invalid(vec![e]))?;
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
            let filter = PairingFilter {
                region: Some(r.code.clone()),
                limit: Some(200),
                ..Default::default()
            };
            pairings::list(&s.db, &filter, visible.as_deref()).await?.0
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
