//! Organisations: government bodies, departments, joint offices, working groups, enterprises…
//! each located in a region and optionally under a parent organisation.

use serde::{Deserialize, Serialize};

use crate::audit::Change;
use crate::domain::{text, RegionCode};
use crate::error::{Error, FieldError, Msg, Problems, Result};
use crate::permissions::{Action, Actor, Kind, Resource};
use crate::registry::regions;
use crate::Db;

pub const KINDS: &[&str] = &[
    "government",
    "department",
    "joint_office",
    "working_group",
    "enterprise",
    "school",
    "hospital",
    "association",
    "other",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Organisation {
    pub id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub region_code: String,
    pub region_name_zh: String,
    pub region_name_en: String,
    pub parent_id: Option<i64>,
    pub source_seed: Option<String>,
    pub source_quote: Option<String>,
    pub generated: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl Organisation {
    /// An organisation is owned by itself: its own staff keep its record.
    pub fn resource(&self) -> Resource {
        Resource::new(Kind::Organisation).owned_by(Some(self.id))
    }
}

/// What a client sends to create or change an organisation.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    pub kind: String,
    pub region_code: String,
    #[serde(default)]
    pub parent_id: Option<i64>,
}

/// An organisation input that has passed every check that needs no database.
#[derive(Debug, Clone)]
pub struct ValidOrganisation {
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub region: RegionCode,
    pub parent_id: Option<i64>,
}

pub fn parse_kind(field: &str, s: &str) -> Result<String, FieldError> {
    if KINDS.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(
            field,
            "kind_unknown",
            Msg::new(
                format!("未知的机构类型，可选：{}", KINDS.join("、")),
                format!("unknown kind; one of: {}", KINDS.join(", ")),
            ),
        ))
    }
}

impl OrganisationInput {
    pub fn parse(&self) -> Result<ValidOrganisation> {
        let mut p = Problems::new();
        let name_zh = p.take(text::bounded("name_zh", &self.name_zh, 1, 120));
        let name_en = p.take(text::optional("name_en", &self.name_en, 200));
        let kind = p.take(parse_kind("kind", &self.kind));
        let region = p.take(
            RegionCode::parse(&self.region_code).map_err(|e| FieldError {
                field: "region_code".into(),
                ..e
            }),
        );
        p.into_result()?;
        Ok(ValidOrganisation {
            name_zh: name_zh.unwrap_or_default(),
            name_en: name_en.unwrap_or_default(),
            kind: kind.unwrap_or_default(),
            region: region.ok_or_else(|| Error::Internal("region parsed".into()))?,
            parent_id: self.parent_id,
        })
    }
}

/// Where an organisation record came from, when it was loaded from the seeds.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub seed: Option<String>,
    pub quote: Option<String>,
    pub generated: bool,
}

const SELECT: &str = "SELECT o.id, o.name_zh, o.name_en, o.kind, o.region_code, r.name_zh AS region_name_zh, r.name_en AS region_name_en,
       o.parent_id, o.source_seed, o.source_quote, o.generated, o.created_at, o.updated_at
  FROM organisations o JOIN regions r ON r.code = o.region_code";

