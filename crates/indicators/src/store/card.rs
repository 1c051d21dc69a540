//! The report card (成绩单) of a framework as of a date: per pairing, per side and in total,
//! against the year's targets and the same day a year earlier — read from the roll-ups.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;
use xietong_core::audit::Change;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::Actor;
use xietong_core::registry::frameworks::Framework;
use xietong_core::Db;

use super::catalogue::Catalogue;
use super::{agreements, pairings_of, rollups, PairingFacts};
use crate::periods::year_before;
use crate::permissions;
use crate::rules::{self, CardIndicator, Combine};
use crate::units;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportCard {
    pub framework_id: i64,
    pub framework_key: String,
    pub framework_name_zh: String,
    pub framework_name_en: String,
    pub as_of: String,
    pub year: i64,
    /// Whether a coordinator published the card for this date (then anyone may read it).
    pub published: bool,
    pub pairs_total: i64,
    /// Pairings with an annual agreement for the year, signed by the as-of date.
    pub pairs_with_agreement: i64,
    pub indicators: Vec<CardLine>,
    pub pairings: Vec<PairingLine>,
    pub sides: Vec<SideLine>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CardLine {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub combine: String,
    /// The framework total in the base unit (fen for money).
    pub total: i64,
    /// The total in the indicator's unit, exact (`4.39` for 亿元).
    pub total_in_unit: String,
    /// The total as people read it (`4.39亿元`).
    pub display: String,
    /// Sum of the pairings' targets for the year, in the base unit.
    pub target: Option<i64>,
    pub target_display: Option<String>,
    pub progress_percent: Option<i64>,
    /// The total on the same day a year earlier.
    pub last_year: i64,
    pub last_year_display: String,
    /// Pairings whose figure is above zero.
    pub pairs_above_zero: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PairingLine {
    pub pairing_id: i64,
    pub party_a: String,
    pub party_b: String,
    pub party_a_name_zh: String,
    pub party_b_name_zh: String,
    pub agreement_signed: bool,
    /// One figure per card indicator, in card order, in base units.
    pub values: Vec<i64>,
    pub displays: Vec<String>,
    pub targets: Vec<Option<i64>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SideLine {
    /// `a` (e.g. 主城协同区, the helping districts) or `b` (the paired districts).
    pub side: String,
    pub totals: Vec<i64>,
    pub displays: Vec<String>,
    pub regions: Vec<RegionLine>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionLine {
    pub code: String,
    pub name_zh: String,
    pub values: Vec<i64>,
}

/// The card read with a fresh copy of the catalogue and the framework.
pub async fn build(db: &Db, framework_id: i64, as_of: Date) -> Result<ReportCard> {
    let catalogue = Catalogue::load(db).await?;
    let fw = xietong_core::registry::frameworks::get(db, framework_id).await?;
    build_within(db, &catalogue, &fw, None, as_of).await
}

/// The card read with copies of the catalogue and the framework the caller holds.
pub async fn build_from(
    db: &Db,
    catalogue: &Catalogue,
    fw: &Framework,
    as_of: Date,
) -> Result<ReportCard> {
    build_within(db, catalogue, fw, None, as_of).await
}

/// The card restricted to one pairing: what a pairing's page shows, without reading the others.
/// The page compares nothing with a year earlier, so that reading is skipped: every
/// `last_year` of this card is zero, and `published` is false.
///
/// Whether the pairing signed its annual agreement is read from `agreements`, all of the
/// pairing's agreements, which the caller holds (the page lists them).
pub async fn build_for_pairing(
    db: &Db,
    catalogue: &Catalogue,
    fw: &Framework,
    pairing: PairingFacts,
    agreements: &[agreements::Agreement],
    as_of: Date,
) -> Result<ReportCard> {
    build_within(db, catalogue, fw, Some((pairing, agreements)), as_of).await
}

async fn build_within(
    db: &Db,
    catalogue: &Catalogue,
    fw: &Framework,
    only_pairing: Option<(PairingFacts, &[agreements::Agreement])>,
    as_of: Date,
) -> Result<ReportCard> {
    let framework_id = fw.id;
    let only = only_pairing.as_ref().map(|(p, _)| p.id);
    let indicators = catalogue.for_framework(framework_id);
    let all = &catalogue.all;
    let id_of = |code: &str| all.iter().find(|i| i.code == code).map(|i| i.id);
    let card_indicators: Vec<CardIndicator> = indicators
        .iter()
        .map(|i| CardIndicator {
            id: i.id,
            code: i.code.clone(),
            combine: i.combine(),
            basis_id: i.basis_code.as_deref().and_then(id_of),
        })
        .collect();
    let year = i64::from(as_of.year());
    let day = as_of.to_string();
    let (pairings, targets, signed) = match only_pairing {
        Some((p, agreements)) => {
            let targets = agreements::targets_of_pairing(db, p.id, year).await?;
            let signed = if agreements::annual_signed_by(agreements, year, &day) {
                vec![p.id]
            } else {
                Vec::new()
            };
            (BTreeMap::from([(p.id, p)]), targets, signed)
        }
        None => (
            pairings_of(db, framework_id).await?,
            agreements::targets(db, framework_id, year).await?,
            agreements::pairs_signed(db, framework_id, year, &day).await?,
        ),
    };
    let pairing_ids: Vec<i64> = pairings.keys().copied().collect();
    let reading = rollups::Reading::of(all, &indicators);
    let now = rollups::as_of_within(db, &reading, framework_id, only, as_of).await?;
    let then = if only.is_some() {
        BTreeMap::new()
    } else {
        last_year_totals(
            db,
            &reading,
            framework_id,
            &card_indicators,
            &pairing_ids,
            year_before(as_of),
        )
        .await?
    };
    let totals = rules::framework_totals(&card_indicators, &pairing_ids, &now);
    let last_year = then;
    let target_of: BTreeMap<(i64, i64), i64> = targets
        .iter()
        .map(|t| ((t.pairing_id, t.indicator_id), t.amount))
        .collect();
    let published = only.is_none() && is_published(db, framework_id, &day).await?;

    let lines = indicators
        .iter()
        .zip(&card_indicators)
        .map(|(ind, ci)| {
            let unit = ind.unit();
            let total = totals.get(&ind.id).copied().unwrap_or(0);
            let target: Option<i64> = {
                let ts: Vec<i64> = pairing_ids
                    .iter()
                    .filter_map(|p| target_of.get(&(*p, ind.id)).copied())
                    .collect();
                (!ts.is_empty()).then(|| ts.iter().sum())
            };
            let show = |n: i64| show_amount(n, ind.combine(), unit);
            CardLine {
                id: ind.id,
                code: ind.code.clone(),
                name_zh: ind.name_zh.clone(),
                name_en: ind.name_en.clone(),
                unit: ind.unit.clone(),
                combine: ind.combine.clone(),
                total,
                total_in_unit: units::format_in(total, unit),
                display: show(total),
                target,
                target_display: target.map(show),
                progress_percent: target.and_then(|t| rules::progress_percent(total, t)),
                last_year: last_year.get(&ind.id).copied().unwrap_or(0),
                last_year_display: show(last_year.get(&ind.id).copied().unwrap_or(0)),
                pairs_above_zero: pairing_ids
                    .iter()
                    .filter(|p| rules::pairing_amount(ci, **p, &now) > 0)
                    .count() as i64,
            }
        })
        .collect();

    let mut sides: BTreeMap<&str, BTreeMap<String, RegionLine>> = BTreeMap::new();
    let mut pairing_lines = Vec::new();
    for p in pairings.values() {
        let values: Vec<i64> = card_indicators
            .iter()
            .map(|ci| rules::pairing_amount(ci, p.id, &now))
            .collect();
        for (side, code, name) in [
            ("a", &p.party_a, &p.party_a_name_zh),
            ("b", &p.party_b, &p.party_b_name_zh),
        ] {
            let line = sides
                .entry(side)
                .or_default()
                .entry(code.clone())
                .or_insert_with(|| RegionLine {
                    code: code.clone(),
                    name_zh: name.clone(),
                    values: vec![0; values.len()],
                });
            for (acc, v) in line.values.iter_mut().zip(&values) {
                *acc += v;
            }
        }
        pairing_lines.push(PairingLine {
            pairing_id: p.id,
            party_a: p.party_a.clone(),
            party_b: p.party_b.clone(),
            party_a_name_zh: p.party_a_name_zh.clone(),
            party_b_name_zh: p.party_b_name_zh.clone(),
            agreement_signed: signed.contains(&p.id),
            displays: values
                .iter()
                .zip(&indicators)
                .map(|(v, i)| show_amount(*v, i.combine(), i.unit()))
                .collect(),
            targets: indicators
                .iter()
                .map(|i| target_of.get(&(p.id, i.id)).copied())
                .collect(),
            values,
        });
    }
    let sides = sides
        .into_iter()
        .map(|(side, regions)| {
            let regions: Vec<RegionLine> = regions.into_values().collect();
            let mut totals = vec![0; indicators.len()];
            for r in &regions {
                for (acc, v) in totals.iter_mut().zip(&r.values) {
                    *acc += v;
                }
            }
            let displays = totals
                .iter()
                .zip(&indicators)
                .map(|(v, i)| show_amount(*v, i.combine(), i.unit()))
                .collect();
            SideLine {
                side: side.to_string(),
                totals,
                displays,
                regions,
            }
        })
        .collect();
    Ok(ReportCard {
        framework_id,
        framework_key: fw.key.clone(),
        framework_name_zh: fw.name_zh.clone(),
        framework_name_en: fw.name_en.clone(),
        as_of: day,
        year,
        published,
        pairs_total: pairing_ids.len() as i64,
        pairs_with_agreement: signed.len() as i64,
        indicators: lines,
        pairings: pairing_lines,
        sides,
    })
}

/// Framework totals on the day a year earlier: sums added up by the database; per pairing only
/// where a total is not a plain sum (stocks, the bases of counts of pairs).
async fn last_year_totals(
    db: &Db,
    reading: &rollups::Reading,
    framework_id: i64,
    indicators: &[CardIndicator],
    pairing_ids: &[i64],
    day: Date,
) -> Result<BTreeMap<i64, i64>> {
    let mut per_pairing_ids: Vec<i64> = indicators
        .iter()
        .filter(|i| i.combine == Combine::Latest)
        .map(|i| i.id)
        .chain(indicators.iter().filter_map(|i| i.basis_id))
        .collect();
    per_pairing_ids.sort_unstable();
    per_pairing_ids.dedup();
    let t = rollups::totals_as_of(db, reading, framework_id, day, &per_pairing_ids).await?;
    let from_pairings = rules::framework_totals(indicators, pairing_ids, &t.per_pairing);
    Ok(indicators
        .iter()
        .map(|i| {
            let total = if i.combine == Combine::CountPairs || per_pairing_ids.contains(&i.id) {
                from_pairings.get(&i.id).copied().unwrap_or(0)
            } else {
                t.sums.get(&i.id).copied().unwrap_or(0)
            };
            (i.id, total)
        })
        .collect())
}

fn show_amount(n: i64, combine: Combine, unit: units::Unit) -> String {
    match combine {
        Combine::CountPairs => format!("{n}对"),
        _ => units::display(n, unit),
    }
}

pub async fn is_published(db: &Db, framework_id: i64, day: &str) -> Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM report_card_publications WHERE framework_id = $1 AND as_of = $2",
    )
    .bind(framework_id)
    .bind(day)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.is_some())
}

/// The latest published as-of date of a framework's card.
pub async fn latest_published(db: &Db, framework_id: i64) -> Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT as_of FROM report_card_publications WHERE framework_id = $1 ORDER BY as_of DESC LIMIT 1")
        .bind(framework_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| r.0))
}

/// Publishes the card of a framework as of a date, so the public page shows it.
pub async fn publish(db: &Db, actor: &Actor, framework_id: i64, as_of: Date) -> Result<()> {
    let day = as_of.to_string();
    if as_of > crate::today() {
        return Err(Error::invalid(
            "as_of",
            "date_in_future",
            "不能发布未来日期的成绩单",
            "a card cannot be published for a future date",
        ));
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), framework_id))?;
    sqlx::query("INSERT INTO report_card_publications (framework_id, as_of, published_by, published_at) VALUES ($1, $2, $3, $4) ON CONFLICT (framework_id, as_of) DO NOTHING")
        .bind(framework_id)
        .bind(&day)
        .bind(&actor.username)
        .bind(xietong_core::clock::now_rfc3339())
        .execute(w.conn())
        .await?;
    w.record(Change::created(
        "report_card_publication",
        format!("{framework_id}/{day}"),
        serde_json::json!({"framework_id": framework_id, "as_of": day}),
    ))
    .await?;
    w.commit().await?;
    Ok(())
}
