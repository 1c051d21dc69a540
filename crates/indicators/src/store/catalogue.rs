//! The indicator catalogue and which indicators each framework reports.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use xietong_core::audit::Change;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::Actor;
use xietong_core::Db;

use crate::permissions;
use crate::rules::{self, Combine};
use crate::units::Unit;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Indicator {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The unit figures are typed and shown in, e.g. `万元`.
    pub unit: String,
    /// `sum`, `count_events`, `latest` or `count_pairs`.
    pub combine: String,
    /// For `count_pairs`: the indicator whose pairs above zero are counted.
    pub basis_code: Option<String>,
    pub higher_is_better: i64,
    /// The largest plausible figure for one pairing and period, in `unit`.
    pub plausible_max: Option<i64>,
    pub source_quote: Option<String>,
}

impl Indicator {
    pub fn unit(&self) -> Unit {
        // Units are checked on the way in; a catalogue row always holds a known one.
        Unit::parse(&self.unit).unwrap_or(crate::units::UNITS[0])
    }

    pub fn combine(&self) -> Combine {
        Combine::parse(&self.combine).unwrap_or(Combine::Sum)
    }

    /// Whether activities feed this indicator (so hand-typed values may collide with them).
    pub fn derivable(&self) -> bool {
        rules::is_derivable(&self.code)
    }
}

const SELECT: &str = "SELECT id, code, name_zh, name_en, unit, combine, basis_code, higher_is_better, plausible_max, source_quote FROM indicators";

#[derive(Deserialize)]
struct Seed {
    indicators: Vec<SeedIndicator>,
    frameworks: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct SeedIndicator {
    code: String,
    name_zh: String,
    name_en: String,
    unit: String,
    combine: String,
    #[serde(default)]
    basis: Option<String>,
    #[serde(default)]
    plausible_max: Option<i64>,
    quote: String,
}

const SEED: &str = include_str!("../../data/catalogue.toml");

fn seed_data() -> Result<Seed> {
    toml::from_str(SEED).map_err(|e| Error::Internal(format!("catalogue seed: {e}")))
}

/// Adds the seeded catalogue entries a database lacks; existing (possibly edited) entries stay.
pub async fn seed(db: &Db) -> Result<usize> {
    let data = seed_data()?;
    let now = xietong_core::clock::now_rfc3339();
    let mut added = 0;
    for i in &data.indicators {
        let r = sqlx::query(
            "INSERT INTO indicators (code, name_zh, name_en, unit, combine, basis_code, higher_is_better, plausible_max, source_quote, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $9) ON CONFLICT (code) DO NOTHING",
        )
        .bind(&i.code)
        .bind(&i.name_zh)
        .bind(&i.name_en)
        .bind(&i.unit)
        .bind(&i.combine)
        .bind(&i.basis)
        .bind(i.plausible_max)
        .bind(&i.quote)
        .bind(&now)
        .execute(db.pool())
        .await?;
        added += r.rows_affected() as usize;
    }
    Ok(added)
}

/// Gives each framework in the seed its list of indicators (for the demo's frameworks).
pub async fn seed_framework_lists(db: &Db) -> Result<()> {
    let data = seed_data()?;
    for (key, codes) in &data.frameworks {
        let Some((fid,)): Option<(i64,)> =
            sqlx::query_as("SELECT id FROM frameworks WHERE key = $1")
                .bind(key)
                .fetch_optional(db.pool())
                .await?
        else {
            continue;
        };
        for (position, code) in codes.iter().enumerate() {
            sqlx::query(
                "INSERT INTO framework_indicators (framework_id, indicator_id, position)
                 SELECT $1, id, $2 FROM indicators WHERE code = $3 ON CONFLICT DO NOTHING",
            )
            .bind(fid)
            .bind(position as i64)
            .bind(code)
            .execute(db.pool())
            .await?;
        }
    }
    Ok(())
}

pub async fn all(db: &Db) -> Result<Vec<Indicator>> {
    Ok(sqlx::query_as(&format!("{SELECT} ORDER BY code"))
        .fetch_all(db.pool())
        .await?)
}

/// The whole catalogue with every framework's list: what cards and pairing pages read on every
/// request, so an application keeps a copy for a couple of seconds ([`Cache`]). Writes read
/// the catalogue afresh.
#[derive(Debug, Default)]
pub struct Catalogue {
    pub all: Vec<Indicator>,
    /// Per framework, positions in `all` in the framework's order.
    lists: BTreeMap<i64, Vec<usize>>,
}

impl Catalogue {
    pub async fn load(db: &Db) -> Result<Catalogue> {
        let all = all(db).await?;
        let listed: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT fi.framework_id, fi.indicator_id
               FROM framework_indicators fi JOIN indicators i ON i.id = fi.indicator_id
              ORDER BY fi.framework_id, fi.position, i.code",
        )
        .fetch_all(db.pool())
        .await?;
        let at: HashMap<i64, usize> = all.iter().enumerate().map(|(k, i)| (i.id, k)).collect();
        let mut lists: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (framework_id, indicator_id) in listed {
            if let Some(k) = at.get(&indicator_id) {
                lists.entry(framework_id).or_default().push(*k);
            }
        }
        Ok(Catalogue { all, lists })
    }

    /// The indicators a framework reports, in its order (as [`for_framework`] reads them).
    pub fn for_framework(&self, framework_id: i64) -> Vec<Indicator> {
        self.lists
            .get(&framework_id)
            .map(|ks| ks.iter().map(|k| self.all[*k].clone()).collect())
            .unwrap_or_default()
    }
}

