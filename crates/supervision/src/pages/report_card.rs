//! Page: the report card with its charts (bars drawn in HTML, so they print and need no script).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use xietong_core::domain::Money;
use xietong_core::error::Result;
use xietong_core::web::{AppState, Ctx};

use crate::api::{readable_card, today};
use crate::projects_rules::STAGES;
use crate::store::report_card::CardQuery;

fn show(fen: i64) -> String {
    Money::from_fen(fen).map(|m| m.ledger()).unwrap_or_default()
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[serde(default)]
    framework: Option<i64>,
    #[serde(default)]
    year: Option<i64>,
    #[serde(default)]
    as_of: Option<String>,
}

pub async fn page(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    let framework = q
        .framework
        .or_else(|| {
            frameworks
                .iter()
                .find(|f| f.key == "CY")
                .or(frameworks.first())
                .map(|f| f.id)
        })
        .unwrap_or(0);
    let year = q.year.unwrap_or(today().year() as i64);
    let query = CardQuery {
        framework,
        year,
        as_of: q.as_of.clone(),
    };
    let card = readable_card(&s, &ctx, &query).await?;
    let stage_max = card
        .projects
        .by_stage
        .iter()
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(1)
        .max(1);
    let stages: Vec<_> = STAGES
        .iter()
        .map(|st| {
            let n = card
                .projects
                .by_stage
                .iter()
                .find(|(k, _)| k == st)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            minijinja::context! { stage => st, count => n, width => n * 100 / stage_max }
        })
        .collect();
    let invest_share = if card.projects.planned_fen > 0 {
        (card.projects.completed_fen as i128 * 100 / card.projects.planned_fen as i128) as i64
    } else {
        0
    };
    let values = minijinja::context! {
        card, frameworks, framework, year, stages, invest_share,
        planned => show(card.projects.planned_fen), completed => show(card.projects.completed_fen),
    };
    Ok(ctx
        .render(&s, "supervision/report_card.html", values)?
        .into_response())
}
