//! Indicators' storage: the catalogue, agreements and targets, values, activities, the
//! roll-ups kept current on every write, and the report card read from them.

pub mod activities;
pub mod agreements;
pub mod card;
pub mod catalogue;
pub mod reporting;
pub mod rollups;
pub mod values;

use std::collections::BTreeMap;

use time::Date;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::{Actor, Decision};
use xietong_core::write::Write;
use xietong_core::Db;

use crate::permissions;

/// What the rules need to know about a pairing.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PairingFacts {
    pub id: i64,
    pub framework_id: i64,
    pub party_a: String,
    pub party_b: String,
    pub party_a_name_zh: String,
    pub party_b_name_zh: String,
    pub started_on: Option<String>,
    pub status: String,
    pub ended_on: Option<String>,
}

impl PairingFacts {
    pub fn label(&self) -> String {
        format!("{}—{}", self.party_a_name_zh, self.party_b_name_zh)
    }

    pub fn ended(&self) -> Option<Date> {
        self.ended_on
            .as_deref()
            .and_then(|s| xietong_core::domain::text::date("ended_on", s).ok())
    }

    /// Whether figures dated `day` fall inside the pairing's life: an ended pairing without an
    /// end date takes none.
    pub fn alive_on(&self, day: Date) -> bool {
        match (self.status.as_str(), self.ended()) {
            (_, Some(end)) => day <= end,
            ("ended", None) => false,
            _ => true,
        }
    }

    pub fn started(&self) -> Option<Date> {
        self.started_on
            .as_deref()
            .and_then(|s| xietong_core::domain::text::date("started_on", s).ok())
    }
}

const PAIRING_FACTS: &str = "SELECT p.id, p.framework_id, p.party_a, p.party_b, ra.name_zh AS party_a_name_zh, rb.name_zh AS party_b_name_zh, p.started_on, p.status, p.ended_on
  FROM pairings p JOIN regions ra ON ra.code = p.party_a JOIN regions rb ON rb.code = p.party_b";

pub async fn pairing(db: &Db, id: i64) -> Result<PairingFacts> {
    sqlx::query_as(&format!("{PAIRING_FACTS} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("pairing", id))
}

/// A framework's pairings by id, in a stable order.
pub async fn pairings_of(db: &Db, framework_id: i64) -> Result<BTreeMap<i64, PairingFacts>> {
    let rows: Vec<PairingFacts> = sqlx::query_as(&format!(
        "{PAIRING_FACTS} WHERE p.framework_id = $1 ORDER BY p.id"
    ))
    .bind(framework_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|p| (p.id, p)).collect())
}

/// The region the actor's organisation lies in.
pub async fn actor_region(db: &Db, actor: &Actor) -> Result<Option<String>> {
    let Some(org) = actor.organisation_id else {
        return Ok(None);
    };
    let row: Option<(String,)> =
        sqlx::query_as("SELECT region_code FROM organisations WHERE id = $1")
            .bind(org)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|r| r.0))
}

/// Whether the actor may report for `pairing`.
pub fn may_report(actor: Option<&Actor>, pairing: &PairingFacts, region: Option<&str>) -> Decision {
    permissions::report(
        actor,
        pairing.framework_id,
        [pairing.party_a.as_str(), pairing.party_b.as_str()],
        region,
    )
}

/// Authorizes a write touching each of `pairings` (every one must be allowed).
pub async fn authorize_pairings<'a>(
    db: &Db,
    w: &mut Write<'a>,
    pairings: impl IntoIterator<Item = &PairingFacts>,
) -> Result<()> {
    let actor = w.actor().clone();
    let region = actor_region(db, &actor).await?;
    let mut any = false;
    for p in pairings {
        w.authorize_decision(may_report(Some(&actor), p, region.as_deref()))?;
        any = true;
    }
    if !any {
        return Err(Error::invalid(
            "pairing",
            "nothing_to_write",
            "没有可写入的内容",
            "there is nothing to write",
        ));
    }
    Ok(())
}