/// An application's copy of the [`Catalogue`]; an edit through this application drops it.
#[derive(Default)]
pub struct Cache(xietong_core::cache::Snapshot<Catalogue>);

impl Cache {
    pub async fn get(&self, db: &Db) -> Result<std::sync::Arc<Catalogue>> {
        self.0.get(|| Catalogue::load(db)).await
    }

    pub fn invalidate(&self) {
        self.0.invalidate();
    }
}

/// The indicators a framework reports, in its order.
pub async fn for_framework(db: &Db, framework_id: i64) -> Result<Vec<Indicator>> {
    Ok(sqlx::query_as(
        "SELECT i.id, i.code, i.name_zh, i.name_en, i.unit, i.combine, i.basis_code, i.higher_is_better, i.plausible_max, i.source_quote
           FROM indicators i JOIN framework_indicators fi ON fi.indicator_id = i.id
          WHERE fi.framework_id = $1 ORDER BY fi.position, i.code")
    .bind(framework_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn by_code(db: &Db, code: &str) -> Result<Indicator> {
    sqlx::query_as(&format!("{SELECT} WHERE code = $1"))
        .bind(code)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("indicator", code))
}

/// What an admin may change on a catalogue entry. The unit may change only within its dimension
/// and how values combine only while nothing is recorded, so stored amounts keep their meaning.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct IndicatorEdit {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub unit: Option<String>,
    pub combine: Option<String>,
    pub higher_is_better: Option<bool>,
}

pub async fn edit(db: &Db, actor: &Actor, code: &str, edit: &IndicatorEdit) -> Result<Indicator> {
    let before = by_code(db, code).await?;
    let mut after = before.clone();
    if let Some(n) = &edit.name_zh {
        after.name_zh = xietong_core::domain::text::bounded("name_zh", n, 1, 100)
            .map_err(|e| Error::Invalid(vec![e]))?;
    }
    if let Some(n) = &edit.name_en {
        after.name_en = xietong_core::domain::text::bounded("name_en", n, 1, 200)
            .map_err(|e| Error::Invalid(vec![e]))?;
    }
    if let Some(u) = &edit.unit {
        let unit = Unit::parse(u).ok_or_else(|| {
            Error::invalid(
                "unit",
                "unit_unknown",
                format!("未知单位“{u}”"),
                format!("unknown unit “{u}”"),
            )
        })?;
        if unit.dimension != before.unit().dimension {
            return Err(Error::invalid(
                "unit",
                "unit_mismatch",
                format!("单位“{u}”与原单位“{}”量纲不同", before.unit),
                format!(
                    "the unit “{u}” measures something else than “{}”",
                    before.unit
                ),
            ));
        }
        after.unit = unit.symbol.to_string();
    }
    if let Some(c) = &edit.combine {
        let combine = Combine::parse(c).ok_or_else(|| {
            Error::invalid(
                "combine",
                "combine_unknown",
                format!("未知汇总方式“{c}”"),
                format!("unknown way to combine “{c}”"),
            )
        })?;
        if combine != before.combine() && has_records(db, before.id).await? {
            return Err(Error::conflict(
                "indicator_in_use",
                "该指标已有数据，不能更改汇总方式",
                "the indicator has recorded figures; how they combine cannot change",
            ));
        }
        after.combine = combine.as_str().to_string();
    }
    if let Some(h) = edit.higher_is_better {
        after.higher_is_better = i64::from(h);
    }
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::edit_catalogue(Some(actor)))?;
    sqlx::query("UPDATE indicators SET name_zh = $1, name_en = $2, unit = $3, combine = $4, higher_is_better = $5, updated_at = $6 WHERE id = $7")
        .bind(&after.name_zh)
        .bind(&after.name_en)
        .bind(&after.unit)
        .bind(&after.combine)
        .bind(after.higher_is_better)
        .bind(xietong_core::clock::now_rfc3339())
        .bind(after.id)
        .execute(w.conn())
        .await?;
    w.record(Change::updated("indicator", &after.code, &before, &after))
        .await?;
    w.commit().await?;
    Ok(after)
}

async fn has_records(db: &Db, indicator_id: i64) -> Result<bool> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM indicator_rollups WHERE indicator_id = $1")
            .bind(indicator_id)
            .fetch_one(db.pool())
            .await?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_well_formed() {
        let data = seed_data().unwrap();
        let codes: Vec<&str> = data.indicators.iter().map(|i| i.code.as_str()).collect();
        for i in &data.indicators {
            assert!(
                Unit::parse(&i.unit).is_some(),
                "{} has unit {}",
                i.code,
                i.unit
            );
            let combine = Combine::parse(&i.combine).unwrap_or_else(|| panic!("{}", i.code));
            assert_eq!(
                combine == Combine::CountPairs,
                i.basis.is_some(),
                "{}",
                i.code
            );
            if let Some(b) = &i.basis {
                assert!(codes.contains(&b.as_str()), "{} basis {b}", i.code);
            }
            if rules::is_derivable(&i.code) {
                assert!(
                    combine.is_additive(),
                    "{} is fed by activities, so it adds up",
                    i.code
                );
            }
        }
        for kind in rules::ACTIVITY_KINDS {
            for code in rules::fed_by(*kind) {
                assert!(
                    codes.contains(code),
                    "{kind:?} feeds {code}, which the catalogue lacks"
                );
            }
        }
        for (fw, list) in &data.frameworks {
            for c in list {
                assert!(codes.contains(&c.as_str()), "{fw} lists {c}");
            }
        }
    }
}
