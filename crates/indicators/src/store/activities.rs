//! Cooperation activities (visits, exchanged personnel, trainings, purchases, land-quota trades,
//! parks, scenic sites, projects, firms…). Indicators derive from them, so nobody types the same
//! figure twice; roll-ups move in the same transaction.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use xietong_core::audit::Change;
use xietong_core::domain::text;
use xietong_core::error::{Error, FieldError, Msg, Problems, Result};
use xietong_core::permissions::Actor;
use xietong_core::Db;

use super::rollups::{self, Delta};
use super::{authorize_pairings, PairingFacts};
use crate::periods::month_key;
use crate::rules::{self, ActivityKind, Measures};
use crate::units::{self, Unit};

/// An activity as a form or the API sends it. Measures are typed with their units, e.g.
/// `1.875亿元`, `7.5万亩`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ActivityInput {
    pub pairing_id: i64,
    /// visit, exchange, training, purchase, land_trade, park, scenic, project, tech_transfer,
    /// financing, eco_compensation, firm
    pub kind: String,
    /// exchange: cadre/professional/medical/teacher; purchase: consumption/supply_chain;
    /// land_trade: forest_area/farmland_balance
    pub category: String,
    pub occurred_on: String,
    pub ended_on: String,
    pub title_zh: String,
    /// a_to_b, b_to_a or mutual
    pub direction: String,
    pub headcount: String,
    pub amount: String,
    pub area: String,
    pub weight: String,
    pub batch: Option<i64>,
    pub from_org_id: Option<i64>,
    pub to_org_id: Option<i64>,
    pub post: String,
    pub note: String,
    #[serde(skip)]
    pub generated: bool,
    #[serde(skip)]
    pub source_quote: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Activity {
    pub id: i64,
    pub framework_id: i64,
    pub pairing_id: i64,
    pub kind: String,
    pub category: String,
    pub occurred_on: String,
    pub ended_on: Option<String>,
    pub title_zh: String,
    pub direction: String,
    pub headcount: i64,
    /// Fen.
    pub amount: i64,
    pub area_mu: i64,
    pub weight_kg: i64,
    pub batch: Option<i64>,
    pub from_org_id: Option<i64>,
    pub to_org_id: Option<i64>,
    pub post: String,
    pub note: String,
    pub generated: i64,
    pub source_quote: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

const SELECT: &str = "SELECT id, framework_id, pairing_id, kind, category, occurred_on, ended_on, title_zh, direction, headcount, amount, area_mu, weight_kg, batch, from_org_id, to_org_id, post, note, generated, source_quote, created_by, created_at FROM activities";

/// A checked activity, ready to write.
#[derive(Debug, Clone)]
struct Checked {
    input_index: usize,
    pairing: PairingFacts,
    kind: ActivityKind,
    category: String,
    occurred_on: time::Date,
    ended_on: Option<time::Date>,
    title: String,
    direction: String,
    measures: Measures,
}

fn err(field: String, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new(field, code, Msg::new(zh, en))
}

fn quantity(field: &str, input: &str, unit: &str) -> Result<i64, FieldError> {
    if input.trim().is_empty() {
        return Ok(0);
    }
    units::parse_quantity(field, input, Unit::parse(unit).unwrap_or(units::UNITS[0]))
}

fn check_one(
    i: usize,
    input: &ActivityInput,
    pairing: &PairingFacts,
    problems: &mut Problems,
) -> Option<Checked> {
    let f = |name: &str| format!("activities[{i}].{name}");
    let Some(kind) = ActivityKind::parse(input.kind.trim()) else {
        problems.push(err(
            f("kind"),
            "kind_unknown",
            format!("未知活动类型“{}”", input.kind),
            format!("unknown kind of activity “{}”", input.kind),
        ));
        return None;
    };
    let category = input.category.trim().to_string();
    if kind.categories().is_empty() != category.is_empty()
        || (!category.is_empty() && !kind.categories().contains(&category.as_str()))
    {
        problems.push(err(
            f("category"),
            "category_invalid",
            format!("类别应为：{}", kind.categories().join("、")),
            format!(
                "the category must be one of: {}",
                kind.categories().join(", ")
            ),
        ));
    }
    let occurred_on = problems.take(text::date(&f("occurred_on"), &input.occurred_on));
    let ended_on = problems
        .take(text::optional_date(&f("ended_on"), &input.ended_on))
        .flatten();
    let title = problems.take(text::bounded(&f("title_zh"), &input.title_zh, 1, 200));
    let direction = input.direction.trim().to_string();
    if !["", "a_to_b", "b_to_a", "mutual"].contains(&direction.as_str()) {
        problems.push(err(
            f("direction"),
            "direction_invalid",
            "方向应为 a_to_b、b_to_a 或 mutual".into(),
            "the direction must be a_to_b, b_to_a or mutual".into(),
        ));
    }
    let headcount = problems.take(quantity(&f("headcount"), &input.headcount, "人"));
    let amount = problems.take(quantity(&f("amount"), &input.amount, "元"));
    let area = problems.take(quantity(&f("area"), &input.area, "亩"));
    let weight = problems.take(quantity(&f("weight"), &input.weight, "公斤"));
    let needs_people = matches!(kind, ActivityKind::Exchange | ActivityKind::Training);
    if needs_people && headcount == Some(0) {
        problems.push(err(
            f("headcount"),
            "headcount_required",
            "请填写人数".into(),
            "give the number of people".into(),
        ));
    }
    if kind == ActivityKind::LandTrade && area == Some(0) {
        problems.push(err(
            f("area"),
            "area_required",
            "请填写交易面积（亩）".into(),
            "give the traded area in mu".into(),
        ));
    }
    if let Some(b) = input.batch {
        if !(1..=99).contains(&b) {
            problems.push(err(
                f("batch"),
                "batch_invalid",
                "批次应在1到99之间".into(),
                "the batch must be between 1 and 99".into(),
            ));
        }
    }
    let today = crate::today();
    if let Some(d) = occurred_on {
        if d > today {
            problems.push(err(
                f("occurred_on"),
                "date_in_future",
                format!("日期{d}在今天之后"),
                format!("{d} is after today"),
            ));
        }
        if let Some(start) = pairing.started() {
            if d < start {
                problems.push(err(
                    f("occurred_on"),
                    "before_pairing",
                    format!("日期{d}早于结对建立日期{start}"),
                    format!("{d} is before the pairing started on {start}"),
                ));
            }
        }
        if !pairing.alive_on(d) {
            let when = pairing.ended_on.clone().unwrap_or_default();
            problems.push(err(
                f("occurred_on"),
                "pairing_ended",
                format!("结对已于{when}终止，日期{d}在此之后"),
                format!("the pairing ended {when}, before {d}"),
            ));
        }
        if let Some(e) = ended_on {
            if e < d {
                problems.push(err(
                    f("ended_on"),
                    "ends_before_start",
                    "结束日期早于开始日期".into(),
                    "the end date is before the start".into(),
                ));
            }
        }
    }
    Some(Checked {
        input_index: i,
        pairing: pairing.clone(),
        kind,
        category,
        occurred_on: occurred_on?,
        ended_on,
        title: title?,
        direction,
        measures: Measures {
            events: 1,
            headcount: headcount?,
            amount: amount?,
            area_mu: area?,
            weight_kg: weight?,
        },
    })
}

/// Records activities all-or-nothing. Refused: a pairing outside its life, bad measures, and an
/// activity feeding an indicator already typed by hand for the same pairing and period.
pub async fn record(
    db: &Db,
    actor: &Actor,
    inputs: &[ActivityInput],
    origin: &str,
) -> Result<Vec<i64>> {
    let mut problems = Problems::new();
    let mut checked = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let pairing = match super::pairing(db, input.pairing_id).await {
            Ok(p) => p,
            Err(Error::NotFound { .. }) => {
                problems.push(err(
                    format!("activities[{i}].pairing_id"),
                    "pairing_unknown",
                    format!("结对{}不存在", input.pairing_id),
                    format!("pairing {} does not exist", input.pairing_id),
                ));
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(c) = check_one(i, input, &pairing, &mut problems) {
            checked.push(c);
        }
    }
    refuse_double_entry(db, &checked, &mut problems).await?;
    problems.into_result()?;
    let (_, ids) = rollups::combines(db).await?;
    let mut w = db.write(actor).await?;
    let pairings: Vec<&PairingFacts> = checked.iter().map(|c| &c.pairing).collect();
    authorize_pairings(db, &mut w, pairings).await?;
    let now = xietong_core::clock::now_rfc3339();
    let mut created = Vec::new();
    let mut deltas = Vec::new();
    for c in &checked {
        let input = &inputs[c.input_index];
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO activities (framework_id, pairing_id, kind, category, occurred_on, ended_on, month, title_zh, direction, headcount, amount, area_mu, weight_kg, batch, from_org_id, to_org_id, post, note, generated, source_quote, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) RETURNING id",
        )
        .bind(c.pairing.framework_id)
        .bind(c.pairing.id)
        .bind(c.kind.as_str())
        .bind(&c.category)
        .bind(c.occurred_on.to_string())
        .bind(c.ended_on.map(|d| d.to_string()))
        .bind(month_key(c.occurred_on))
        .bind(&c.title)
        .bind(&c.direction)
        .bind(c.measures.headcount)
        .bind(c.measures.amount)
        .bind(c.measures.area_mu)
        .bind(c.measures.weight_kg)
        .bind(input.batch)
        .bind(input.from_org_id)
        .bind(input.to_org_id)
        .bind(input.post.trim())
        .bind(input.note.trim())
        .bind(i64::from(input.generated))
        .bind(input.source_quote.clone())
        .bind(&actor.username)
        .bind(&now)
        .fetch_one(w.conn())
        .await?;
        created.push(id);
        deltas.extend(deltas_of(
            c.pairing.framework_id,
            c.pairing.id,
            &month_key(c.occurred_on),
            rules::contributions(c.kind, &c.category, &c.measures),
            &ids,
            1,
        ));
    }
    rollups::apply(w.conn(), &deltas).await?;
    let change = match checked.as_slice() {
        [one] => Change::created(
            "activity",
            created[0],
            serde_json::json!({"pairing_id": one.pairing.id, "kind": one.kind.as_str(), "title_zh": one.title, "occurred_on": one.occurred_on.to_string()}),
        ),
        _ => Change::created(
            "activities",
            origin,
            serde_json::json!({"count": created.len()}),
        ),
    };
    w.record(change).await?;
    w.commit().await?;
    Ok(created)
}

fn deltas_of(
    framework_id: i64,
    pairing_id: i64,
    month: &str,
    contributions: Vec<(&'static str, i64)>,
    ids: &std::collections::BTreeMap<String, i64>,
    sign: i64,
) -> Vec<Delta> {
    contributions
        .into_iter()
        .filter_map(|(code, amount)| {
            Some(Delta {
                framework_id,
                pairing_id,
                indicator_id: *ids.get(code)?,
                month: month.to_string(),
                amount: sign * amount,
            })
        })
        .collect()
}

async fn refuse_double_entry(db: &Db, checked: &[Checked], problems: &mut Problems) -> Result<()> {
    for c in checked {
        let codes: BTreeSet<&str> = rules::contributions(c.kind, &c.category, &c.measures)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        if codes.is_empty() {
            continue;
        }
        let list: Vec<String> = codes.iter().map(|c| format!("'{c}'")).collect();
        let day = c.occurred_on.to_string();
        let typed: Option<(String, String)> = sqlx::query_as(&format!(
            "SELECT i.name_zh, v.period FROM indicator_values v JOIN indicators i ON i.id = v.indicator_id
              WHERE v.pairing_id = $1 AND v.status = 'current' AND v.period_start <= $2 AND v.period_end >= $2
                AND i.code IN ({}) LIMIT 1",
            list.join(", ")
        ))
        .bind(c.pairing.id)
        .bind(&day)
        .fetch_optional(db.pool())
        .await?;
        if let Some((name, period)) = typed {
            problems.push(err(format!("activities[{}].kind", c.input_index), "double_entry", format!("该结对{period}已手工填报“{name}”，再记录此活动会重复计算；请先撤回手工数值"), format!("“{name}” was typed by hand for this pairing in {period}; recording this activity would count it twice — withdraw the typed value first")));
        }
    }
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Activity> {
    sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("activity", id))
}

/// A pairing's latest `limit` activities, newest first.
pub async fn of_pairing(db: &Db, pairing_id: i64, limit: i64) -> Result<Vec<Activity>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE pairing_id = $1 ORDER BY occurred_on DESC, id DESC LIMIT $2"
    ))
    .bind(pairing_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Deletes an activity; the roll-ups lose what it contributed.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<()> {
    let a = get(db, id).await?;
    let pairing = super::pairing(db, a.pairing_id).await?;
    let (_, ids) = rollups::combines(db).await?;
    let kind = ActivityKind::parse(&a.kind)
        .ok_or_else(|| Error::Internal(format!("activity {id} has kind {}", a.kind)))?;
    let measures = Measures {
        events: 1,
        headcount: a.headcount,
        amount: a.amount,
        area_mu: a.area_mu,
        weight_kg: a.weight_kg,
    };
    let mut w = db.write(actor).await?;
    authorize_pairings(db, &mut w, [&pairing]).await?;
    let gone = sqlx::query("DELETE FROM activities WHERE id = $1")
        .bind(id)
        .execute(w.conn())
        .await?;
    if gone.rows_affected() != 1 {
        return Err(Error::not_found("activity", id));
    }
    let month = &a.occurred_on[..7];
    rollups::apply(
        w.conn(),
        &deltas_of(
            a.framework_id,
            a.pairing_id,
            month,
            rules::contributions(kind, &a.category, &measures),
            &ids,
            -1,
        ),
    )
    .await?;
    w.record(Change::deleted("activity", id, &a)).await?;
    w.commit().await?;
    Ok(())
}
