//! The report card page, its publication, and the public page.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::Decision;
use xietong_core::web::{AppState, CsrfForm, Ctx};

use crate::api::{as_of, readable_card};
use crate::periods::month_key;
use crate::periods::Period;
use crate::permissions;
use crate::store::card::{self, ReportCard};
use crate::store::reporting::{status_of, ReportingStatus};
use crate::store::rollups;
use crate::units;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PageQuery {
    framework: Option<i64>,
    as_of: Option<String>,
    /// The indicator that weighs the network's edges and draws the monthly series.
    indicator: Option<String>,
}

/// A bar against the target (or the largest pairing when there is none).
#[derive(Serialize)]
struct Bar {
    label: String,
    display: String,
    width: i64,
    target_display: Option<String>,
    progress: Option<i64>,
}

#[derive(Serialize)]
struct Node {
    x: i64,
    y: i64,
    label: String,
}

#[derive(Serialize)]
struct Edge {
    x1: i64,
    y1: i64,
    x2: i64,
    y2: i64,
    width: String,
    title: String,
}

#[derive(Serialize)]
struct Network {
    height: i64,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

/// Regions as nodes (side a on the left, side b on the right), pairings as edges whose width
/// follows the chosen indicator.
fn network(c: &ReportCard, k: usize) -> Network {
    let lefts: Vec<(&str, &str)> = c
        .sides
        .iter()
        .find(|s| s.side == "a")
        .map(|s| {
            s.regions
                .iter()
                .map(|r| (r.code.as_str(), r.name_zh.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let mut rights: Vec<(&str, &str)> = c
        .sides
        .iter()
        .find(|s| s.side == "b")
        .map(|s| {
            s.regions
                .iter()
                .map(|r| (r.code.as_str(), r.name_zh.as_str()))
                .collect()
        })
        .unwrap_or_default();
    // Each right node sits level with its first partner, so one-to-one pairings draw straight.
    let partner_rank = |code: &str| {
        c.pairings
            .iter()
            .filter(|p| p.party_b == code)
            .filter_map(|p| lefts.iter().position(|(l, _)| *l == p.party_a))
            .min()
            .unwrap_or(usize::MAX)
    };
    rights.sort_by_key(|(code, _)| partner_rank(code));
    let rows = lefts.len().max(rights.len()).max(1) as i64;
    let height = 40 + rows * 30;
    let y = |i: usize, n: usize| 30 + (i as i64 * (height - 60)) / (n.max(2) as i64 - 1).max(1);
    let pos = |code: &str| -> (i64, i64) {
        if let Some(i) = lefts.iter().position(|(c, _)| *c == code) {
            (170, y(i, lefts.len()))
        } else if let Some(i) = rights.iter().position(|(c, _)| *c == code) {
            (530, y(i, rights.len()))
        } else {
            (350, height / 2)
        }
    };
    let max = c
        .pairings
        .iter()
        .map(|p| p.values.get(k).copied().unwrap_or(0))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut nodes: Vec<Node> = lefts
        .iter()
        .map(|(code, name)| {
            let (x, y) = pos(code);
            Node {
                x,
                y,
                label: name.to_string(),
            }
        })
        .collect();
    nodes.extend(rights.iter().map(|(code, name)| {
        let (x, y) = pos(code);
        Node {
            x,
            y,
            label: name.to_string(),
        }
    }));
    let edges = c
        .pairings
        .iter()
        .map(|p| {
            let (x1, y1) = pos(&p.party_a);
            let (x2, y2) = pos(&p.party_b);
            let v = p.values.get(k).copied().unwrap_or(0);
            Edge {
                x1,
                y1,
                x2,
                y2,
                width: format!("{:.1}", 0.8 + 7.2 * v as f64 / max as f64),
                title: format!(
                    "{}—{}：{}",
                    p.party_a_name_zh,
                    p.party_b_name_zh,
                    p.displays.get(k).cloned().unwrap_or_default()
                ),
            }
        })
        .collect();
    Network {
        height,
        nodes,
        edges,
    }
}

fn bars(c: &ReportCard, k: usize) -> Vec<Bar> {
    let max = c
        .pairings
        .iter()
        .map(|p| p.targets[k].unwrap_or(0).max(p.values[k]))
        .max()
        .unwrap_or(0)
        .max(1);
    c.pairings
        .iter()
        .map(|p| {
            let v = p.values[k];
            let unit = units::Unit::parse(&c.indicators[k].unit).unwrap_or(units::UNITS[0]);
            Bar {
                label: format!("{}—{}", p.party_a_name_zh, p.party_b_name_zh),
                display: p.displays[k].clone(),
                width: v * 100 / max,
                target_display: p.targets[k].map(|t| units::display(t, unit)),
                progress: p.targets[k].and_then(|t| crate::rules::progress_percent(v, t)),
            }
        })
        .collect()
}

async fn series(s: &AppState, c: &ReportCard, k: usize) -> Result<Vec<Bar>> {
    let Some(line) = c.indicators.get(k) else {
        return Ok(Vec::new());
    };
    let day =
        xietong_core::domain::text::date("as_of", &c.as_of).map_err(|e| Error::Invalid(vec![e]))?;
    let from = month_key(crate::periods::year_before(day));
    let months = rollups::monthly(&s.db, c.framework_id, line.id, &from, &month_key(day)).await?;
    let max = months.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let unit = units::Unit::parse(&line.unit).unwrap_or(units::UNITS[0]);
    Ok(months
        .into_iter()
        .map(|(m, v)| Bar {
            label: m,
            display: units::display(v, unit),
            width: v * 100 / max,
            target_display: None,
            progress: None,
        })
        .collect())
}

async fn render_card(
    s: &AppState,
    ctx: &Ctx,
    c: ReportCard,
    indicator: Option<&str>,
    template: &str,
    reporting: Option<ReportingStatus>,
) -> Result<Response> {
    let k = indicator
        .and_then(|code| c.indicators.iter().position(|l| l.code == code))
        .or_else(|| c.indicators.iter().position(|l| l.combine != "count_pairs"))
        .unwrap_or(0);
    let chosen = c
        .indicators
        .get(k)
        .map(|l| l.code.clone())
        .unwrap_or_default();
    let network = network(&c, k);
    let bars = if c.indicators.is_empty() {
        Vec::new()
    } else {
        bars(&c, k)
    };
    let series = series(s, &c, k).await?;
    let frameworks = s.frameworks.visible(&s.db, ctx.actor.as_ref()).await?;
    let can_publish = permissions::manage(ctx.actor.as_ref(), c.framework_id) == Decision::Allow;
    let values = minijinja::context! { c, chosen, network, bars, series, frameworks, can_publish, reporting };
    Ok(ctx.render(s, template, values)?.into_response())
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
                .find(|f| f.key == "YQLQ")
                .or(frameworks.first())
                .map(|f| f.id)
        })
        .ok_or_else(|| Error::not_found("framework", "any"))?;
    let day = as_of(q.as_of.as_deref())?;
    let c = readable_card(&s, &ctx, framework, day).await?;
    // Coordinators see who has not reported for the as-of month, so they can chase it.
    let reporting = if permissions::manage(ctx.actor.as_ref(), framework) == Decision::Allow {
        Some(status_of(&s.db, framework, &Period::month_of(day)).await?)
    } else {
        None
    };
    render_card(
        &s,
        &ctx,
        c,
        q.indicator.as_deref(),
        "indicators/card.html",
        reporting,
    )
    .await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishForm {
    framework: i64,
    as_of: String,
}

pub async fn publish(
    State(s): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<PublishForm>,
) -> Result<Response> {
    let day =
        xietong_core::domain::text::date("as_of", &f.as_of).map_err(|e| Error::Invalid(vec![e]))?;
    card::publish(&s.db, ctx.actor()?, f.framework, day).await?;
    Ok(Redirect::to(&format!(
        "/indicators?framework={}&as_of={day}",
        f.framework
    ))
    .into_response())
}

/// The latest published card of a framework, for anyone.
pub async fn public(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(key): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    let fw = xietong_core::registry::frameworks::by_key(&s.db, &key).await?;
    let day = card::latest_published(&s.db, fw.id)
        .await?
        .ok_or_else(|| Error::not_found("published report card", &key))?;
    let day =
        xietong_core::domain::text::date("as_of", &day).map_err(|e| Error::Invalid(vec![e]))?;
    let c = card::build_from(&s.db, &*crate::api::catalogue_of(&s).await?, &fw, day).await?;
    render_card(
        &s,
        &ctx,
        c,
        q.indicator.as_deref(),
        "indicators/public.html",
        None,
    )
    .await
}
