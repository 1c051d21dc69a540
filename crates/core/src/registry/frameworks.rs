//! Frameworks (cooperation programmes), their parties and their governance bodies by level.

use serde::{Deserialize, Serialize};

use crate::audit::Change;
use crate::domain::{text, RegionCode};
use crate::error::{Error, FieldError, Msg, Problems, Result};
use crate::permissions::{Action, Actor, Kind, Resource};
use crate::registry::regions;
use crate::Db;

pub const KINDS: &[&str] = &[
    "economic_circle",
    "east_west",
    "district_pairing",
    "adjacent_area",
];
pub const LEVELS: &[&str] = &["decision", "coordination", "execution"];
pub const BODY_KINDS: &[&str] = &[
    "joint_meeting",
    "coordination_meeting",
    "joint_office",
    "dispatch_meeting",
    "working_group",
    "task_force",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Framework {
    pub id: i64,
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub description_zh: String,
    pub description_en: String,
    pub started_on: Option<String>,
    pub owner_org_id: Option<i64>,
    pub public: i64,
    pub source_seed: Option<String>,
    pub source_quote: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FrameworkDetail {
    #[serde(flatten)]
    pub framework: Framework,
    pub parties: Vec<regions::Region>,
    pub bodies: Vec<Body>,
}

impl Framework {
    pub fn resource(&self) -> Resource {
        Resource::new(Kind::Framework)
            .in_framework(self.id)
            .owned_by(self.owner_org_id)
            .public(self.public != 0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Body {
    pub id: i64,
    pub key: String,
    pub framework_id: i64,
    pub level: String,
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub meets_per_year: Option<i64>,
    pub organisation_id: Option<i64>,
    pub source_seed: Option<String>,
    pub source_quote: Option<String>,
    pub generated: i64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FrameworkInput {
    pub key: String,
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    pub kind: String,
    #[serde(default)]
    pub description_zh: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub started_on: String,
    /// Region codes of the parties (provinces, cities, districts or zones).
    pub parties: Vec<String>,
    #[serde(default)]
    pub owner_org_id: Option<i64>,
    #[serde(default = "yes")]
    pub public: bool,
}

fn yes() -> bool {
    true
}

pub struct ValidFramework {
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub description_zh: String,
    pub description_en: String,
    pub started_on: Option<String>,
    pub parties: Vec<RegionCode>,
    pub owner_org_id: Option<i64>,
    pub public: bool,
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<String, FieldError> {
    if allowed.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(FieldError::new(
            field,
            "value_unknown",
            Msg::new(
                format!("取值无效，可选：{}", allowed.join("、")),
                format!("invalid value; one of: {}", allowed.join(", ")),
            ),
        ))
    }
}

impl FrameworkInput {
    pub fn parse(&self) -> Result<ValidFramework> {
        let mut p = Problems::new();
        let key = p.take(text::key("key", &self.key));
        let name_zh = p.take(text::bounded("name_zh", &self.name_zh, 1, 120));
        let name_en = p.take(text::optional("name_en", &self.name_en, 200));
        let kind = p.take(one_of("kind", &self.kind, KINDS));
        let description_zh = p.take(text::optional("description_zh", &self.description_zh, 2000));
        let description_en = p.take(text::optional("description_en", &self.description_en, 4000));
        let started_on = p.take(text::optional_date("started_on", &self.started_on));
        let mut parties = Vec::new();
        for (i, s) in self.parties.iter().enumerate() {
            if let Some(code) = p.take(RegionCode::parse(s).map_err(|e| FieldError {
                field: format!("parties[{i}]"),
                ..e
            })) {
                if parties.contains(&code) {
                    p.push(FieldError::new(
                        format!("parties[{i}]"),
                        "party_duplicate",
                        Msg::new("参与方重复", "the party is listed twice"),
                    ));
                }
                parties.push(code);
            }
        }
        if self.parties.len() < 2 {
            p.push(FieldError::new(
                "parties",
                "parties_too_few",
                Msg::new(
                    "至少需要两个参与方",
                    "a framework needs at least two parties",
                ),
            ));
        }
        p.into_result()?;
        Ok(ValidFramework {
            key: key.unwrap_or_default(),
            name_zh: name_zh.unwrap_or_default(),
            name_en: name_en.unwrap_or_default(),
            kind: kind.unwrap_or_default(),
            description_zh: description_zh.unwrap_or_default(),
            description_en: description_en.unwrap_or_default(),
            started_on: started_on.flatten().map(text::format_date),
            parties,
            owner_org_id: self.owner_org_id,
            public: self.public,
        })
    }
}

const SELECT: &str = "SELECT id, key, name_zh, name_en, kind, description_zh, description_en, started_on, owner_org_id, public, source_seed, source_quote, created_at, updated_at FROM frameworks";

pub async fn get(db: &Db, id: i64) -> Result<Framework> {
    sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("framework", id))
}

pub async fn by_key(db: &Db, key: &str) -> Result<Framework> {
    sqlx::query_as(&format!("{SELECT} WHERE key = $1"))
        .bind(key)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("framework", key))
}

pub async fn list(db: &Db) -> Result<Vec<Framework>> {
    Ok(sqlx::query_as(&format!("{SELECT} ORDER BY id"))
        .fetch_all(db.pool())
        .await?)
}

/// Every framework, read at most every few seconds: lists and permission checks ask for them on
/// nearly every request. Creating a framework here invalidates the copy at once.
pub struct FrameworkCache(crate::cache::Snapshot<Vec<Framework>>);

impl Default for FrameworkCache {
    fn default() -> Self {
        FrameworkCache(crate::cache::Snapshot::new(std::time::Duration::from_secs(
            2,
        )))
    }
}

impl FrameworkCache {
    pub async fn all(&self, db: &Db) -> Result<std::sync::Arc<Vec<Framework>>> {
        self.0.get(|| list(db)).await
    }

    pub fn invalidate(&self) {
        self.0.invalidate();
    }

    /// One framework from the cached copy.
    pub async fn get(&self, db: &Db, id: i64) -> Result<Framework> {
        self.all(db)
            .await?
            .iter()
            .find(|f| f.id == id)
            .cloned()
            .ok_or_else(|| Error::not_found("framework", id))
    }

    /// Ids of the frameworks whose records the actor may list; `None` means all (admins).
    pub async fn visible_ids(&self, db: &Db, actor: Option<&Actor>) -> Result<Option<Vec<i64>>> {
        if actor.is_some_and(|a| a.is_admin()) {
            return Ok(None);
        }
        Ok(Some(
            self.visible(db, actor)
                .await?
                .into_iter()
                .map(|f| f.id)
                .collect(),
        ))
    }

    /// The frameworks an actor may see (see [`visible_in`]).
    pub async fn visible(&self, db: &Db, actor: Option<&Actor>) -> Result<Vec<Framework>> {
        Ok(visible_in(&self.all(db).await?, actor))
    }
}

/// The frameworks an actor may see: public ones and those it holds a role in (all, for admins).
pub fn visible_in(all: &[Framework], actor: Option<&Actor>) -> Vec<Framework> {
    let readable = actor.map(|a| a.readable_frameworks());
    all.iter()
        .filter(|f| match &readable {
            Some(None) => true,
            Some(Some(ids)) => f.public != 0 || ids.contains(&f.id),
            None => f.public != 0,
        })
        .cloned()
        .collect()
}

pub async fn parties(db: &Db, framework_id: i64) -> Result<Vec<regions::Region>> {
    Ok(sqlx::query_as(
        "SELECT r.code, r.parent_code, r.level, r.name_zh, r.name_en, r.official
           FROM framework_parties p JOIN regions r ON r.code = p.region_code
          WHERE p.framework_id = $1 ORDER BY r.code",
    )
    .bind(framework_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn bodies(db: &Db, framework_id: i64) -> Result<Vec<Body>> {
    Ok(sqlx::query_as(
        "SELECT id, key, framework_id, level, kind, name_zh, name_en, meets_per_year, organisation_id, source_seed, source_quote, generated
           FROM bodies WHERE framework_id = $1
          ORDER BY CASE level WHEN 'decision' THEN 0 WHEN 'coordination' THEN 1 ELSE 2 END, id",
    )
    .bind(framework_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn detail(db: &Db, id: i64) -> Result<FrameworkDetail> {
    let framework = get(db, id).await?;
    Ok(FrameworkDetail {
        parties: parties(db, id).await?,
        bodies: bodies(db, id).await?,
        framework,
    })
}

/// Where a seeded record came from.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub seed: Option<String>,
    pub quote: Option<String>,
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &FrameworkInput,
    source: Source,
) -> Result<FrameworkDetail> {
    let v = input.parse()?;
    for (i, code) in v.parties.iter().enumerate() {
        regions::require_known(db, &format!("parties[{i}]"), code).await?;
    }
    let mut w = db.write(actor).await?;
    w.authorize(Action::Create, &Resource::new(Kind::Framework))?;
    let now = crate::clock::now_rfc3339();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO frameworks (key, name_zh, name_en, kind, description_zh, description_en, started_on, owner_org_id, public, source_seed, source_quote, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(&v.key)
    .bind(&v.name_zh)
    .bind(&v.name_en)
    .bind(&v.kind)
    .bind(&v.description_zh)
    .bind(&v.description_en)
    .bind(&v.started_on)
    .bind(v.owner_org_id)
    .bind(v.public as i64)
    .bind(&source.seed)
    .bind(&source.quote)
    .bind(&now)
    .fetch_one(w.conn())
    .await
    .map_err(|e| Error::from(e).on_unique("framework_key_taken", "该代码已被其他协作机制使用", "another framework already uses this key"))?;
    for code in &v.parties {
        sqlx::query("INSERT INTO framework_parties (framework_id, region_code) VALUES ($1, $2)")
            .bind(id)
            .bind(code.as_str())
            .execute(w.conn())
            .await?;
    }
    w.record(Change::created(
        "framework",
        id,
        serde_json::json!({
            "key": v.key, "name_zh": v.name_zh, "name_en": v.name_en, "kind": v.kind,
            "parties": v.parties.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        }),
    ))
    .await?;
    w.commit().await?;
    detail(db, id).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyInput {
    pub key: String,
    pub level: String,
    pub kind: String,
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub meets_per_year: Option<i64>,
    #[serde(default)]
    pub organisation_id: Option<i64>,
}

pub async fn add_body(
    db: &Db,
    actor: &Actor,
    framework_id: i64,
    input: &BodyInput,
    source: Source,
    generated: bool,
) -> Result<Body> {
    let framework = get(db, framework_id).await?;
    let mut p = Problems::new();
    let key = p.take(text::key("key", &input.key));
    let level = p.take(one_of("level", &input.level, LEVELS));
    let kind = p.take(one_of("kind", &input.kind, BODY_KINDS));
    let name_zh = p.take(text::bounded("name_zh", &input.name_zh, 1, 160));
    let name_en = p.take(text::optional("name_en", &input.name_en, 300));
    if let Some(n) = input.meets_per_year {
        if !(1..=366).contains(&n) {
            p.push(FieldError::new(
                "meets_per_year",
                "out_of_range",
                Msg::new(
                    "每年会议次数须在 1 至 366 之间",
                    "meetings per year must lie between 1 and 366",
                ),
            ));
        }
    }
    p.into_result()?;
    let mut w = db.write(actor).await?;
    w.authorize(
        Action::Create,
        &Resource::new(Kind::Body).in_framework(framework.id),
    )?;
    let now = crate::clock::now_rfc3339();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO bodies (key, framework_id, level, kind, name_zh, name_en, meets_per_year, organisation_id, source_seed, source_quote, generated, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(key.unwrap_or_default())
    .bind(framework.id)
    .bind(level.unwrap_or_default())
    .bind(kind.unwrap_or_default())
    .bind(name_zh.unwrap_or_default())
    .bind(name_en.unwrap_or_default())
    .bind(input.meets_per_year)
    .bind(input.organisation_id)
    .bind(&source.seed)
    .bind(&source.quote)
    .bind(generated as i64)
    .bind(&now)
    .fetch_one(w.conn())
    .await
    .map_err(|e| Error::from(e).on_unique("body_key_taken", "该代码已被其他机构使用", "another body already uses this key"))?;
    let body: Body = sqlx::query_as(
        "SELECT id, key, framework_id, level, kind, name_zh, name_en, meets_per_year, organisation_id, source_seed, source_quote, generated FROM bodies WHERE id = $1",
    )
    .bind(id)
    .fetch_one(w.conn())
    .await?;
    w.record(Change::created("body", id, &body)).await?;
    w.commit().await?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> FrameworkInput {
        FrameworkInput {
            key: "CY".into(),
            name_zh: "成渝地区双城经济圈".into(),
            kind: "economic_circle".into(),
            parties: vec!["510000".into(), "500000".into()],
            public: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_well_formed_framework_parses() {
        let v = input().parse().unwrap();
        assert_eq!(v.parties.len(), 2);
    }

    #[test]
    fn a_framework_needs_two_distinct_parties() {
        let mut i = input();
        i.parties = vec!["500000".into(), "500000".into()];
        let Err(Error::Invalid(errors)) = i.parse() else {
            panic!()
        };
        assert_eq!(errors[0].code, "party_duplicate");
        i.parties = vec!["500000".into()];
        let Err(Error::Invalid(errors)) = i.parse() else {
            panic!()
        };
        assert_eq!(errors[0].code, "parties_too_few");
    }
}

/// Changes a framework (its coordinators, admins). Its parties may change only so far as every
/// existing pairing still lies inside them.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &FrameworkInput,
) -> Result<FrameworkDetail> {
    let v = input.parse()?;
    let before = detail(db, id).await?;
    for (i, code) in v.parties.iter().enumerate() {
        regions::require_known(db, &format!("parties[{i}]"), code).await?;
    }
    let mut w = db.write(actor).await?;
    w.authorize(Action::Update, &before.framework.resource())?;
    let stranded: Vec<(String, String)> =
        sqlx::query_as("SELECT party_a, party_b FROM pairings WHERE framework_id = $1")
            .bind(id)
            .fetch_all(w.conn())
            .await?;
    for (a, b) in stranded {
        for code in [a, b] {
            let inside = RegionCode::parse(&code)
                .map(|c| v.parties.iter().any(|p| c.is_within(p)))
                .unwrap_or(false);
            if !inside {
                return Err(Error::invalid(
                    "parties",
                    "parties_strand_pairing",
                    format!("已有结对的参与方 {code} 将不再属于该协作机制，请先调整该结对"),
                    format!("the paired party {code} would fall outside the framework; change that pairing first"),
                ));
            }
        }
    }
    sqlx::query(
        "UPDATE frameworks SET key = $1, name_zh = $2, name_en = $3, kind = $4, description_zh = $5, description_en = $6,
                started_on = $7, owner_org_id = $8, public = $9, updated_at = $10 WHERE id = $11",
    )
    .bind(&v.key)
    .bind(&v.name_zh)
    .bind(&v.name_en)
    .bind(&v.kind)
    .bind(&v.description_zh)
    .bind(&v.description_en)
    .bind(&v.started_on)
    .bind(v.owner_org_id.or(before.framework.owner_org_id))
    .bind(v.public as i64)
    .bind(crate::clock::now_rfc3339())
    .bind(id)
    .execute(w.conn())
    .await
    .map_err(|e| Error::from(e).on_unique("framework_key_taken", "该代码已被其他协作机制使用", "another framework already uses this key"))?;
    sqlx::query("DELETE FROM framework_parties WHERE framework_id = $1")
        .bind(id)
        .execute(w.conn())
        .await?;
    for code in &v.parties {
        sqlx::query("INSERT INTO framework_parties (framework_id, region_code) VALUES ($1, $2)")
            .bind(id)
            .bind(code.as_str())
            .execute(w.conn())
            .await?;
    }
    let summary = |f: &Framework, parties: Vec<String>| serde_json::json!({"key": f.key, "name_zh": f.name_zh, "name_en": f.name_en, "kind": f.kind, "public": f.public, "parties": parties});
    let before_json = summary(
        &before.framework,
        before.parties.iter().map(|r| r.code.clone()).collect(),
    );
    let after_json = serde_json::json!({
        "key": v.key, "name_zh": v.name_zh, "name_en": v.name_en, "kind": v.kind, "public": v.public as i64,
        "parties": v.parties.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
    });
    w.record(Change::updated("framework", id, before_json, after_json))
        .await?;
    w.commit().await?;
    detail(db, id).await
}

/// What the framework form sends: the parties as one line of codes.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkForm {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub description_zh: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub started_on: String,
    /// Region codes separated by spaces, commas or 、.
    #[serde(default)]
    pub parties: String,
    /// Present (any value) when the checkbox is ticked.
    #[serde(default)]
    pub public: Option<String>,
}

impl From<FrameworkForm> for FrameworkInput {
    fn from(f: FrameworkForm) -> Self {
        FrameworkInput {
            key: f.key,
            name_zh: f.name_zh,
            name_en: f.name_en,
            kind: f.kind,
            description_zh: f.description_zh,
            description_en: f.description_en,
            started_on: f.started_on,
            parties: f
                .parties
                .split([' ', ',', '，', '、', '\n', '\t'])
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().to_string())
                .collect(),
            owner_org_id: None,
            public: f.public.is_some(),
        }
    }
}

impl From<&FrameworkDetail> for FrameworkForm {
    fn from(d: &FrameworkDetail) -> Self {
        let f = &d.framework;
        FrameworkForm {
            key: f.key.clone(),
            name_zh: f.name_zh.clone(),
            name_en: f.name_en.clone(),
            kind: f.kind.clone(),
            description_zh: f.description_zh.clone(),
            description_en: f.description_en.clone(),
            started_on: f.started_on.clone().unwrap_or_default(),
            parties: d
                .parties
                .iter()
                .map(|r| r.code.clone())
                .collect::<Vec<_>>()
                .join(" "),
            public: (f.public != 0).then(|| "on".to_string()),
        }
    }
}
