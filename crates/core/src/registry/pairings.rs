//! Pairings: two parties that work together within a framework (结对 / 对口).

use serde::{Deserialize, Serialize};

use crate::audit::Change;
use crate::db::filter::page;
use crate::db::filter::Filter;
use crate::domain::{text, RegionCode};
use crate::error::{Error, FieldError, Msg, Problems, Result};
use crate::permissions::{Action, Actor, Kind, Resource};
use crate::registry::{frameworks, regions};
use crate::Db;

pub const STATUSES: &[&str] = &["active", "ended"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Pairing {
    pub id: i64,
    pub framework_id: i64,
    pub framework_key: String,
    pub framework_name_zh: String,
    pub framework_name_en: String,
    pub party_a: String,
    pub party_a_name_zh: String,
    pub party_a_name_en: String,
    pub party_b: String,
    pub party_b_name_zh: String,
    pub party_b_name_en: String,
    pub started_on: Option<String>,
    pub status: String,
    /// When the pairing ended (only for `ended`; unknown when absent).
    pub ended_on: Option<String>,
    pub note_zh: String,
    pub note_en: String,
    pub owner_org_id: Option<i64>,
    pub source_seed: Option<String>,
    pub source_quote: Option<String>,
    pub generated: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A pairing as lists show it: who, in which framework, in what state — without provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PairingSummary {
    pub id: i64,
    pub framework_id: i64,
    pub framework_key: String,
    pub party_a: String,
    pub party_a_name_zh: String,
    pub party_a_name_en: String,
    pub party_b: String,
    pub party_b_name_zh: String,
    pub party_b_name_en: String,
    pub started_on: Option<String>,
    pub status: String,
    pub note_zh: String,
    pub generated: i64,
}

impl Pairing {
    pub fn resource(&self, framework_public: bool) -> Resource {
        Resource::new(Kind::Pairing)
            .in_framework(self.framework_id)
            .owned_by(self.owner_org_id)
            .public(framework_public)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairingInput {
    pub framework_id: i64,
    /// Region code of the first-named (usually the helping) party.
    pub party_a: String,
    pub party_b: String,
    #[serde(default)]
    pub started_on: String,
    #[serde(default = "active")]
    pub status: String,
    /// `YYYY-MM-DD`, for an ended pairing.
    #[serde(default)]
    pub ended_on: String,
    #[serde(default)]
    pub note_zh: String,
    #[serde(default)]
    pub note_en: String,
    #[serde(default)]
    pub owner_org_id: Option<i64>,
}

fn active() -> String {
    "active".into()
}

#[derive(Debug, Clone)]
pub struct ValidPairing {
    pub framework_id: i64,
    pub party_a: RegionCode,
    pub party_b: RegionCode,
    pub started_on: Option<String>,
    pub status: String,
    pub ended_on: Option<String>,
    pub note_zh: String,
    pub note_en: String,
    pub owner_org_id: Option<i64>,
}

impl PairingInput {
    pub fn parse(&self) -> Result<ValidPairing> {
        let mut p = Problems::new();
        let a = p.take(RegionCode::parse(&self.party_a).map_err(|e| FieldError {
            field: "party_a".into(),
            ..e
        }));
        let b = p.take(RegionCode::parse(&self.party_b).map_err(|e| FieldError {
            field: "party_b".into(),
            ..e
        }));
        let started_on = p.take(text::optional_date("started_on", &self.started_on));
        let ended_on = p.take(text::optional_date("ended_on", &self.ended_on));
        if let (Some(Some(start)), Some(Some(end))) = (started_on, ended_on) {
            if end < start {
                p.push(FieldError::new(
                    "ended_on",
                    "ends_before_start",
                    Msg::new("结束日期早于建立日期", "the end date is before the start"),
                ));
            }
        }
        if matches!(ended_on, Some(Some(_))) && self.status != "ended" {
            p.push(FieldError::new(
                "ended_on",
                "end_needs_ended",
                Msg::new(
                    "填写结束日期时，状态应为“已终止”",
                    "a pairing with an end date must have the status ended",
                ),
            ));
        }
        let status = if STATUSES.contains(&self.status.as_str()) {
            Some(self.status.clone())
        } else {
            p.push(FieldError::new(
                "status",
                "value_unknown",
                Msg::new(
                    "状态无效，可选：active、ended",
                    "invalid status; one of: active, ended",
                ),
            ));
            None
        };
        let note_zh = p.take(text::optional("note_zh", &self.note_zh, 500));
        let note_en = p.take(text::optional("note_en", &self.note_en, 1000));
        if let (Some(a), Some(b)) = (a, b) {
            if a == b {
                p.push(FieldError::new(
                    "party_b",
                    "pairing_self",
                    Msg::new("不能与自身结对", "a party cannot be paired with itself"),
                ));
            }
        }
        p.into_result()?;
        let (Some(party_a), Some(party_b)) = (a, b) else {
            return Err(Error::Internal("parties parsed".into()));
        };
        Ok(ValidPairing {
            framework_id: self.framework_id,
            party_a,
            party_b,
            started_on: started_on.flatten().map(text::format_date),
            status: status.unwrap_or_default(),
            ended_on: ended_on.flatten().map(text::format_date),
            note_zh: note_zh.unwrap_or_default(),
            note_en: note_en.unwrap_or_default(),
            owner_org_id: self.owner_org_id,
        })
    }
}

/// Refuses a party that lies outside every party of the framework.
pub fn check_inside(
    framework_parties: &[RegionCode],
    field: &str,
    party: &RegionCode,
) -> Result<(), FieldError> {
    if framework_parties.iter().any(|fp| party.is_within(fp)) {
        Ok(())
    } else {
        let list = framework_parties
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Err(FieldError::new(
            field,
            "party_outside_framework",
            Msg::new(
                format!("{party} 不属于该协作机制的参与方（{list}）"),
                format!("{party} is not within any party of this framework ({list})"),
            ),
        ))
    }
}

/// The two parties in sorted order, so A–B and B–A are the same pairing.
pub fn ordered(a: &RegionCode, b: &RegionCode) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

const SELECT: &str = "SELECT p.id, p.framework_id, f.key AS framework_key, f.name_zh AS framework_name_zh, f.name_en AS framework_name_en,
       p.party_a, ra.name_zh AS party_a_name_zh, ra.name_en AS party_a_name_en,
       p.party_b, rb.name_zh AS party_b_name_zh, rb.name_en AS party_b_name_en,
       p.started_on, p.status, p.ended_on, p.note_zh, p.note_en, p.owner_org_id, p.source_seed, p.source_quote, p.generated, p.created_at, p.updated_at
  FROM pairings p
  JOIN frameworks f ON f.id = p.framework_id
  JOIN regions ra ON ra.code = p.party_a
  JOIN regions rb ON rb.code = p.party_b";

pub async fn get(db: &Db, id: i64) -> Result<Pairing> {
    sqlx::query_as(&format!("{SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("pairing", id))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PairingFilter {
    /// A region code: pairings this region is a party to, in any framework.
    #[serde(default)]
    pub region: Option<String>,
    /// Framework id.
    #[serde(default)]
    pub framework: Option<i64>,
    #[serde(default)]
    pub status: Option<String>,
    /// Part of either party's name.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

/// Lists pairings matching `f` within the frameworks `visible` (None: all frameworks).
const SELECT_SUMMARY: &str = "SELECT p.id, p.framework_id, f.key AS framework_key,
       p.party_a, ra.name_zh AS party_a_name_zh, ra.name_en AS party_a_name_en,
       p.party_b, rb.name_zh AS party_b_name_zh, rb.name_en AS party_b_name_en,
       p.started_on, p.status, p.note_zh, p.generated
  FROM pairings p
  JOIN frameworks f ON f.id = p.framework_id
  JOIN regions ra ON ra.code = p.party_a
  JOIN regions rb ON rb.code = p.party_b";

pub async fn list(
    db: &Db,
    f: &PairingFilter,
    visible: Option<&[i64]>,
) -> Result<(Vec<PairingSummary>, i64)> {
    let mut w = Filter::new();
    if let Some(r) = f.region.as_deref().filter(|s| !s.trim().is_empty()) {
        let code = RegionCode::parse(r).map_err(|e| {
            Error::Invalid(vec![FieldError {
                field: "region".into(),
                ..e
            }])
        })?;
        w.text("(p.party_a = ? OR p.party_b = ?)", code.to_string());
    }
    if let Some(framework) = f.framework {
        w.int("p.framework_id = ?", framework);
    }
    if let Some(status) = f.status.as_deref().filter(|s| !s.is_empty()) {
        w.text("p.status = ?", status);
    }
    let q = f.q.as_deref().unwrap_or("").trim().replace(['%', '_'], "");
    let needs_names = !q.is_empty();
    if needs_names {
        w.text("(ra.name_zh LIKE ? OR rb.name_zh LIKE ? OR LOWER(ra.name_en) LIKE LOWER(?) OR LOWER(rb.name_en) LIKE LOWER(?))", format!("%{q}%"));
    }
    // Framework ids are integers we produced ourselves, so listing them inline is safe.
    match visible {
        None => {}
        Some([]) => {
            w.raw("1 = 0");
        }
        Some(ids) => {
            let list = ids
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",");
            w.raw(format!("p.framework_id IN ({list})"));
        }
    }
    let (limit, offset) = page(f.limit, f.offset);
    let n = w.next_placeholder();
    let sql = format!(
        "{SELECT_SUMMARY} {} ORDER BY p.framework_id, p.id LIMIT ${n} OFFSET ${}",
        w.sql(),
        n + 1
    );
    let rows: Vec<PairingSummary> = w
        .bind_as(sqlx::query_as(&sql))
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    // Counting needs the region names only when searching by name.
    let joins = if needs_names {
        "JOIN regions ra ON ra.code = p.party_a JOIN regions rb ON rb.code = p.party_b"
    } else {
        ""
    };
    let count_sql = format!("SELECT COUNT(*) FROM pairings p {joins} {}", w.sql());
    let (total,): (i64,) = w
        .bind_as(sqlx::query_as(&count_sql))
        .fetch_one(db.pool())
        .await?;
    Ok((rows, total))
}

async fn validate_against_framework(db: &Db, v: &ValidPairing) -> Result<frameworks::Framework> {
    let framework = frameworks::get(db, v.framework_id)
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::invalid(
                "framework_id",
                "framework_unknown",
                "协作机制不存在",
                "the framework does not exist",
            ),
            other => other,
        })?;
    regions::require_known(db, "party_a", &v.party_a).await?;
    regions::require_known(db, "party_b", &v.party_b).await?;
    let parties: Vec<RegionCode> = frameworks::parties(db, framework.id)
        .await?
        .iter()
        .filter_map(|r| RegionCode::parse(&r.code).ok())
        .collect();
    let mut p = Problems::new();
    p.take(check_inside(&parties, "party_a", &v.party_a));
    p.take(check_inside(&parties, "party_b", &v.party_b));
    p.into_result()?;
    Ok(framework)
}

fn duplicate(e: sqlx::Error) -> Error {
    Error::from(e).on_unique(
        "pairing_duplicate",
        "这两个参与方在该协作机制中已经结对",
        "these two parties are already paired in this framework",
    )
}

/// Where a seeded pairing came from.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub seed: Option<String>,
    pub quote: Option<String>,
    pub generated: bool,
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &PairingInput,
    provenance: Provenance,
) -> Result<Pairing> {
    let v = input.parse()?;
    let framework = validate_against_framework(db, &v).await?;
    let mut w = db.write(actor).await?;
    w.authorize(
        Action::Create,
        &Resource::new(Kind::Pairing)
            .in_framework(framework.id)
            .owned_by(v.owner_org_id),
    )?;
    let (lo, hi) = ordered(&v.party_a, &v.party_b);
    let now = crate::clock::now_rfc3339();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO pairings (framework_id, party_a, party_b, party_lo, party_hi, started_on, status, note_zh, note_en, owner_org_id, source_seed, source_quote, generated, created_at, updated_at, ended_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15) RETURNING id",
    )
    .bind(framework.id)
    .bind(v.party_a.as_str())
    .bind(v.party_b.as_str())
    .bind(lo)
    .bind(hi)
    .bind(&v.started_on)
    .bind(&v.status)
    .bind(&v.note_zh)
    .bind(&v.note_en)
    .bind(v.owner_org_id)
    .bind(&provenance.seed)
    .bind(&provenance.quote)
    .bind(provenance.generated as i64)
    .bind(&now)
    .bind(&v.ended_on)
    .fetch_one(w.conn())
    .await
    .map_err(duplicate)?;
    let created: Pairing = sqlx::query_as(&format!("{SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_one(w.conn())
        .await?;
    w.record(Change::created("pairing", id, &created)).await?;
    w.commit().await?;
    Ok(created)
}

pub async fn update(db: &Db, actor: &Actor, id: i64, input: &PairingInput) -> Result<Pairing> {
    let v = input.parse()?;
    let before = get(db, id).await?;
    let framework = validate_against_framework(db, &v).await?;
    let mut w = db.write(actor).await?;
    w.authorize(Action::Update, &before.resource(false))?;
    w.authorize(
        Action::Update,
        &Resource::new(Kind::Pairing)
            .in_framework(framework.id)
            .owned_by(before.owner_org_id),
    )?;
    let (lo, hi) = ordered(&v.party_a, &v.party_b);
    sqlx::query(
        "UPDATE pairings SET framework_id = $1, party_a = $2, party_b = $3, party_lo = $4, party_hi = $5, started_on = $6,
                status = $7, note_zh = $8, note_en = $9, updated_at = $10, ended_on = $12 WHERE id = $11",
    )
    .bind(framework.id)
    .bind(v.party_a.as_str())
    .bind(v.party_b.as_str())
    .bind(lo)
    .bind(hi)
    .bind(&v.started_on)
    .bind(&v.status)
    .bind(&v.note_zh)
    .bind(&v.note_en)
    .bind(crate::clock::now_rfc3339())
    .bind(id)
    .bind(&v.ended_on)
    .execute(w.conn())
    .await
    .map_err(duplicate)
    .map_err(|e| {
        // Figures and activities carry their pairing's framework (a composite foreign key).
        e.on_foreign_key(
            "pairing_framework_in_use",
            "该结对已有指标数值或活动记录，不能改到其他协作机制",
            "the pairing has figures or activities and cannot move to another framework",
        )
    })?;
    let after: Pairing = sqlx::query_as(&format!("{SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_one(w.conn())
        .await?;
    w.record(Change::updated("pairing", id, &before, &after))
        .await?;
    w.commit().await?;
    Ok(after)
}

pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<()> {
    let before = get(db, id).await?;
    let mut w = db.write(actor).await?;
    w.authorize(Action::Delete, &before.resource(false))?;
    sqlx::query("DELETE FROM pairings WHERE id = $1")
        .bind(id)
        .execute(w.conn())
        .await
        .map_err(Error::from)
        .map_err(|e| {
            e.on_foreign_key(
                "pairing_in_use",
                "该结对已有协议、指标或活动记录，不能删除；可将其状态改为已终止",
                "the pairing has agreements, figures or activities and cannot be deleted; set it to ended instead",
            )
        })?;
    w.record(Change::deleted("pairing", id, &before)).await?;
    w.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    fn input(a: &str, b: &str) -> PairingInput {
        PairingInput {
            framework_id: 1,
            party_a: a.into(),
            party_b: b.into(),
            status: "active".into(),
            ended_on: String::new(),
            ..Default::default()
        }
    }

    #[test]
    fn a_party_cannot_pair_with_itself() {
        let Err(Error::Invalid(e)) = input("500236", "500236").parse() else {
            panic!()
        };
        assert_eq!(e[0].code, "pairing_self");
    }

    #[test]
    fn parties_must_lie_within_the_framework() {
        let ly = [code("370000"), code("500000")];
        assert!(check_inside(&ly, "party_a", &code("371600")).is_ok());
        assert!(check_inside(&ly, "party_b", &code("500236")).is_ok());
        let err = check_inside(&ly, "party_b", &code("510700")).unwrap_err();
        assert_eq!(err.code, "party_outside_framework");
        assert!(err.message.en.contains("510700"));
    }

    #[test]
    fn order_does_not_make_a_new_pairing() {
        assert_eq!(
            ordered(&code("500236"), &code("371600")),
            ordered(&code("371600"), &code("500236"))
        );
    }

    #[test]
    fn unknown_status_is_refused() {
        let mut i = input("500106", "500236");
        i.status = "paused".into();
        let Err(Error::Invalid(e)) = i.parse() else {
            panic!()
        };
        assert_eq!(e[0].field, "status");
    }
}
