//! A pairing's page: its figures against targets, the monthly reporting form (prefilled, with
//! derived figures shown beside the typed ones), activities, agreements and value history.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use xietong_core::error::{Error, Result};
use xietong_core::web::{form_refusal, AppState, CsrfForm, Ctx};

use crate::api::{as_of, readable_pairing};
use crate::periods::Period;
use crate::rules::Combine;
use crate::store::activities::{self, ActivityInput};
use crate::store::agreements::{self, AgreementInput, TargetInput};
use crate::store::values::ValueInput;
use crate::store::{self, catalogue, rollups, values};
use crate::units;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PageQuery {
    as_of: Option<String>,
    period: Option<String>,
    saved: Option<String>,
}

/// One line of the reporting form.
#[derive(Serialize)]
struct FormLine {
    code: String,
    name_zh: String,
    name_en: String,
    unit: String,
    /// Derived from activities: shown, not typed.
    derived: bool,
    value: String,
}

async fn form_lines(
    s: &AppState,
    pairing: &store::PairingFacts,
    period: &Period,
) -> Result<Vec<FormLine>> {
    let indicators = crate::api::catalogue_of(s)
        .await?
        .for_framework(pairing.framework_id);
    let typed: Vec<(i64, i64)> = sqlx::query_as("SELECT indicator_id, amount FROM indicator_values WHERE pairing_id = $1 AND period = $2 AND status = 'current'")
        .bind(pairing.id)
        .bind(period.key())
        .fetch_all(s.db.pool())
        .await?;
    let typed: BTreeMap<i64, i64> = typed.into_iter().collect();
    let mut derived: BTreeMap<&str, i64> = BTreeMap::new();
    let acts = rollups::activities_of_pairing_between(
        &s.db,
        pairing.id,
        &period.start.to_string(),
        &period.end.to_string(),
    )
    .await?;
    for a in &acts {
        for (code, n) in a.contributions() {
            *derived.entry(code).or_insert(0) += n;
        }
    }
    Ok(indicators
        .into_iter()
        .filter(|i| i.combine() != Combine::CountPairs)
        .map(|i| {
            let unit = i.unit();
            let from_activities = derived.get(i.code.as_str()).copied();
            FormLine {
                derived: i.derivable(),
                value: match (i.derivable(), from_activities, typed.get(&i.id)) {
                    (true, Some(n), _) => units::display(n, unit),
                    (true, None, _) => String::new(),
                    (false, _, Some(n)) => units::format_in(*n, unit),
                    (false, _, None) => String::new(),
                },
                code: i.code,
                name_zh: i.name_zh,
                name_en: i.name_en,
                unit: i.unit,
            }
        })
        .collect())
}

async fn render(
    s: &AppState,
    ctx: &Ctx,
    id: i64,
    q: &PageQuery,
    form_error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    render_with(s, ctx, id, q, form_error, None, status).await
}

/// The page, with a refusal shown at the form it concerns: the reporting and activity forms
/// (`form_error`) or the agreement form (`agreement_error`).
async fn render_with(
    s: &AppState,
    ctx: &Ctx,
    id: i64,
    q: &PageQuery,
    form_error: Option<String>,
    agreement_error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let day = as_of(q.as_of.as_deref())?;
    let view = readable_pairing(s, ctx, id, day).await?;
    let pairing = store::pairing(&s.db, id).await?;
    let period = match q.period.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Period::parse("period", p).map_err(|e| Error::Invalid(vec![e]))?,
        None => Period::month_of(crate::today()),
    };
    let region = match &ctx.actor {
        Some(a) => store::actor_region(&s.db, a).await?,
        None => None,
    };
    let can_report = store::may_report(ctx.actor.as_ref(), &pairing, region.as_deref())
        == xietong_core::permissions::Decision::Allow;
    let lines = form_lines(s, &pairing, &period).await?;
    let names: BTreeMap<i64, String> = crate::api::catalogue_of(s)
        .await?
        .all
        .iter()
        .map(|i| (i.id, i.name_zh.clone()))
        .collect();
    let kinds: Vec<&str> = crate::rules::ACTIVITY_KINDS
        .iter()
        .map(|k| k.as_str())
        .collect();
    let categories: Vec<&str> = crate::rules::ACTIVITY_KINDS
        .iter()
        .flat_map(|k| k.categories().iter().copied())
        .collect();
    let can_manage = crate::permissions::manage(ctx.actor.as_ref(), pairing.framework_id)
        == xietong_core::permissions::Decision::Allow;
    let this_year = crate::today().year();
    let values = minijinja::context! {
        v => view, lines, can_report, form_error, period => period.key(), saved => q.saved.is_some(), names,
        kinds, categories, can_manage, agreement_error, this_year,
    };
    Ok((status, ctx.render(s, "indicators/pairing.html", values)?).into_response())
}