pub async fn get(db: &Db, id: i64) -> Result<Organisation> {
    sqlx::query_as(&format!("{SELECT} WHERE o.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("organisation", id))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrganisationFilter {
    /// Part of the name (Chinese or English).
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// Region code: organisations in this region or below it.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

pub async fn list(db: &Db, f: &OrganisationFilter) -> Result<(Vec<Organisation>, i64)> {
    let q = f.q.as_deref().unwrap_or("").trim().replace(['%', '_'], "");
    let region_prefix = match f.region.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => {
            let code = RegionCode::parse(r).map_err(|e| {
                Error::Invalid(vec![FieldError {
                    field: "region".into(),
                    ..e
                }])
            })?;
            region_prefix(&code)
        }
        None => String::new(),
    };
    let where_ = "WHERE ($1 = '' OR o.name_zh LIKE $2 OR LOWER(o.name_en) LIKE LOWER($2))
                    AND ($3 = '' OR o.kind = $3) AND ($4 = '' OR o.region_code LIKE $4)";
    let pattern = format!("%{q}%");
    let kind = f.kind.clone().unwrap_or_default();
    let (limit, offset) = page(f.limit, f.offset);
    let rows = sqlx::query_as(&format!(
        "{SELECT} {where_} ORDER BY o.id LIMIT $5 OFFSET $6"
    ))
    .bind(&q)
    .bind(&pattern)
    .bind(&kind)
    .bind(&region_prefix)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let (total,): (i64,) =
        sqlx::query_as(&format!("SELECT COUNT(*) FROM organisations o {where_}"))
            .bind(&q)
            .bind(&pattern)
            .bind(&kind)
            .bind(&region_prefix)
            .fetch_one(db.pool())
            .await?;
    Ok((rows, total))
}

/// A `LIKE` pattern matching the codes of a region and everything under it.
pub fn region_prefix(code: &RegionCode) -> String {
    let s = code.as_str();
    match code.level() {
        crate::domain::RegionLevel::Province => format!("{}%", &s[..2]),
        crate::domain::RegionLevel::Prefecture => format!("{}%", &s[..4]),
        _ => s.to_string(),
    }
}

pub use crate::db::filter::page;

async fn check_references(db: &Db, v: &ValidOrganisation, self_id: Option<i64>) -> Result<()> {
    regions::require_known(db, "region_code", &v.region).await?;
    if let Some(parent) = v.parent_id {
        if Some(parent) == self_id {
            return Err(Error::invalid(
                "parent_id",
                "parent_self",
                "上级机构不能是其本身",
                "an organisation cannot be its own parent",
            ));
        }
        if get(db, parent).await.is_err() {
            return Err(Error::invalid(
                "parent_id",
                "parent_unknown",
                format!("上级机构 {parent} 不存在"),
                format!("parent organisation {parent} does not exist"),
            ));
        }
    }
    Ok(())
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &OrganisationInput,
    provenance: Provenance,
) -> Result<Organisation> {
    let v = input.parse()?;
    let mut w = db.write(actor).await?;
    w.authorize(Action::Create, &Resource::new(Kind::Organisation))?;
    check_references(db, &v, None).await?;
    let now = crate::clock::now_rfc3339();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO organisations (name_zh, name_en, kind, region_code, parent_id, source_seed, source_quote, generated, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(&v.name_zh)
    .bind(&v.name_en)
    .bind(&v.kind)
    .bind(v.region.as_str())
    .bind(v.parent_id)
    .bind(&provenance.seed)
    .bind(&provenance.quote)
    .bind(provenance.generated as i64)
    .bind(&now)
    .fetch_one(w.conn())
    .await
    .map_err(|e| Error::from(e).on_unique("organisation_duplicate", "该地区已有同名机构", "an organisation of this name already exists in this region"))?;
    let created = get_in(&mut w, id).await?;
    w.record(Change::created("organisation", id, &created))
        .await?;
    w.commit().await?;
    Ok(created)
}

pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &OrganisationInput,
) -> Result<Organisation> {
    let v = input.parse()?;
    let before = get(db, id).await?;
    let mut w = db.write(actor).await?;
    w.authorize(Action::Update, &before.resource())?;
    check_references(db, &v, Some(id)).await?;
    sqlx::query(
        "UPDATE organisations SET name_zh = $1, name_en = $2, kind = $3, region_code = $4, parent_id = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(&v.name_zh)
    .bind(&v.name_en)
    .bind(&v.kind)
    .bind(v.region.as_str())
    .bind(v.parent_id)
    .bind(crate::clock::now_rfc3339())
    .bind(id)
    .execute(w.conn())
    .await
    .map_err(|e| Error::from(e).on_unique("organisation_duplicate", "该地区已有同名机构", "an organisation of this name already exists in this region"))?;
    let after = get_in(&mut w, id).await?;
    w.record(Change::updated("organisation", id, &before, &after))
        .await?;
    w.commit().await?;
    Ok(after)
}

async fn get_in(w: &mut crate::write::Write<'_>, id: i64) -> Result<Organisation> {
    sqlx::query_as(&format!("{SELECT} WHERE o.id = $1"))
        .bind(id)
        .fetch_one(w.conn())
        .await
        .map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let input = OrganisationInput {
            name_zh: " ".into(),
            name_en: String::new(),
            kind: "bank".into(),
            region_code: "12345".into(),
            parent_id: None,
        };
        let Err(Error::Invalid(errors)) = input.parse() else {
            panic!("expected invalid")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name_zh", "kind", "region_code"]);
    }

    #[test]
    fn region_prefixes_cover_descendants() {
        assert_eq!(region_prefix(&RegionCode::parse("500000").unwrap()), "50%");
        assert_eq!(
            region_prefix(&RegionCode::parse("371600").unwrap()),
            "3716%"
        );
        assert_eq!(
            region_prefix(&RegionCode::parse("500236").unwrap()),
            "500236"
        );
    }
}