pub async fn page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    render(&s, &ctx, id, &q, None, StatusCode::OK).await
}

/// The monthly reporting form: `period` and one `v_<CODE>` field per typed indicator.
pub async fn report(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response> {
    let actor = ctx.actor()?;
    let pairing = store::pairing(&s.db, id).await?;
    let period = form.get("period").cloned().unwrap_or_default();
    let names: BTreeMap<String, String> = catalogue::for_framework(&s.db, pairing.framework_id)
        .await?
        .into_iter()
        .map(|i| (i.code, i.name_zh))
        .collect();
    let inputs: Vec<ValueInput> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("v_").map(|code| (code, v)))
        .map(|(code, v)| ValueInput {
            at: names.get(code).cloned().unwrap_or_else(|| code.to_string()),
            pairing_id: id,
            indicator: code.to_string(),
            period: period.clone(),
            amount: v.clone(),
            evidence: form.get("evidence").cloned().unwrap_or_default(),
        })
        .collect();
    let q = PageQuery {
        period: Some(period.clone()),
        ..Default::default()
    };
    if inputs.is_empty() {
        let msg = ctx
            .lang
            .pick("请至少填写一项数值", "fill in at least one figure")
            .to_string();
        return render(
            &s,
            &ctx,
            id,
            &q,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match values::write(&s.db, actor, pairing.framework_id, &inputs, "form").await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/indicators/pairings/{id}?period={}&saved=1",
            urlencoding::encode(&period)
        ))
        .into_response()),
        Err(e) => match form_refusal(&ctx, &e, true) {
            Some((message, status)) => render(&s, &ctx, id, &q, Some(message), status).await,
            None => Err(e),
        },
    }
}

/// Records one activity from the pairing page's form; the indicators it feeds move at once.
pub async fn record_activity(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(mut input): CsrfForm<ActivityInput>,
) -> Result<Response> {
    let actor = ctx.actor()?;
    input.pairing_id = id;
    match activities::record(&s.db, actor, &[input], "form").await {
        Ok(_) => Ok(Redirect::to(&format!("/indicators/pairings/{id}?saved=1")).into_response()),
        Err(e) => match form_refusal(&ctx, &e, false) {
            Some((message, status)) => {
                render(&s, &ctx, id, &PageQuery::default(), Some(message), status).await
            }
            None => Err(e),
        },
    }
}

/// Records a pairing's annual agreement and the targets it sets (coordinators): up to five
/// `target_indicator_<k>` / `target_amount_<k>` pairs, figures with their unit.
pub async fn record_agreement(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response> {
    let actor = ctx.actor()?;
    let pairing = store::pairing(&s.db, id).await?;
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let targets = (0..TARGET_ROWS)
        .map(|k| TargetInput {
            indicator: field(&format!("target_indicator_{k}")),
            amount: field(&format!("target_amount_{k}")),
        })
        .filter(|t| !t.indicator.is_empty() || !t.amount.trim().is_empty())
        .collect();
    let input = AgreementInput {
        framework_id: pairing.framework_id,
        pairing_id: Some(id),
        kind: "annual".into(),
        // Not a number is refused by the year check, as 0.
        year: field("year").trim().parse().unwrap_or(0),
        title_zh: field("title_zh"),
        signed_on: field("signed_on"),
        text_zh: field("text_zh"),
        targets,
        ..Default::default()
    };
    match agreements::create(&s.db, actor, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/indicators/pairings/{id}?saved=1")).into_response()),
        Err(e) => match form_refusal(&ctx, &e, true) {
            Some((message, status)) => {
                let q = PageQuery::default();
                render_with(&s, &ctx, id, &q, None, Some(message), status).await
            }
            None => Err(e),
        },
    }
}

/// How many target rows the agreement form offers.
const TARGET_ROWS: usize = 5;
