//! The demo registry: the frameworks, bodies, organisations and pairings the seed articles name,
//! each with its source, and one demo user per role. Feature crates add their own demo data.

use std::collections::HashMap;

use serde::Deserialize;

use crate::accounts::users::{self, NewUser};
use crate::audit::Change;
use crate::domain::RegionCode;
use crate::error::{Error, Result};
use crate::permissions::{Action, Actor, Grant, Kind, Resource, Role};
use crate::registry::frameworks::{self, BodyInput, FrameworkInput, Source};
use crate::registry::organisations::{self, OrganisationInput, Provenance};
use crate::registry::pairings::{self, PairingInput};
use crate::Db;

pub const REGISTRY_TOML: &str = include_str!("../demo/registry.toml");

/// The password of every demo account (printed by `serve --demo`, listed in the README).
pub const DEMO_PASSWORD: &str = "xietong-demo";

#[derive(Deserialize)]
struct SourceRef {
    seed: String,
    quote: String,
}

#[derive(Deserialize)]
struct Zone {
    code: String,
    parent: String,
    name_zh: String,
    name_en: String,
}

#[derive(Deserialize)]
struct OrgRow {
    key: String,
    name_zh: String,
    #[serde(default)]
    name_en: String,
    kind: String,
    region: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    source: Option<SourceRef>,
    #[serde(default)]
    generated: bool,
}

#[derive(Deserialize)]
struct FrameworkRow {
    key: String,
    name_zh: String,
    #[serde(default)]
    name_en: String,
    kind: String,
    parties: Vec<String>,
    #[serde(default)]
    started_on: Option<String>,
    #[serde(default)]
    description_zh: String,
    #[serde(default)]
    description_en: String,
    #[serde(default)]
    source: Option<SourceRef>,
}

#[derive(Deserialize)]
struct BodyRow {
    key: String,
    framework: String,
    level: String,
    kind: String,
    name_zh: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    meets_per_year: Option<i64>,
    #[serde(default)]
    organisation: Option<String>,
    #[serde(default)]
    source: Option<SourceRef>,
    #[serde(default)]
    generated: bool,
}

#[derive(Deserialize)]
struct PairingRow {
    framework: String,
    a: String,
    b: String,
    #[serde(default)]
    started_on: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    note_zh: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    source: Option<SourceRef>,
    #[serde(default)]
    generated: bool,
}

#[derive(Deserialize)]
struct DemoFile {
    zones: Vec<Zone>,
    organisations: Vec<OrgRow>,
    frameworks: Vec<FrameworkRow>,
    bodies: Vec<BodyRow>,
    pairings: Vec<PairingRow>,
}

fn split(source: Option<SourceRef>) -> (Option<String>, Option<String>) {
    match source {
        Some(s) => (Some(s.seed), Some(s.quote)),
        None => (None, None),
    }
}

/// A demo account and what it is for.
pub struct DemoUser {
    pub username: &'static str,
    pub role: &'static str,
    pub about: &'static str,
}

pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        username: "admin",
        role: "admin",
        about: "管理员 · administrator",
    },
    DemoUser {
        username: "cy.coordinator",
        role: "coordinator",
        about: "川渝联合办公室协调员 · coordinator of the Chengdu–Chongqing framework",
    },
    DemoUser {
        username: "fengjie.staff",
        role: "staff",
        about: "奉节县工作人员 · staff of Fengjie County (Shandong–Chongqing and district pairing)",
    },
    DemoUser {
        username: "yqlq.viewer",
        role: "viewer",
        about: "“一区两群”查看者 · viewer of the district pairing framework",
    },
    DemoUser {
        username: "yongchuan.staff",
        role: "staff",
        about: "永川区工作人员 · staff of Yongchuan District (Chengdu–Chongqing tasks and letters)",
    },
];

/// True when the registry holds no framework yet.
pub async fn is_empty(db: &Db) -> Result<bool> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM frameworks")
        .fetch_one(db.pool())
        .await?;
    Ok(n == 0)
}

/// Adds a functional zone as a region (not official GB/T 2260).
pub async fn add_zone(
    db: &Db,
    actor: &Actor,
    code: &RegionCode,
    parent: &RegionCode,
    name_zh: &str,
    name_en: &str,
) -> Result<()> {
    let mut w = db.write(actor).await?;
    w.authorize(Action::Create, &Resource::new(Kind::Region))?;
    sqlx::query("INSERT INTO regions (code, parent_code, level, name_zh, name_en, official) VALUES ($1, $2, 'zone', $3, $4, 0)")
        .bind(code.as_str())
        .bind(parent.as_str())
        .bind(name_zh)
        .bind(name_en)
        .execute(w.conn())
        .await
        .map_err(|e| Error::from(e).on_unique("region_exists", "该区划代码已存在", "this region code already exists"))?;
    w.record(Change::created(
        "region",
        code,
        serde_json::json!({"code": code, "parent": parent, "name_zh": name_zh, "name_en": name_en}),
    ))
    .await?;
    w.commit().await
}

/// Loads the demo registry into an empty database. Refuses a database that already has frameworks.
pub async fn load(db: &Db) -> Result<DemoSummary> {
    if !is_empty(db).await? {
        return Err(Error::conflict(
            "demo_not_empty",
            "数据库已有数据，未加载演示数据",
            "the database is not empty; demo data was not loaded",
        ));
    }
    let file: DemoFile =
        toml::from_str(REGISTRY_TOML).map_err(|e| Error::Config(format!("demo registry: {e}")))?;
    let actor = Actor::system("demo");
    let code = |s: &str| {
        RegionCode::parse(s)
            .map_err(|e| Error::Config(format!("demo region {s}: {}", e.message.en)))
    };

    for z in &file.zones {
        add_zone(
            db,
            &actor,
            &code(&z.code)?,
            &code(&z.parent)?,
            &z.name_zh,
            &z.name_en,
        )
        .await?;
    }

    // Parents may be listed after their children, so create in passes until all are placed.
    let mut org_ids: HashMap<String, i64> = HashMap::new();
    let mut governments: HashMap<String, String> = HashMap::new();
    let mut pending = file.organisations;
    while !pending.is_empty() {
        let before = pending.len();
        let mut later = Vec::new();
        for o in pending {
            let parent_id = match &o.parent {
                Some(k) => match org_ids.get(k) {
                    Some(id) => Some(*id),
                    None => {
                        later.push(o);
                        continue;
                    }
                },
                None => None,
            };
            let (seed, quote) = split(o.source);
            if o.kind == "government" {
                governments.entry(o.region.clone()).or_insert(o.key.clone());
            }
            let input = OrganisationInput {
                name_zh: o.name_zh,
                name_en: o.name_en,
                kind: o.kind,
                region_code: o.region,
                parent_id,
            };
            let created = organisations::create(
                db,
                &actor,
                &input,
                Provenance {
                    seed,
                    quote,
                    generated: o.generated,
                },
            )
            .await?;
            org_ids.insert(o.key, created.id);
        }
        if later.len() == before {
            let keys: Vec<_> = later.iter().map(|o| o.key.as_str()).collect();
            return Err(Error::Config(format!(
                "demo organisations with unknown parents: {}",
                keys.join(", ")
            )));
        }
        pending = later;
    }

    let mut framework_ids: HashMap<String, i64> = HashMap::new();
    for f in file.frameworks {
        let (seed, quote) = split(f.source);
        let input = FrameworkInput {
            key: f.key.clone(),
            name_zh: f.name_zh,
            name_en: f.name_en,
            kind: f.kind,
            description_zh: f.description_zh,
            description_en: f.description_en,
            started_on: f.started_on.unwrap_or_default(),
            parties: f.parties,
            owner_org_id: if f.key == "CY" {
                org_ids.get("cy-joint-office").copied()
            } else {
                None
            },
            public: true,
        };
        let created = frameworks::create(db, &actor, &input, Source { seed, quote }).await?;
        framework_ids.insert(f.key, created.framework.id);
    }
    let framework = |k: &str| {
        framework_ids
            .get(k)
            .copied()
            .ok_or_else(|| Error::Config(format!("demo: unknown framework {k}")))
    };

    for b in file.bodies {
        let (seed, quote) = split(b.source);
        let input = BodyInput {
            key: b.key,
            level: b.level,
            kind: b.kind,
            name_zh: b.name_zh,
            name_en: b.name_en,
            meets_per_year: b.meets_per_year,
            organisation_id: b
                .organisation
                .as_ref()
                .and_then(|k| org_ids.get(k).copied()),
        };
        frameworks::add_body(
            db,
            &actor,
            framework(&b.framework)?,
            &input,
            Source { seed, quote },
            b.generated,
        )
        .await?;
    }

    let pairing_count = file.pairings.len();
    for p in file.pairings {
        let (seed, quote) = split(p.source);
        // The first party's government answers for the pairing (the assisting district in
        // 一区两群, Shandong in 鲁渝): warning letters about its missing reports go there.
        let owner_org_id = governments.get(&p.a).and_then(|k| org_ids.get(k)).copied();
        let input = PairingInput {
            framework_id: framework(&p.framework)?,
            party_a: p.a,
            party_b: p.b,
            started_on: p.started_on.unwrap_or_default(),
            status: p.status.unwrap_or_else(|| "active".into()),
            ended_on: String::new(),
            note_zh: if p.note_zh.is_empty() {
                p.note.clone().unwrap_or_default()
            } else {
                p.note_zh
            },
            note_en: if p.generated {
                p.note.unwrap_or_default()
            } else {
                String::new()
            },
            owner_org_id,
        };
        pairings::create(
            db,
            &actor,
            &input,
            pairings::Provenance {
                seed,
                quote,
                generated: p.generated,
            },
        )
        .await?;
    }

    let org = |k: &str| org_ids.get(k).copied();
    let users = [
        (
            "admin",
            "系统管理员",
            org("cy-joint-office"),
            vec![Grant {
                role: Role::Admin,
                framework_id: None,
            }],
        ),
        (
            "cy.coordinator",
            "川渝联办 协调员",
            org("cy-joint-office"),
            vec![Grant {
                role: Role::Coordinator,
                framework_id: Some(framework("CY")?),
            }],
        ),
        (
            "fengjie.staff",
            "奉节县 工作人员",
            org("fengjie-gov"),
            vec![
                Grant {
                    role: Role::Staff,
                    framework_id: Some(framework("LY")?),
                },
                Grant {
                    role: Role::Staff,
                    framework_id: Some(framework("YQLQ")?),
                },
            ],
        ),
        (
            "yongchuan.staff",
            "永川区 工作人员",
            org("yongchuan-gov"),
            vec![Grant {
                role: Role::Staff,
                framework_id: Some(framework("CY")?),
            }],
        ),
        (
            "yqlq.viewer",
            "“一区两群” 查看者",
            org("cq-ndrc"),
            vec![Grant {
                role: Role::Viewer,
                framework_id: Some(framework("YQLQ")?),
            }],
        ),
    ];
    for (username, display_name, organisation_id, grants) in users {
        users::create(
            db,
            &actor,
            &NewUser {
                username: username.into(),
                display_name: display_name.into(),
                organisation_id,
                password: DEMO_PASSWORD.into(),
                grants,
            },
        )
        .await?;
    }
    Ok(DemoSummary {
        organisations: org_ids.len(),
        frameworks: framework_ids.len(),
        pairings: pairing_count,
    })
}

#[derive(Debug, Clone, Copy)]
pub struct DemoSummary {
    pub organisations: usize,
    pub frameworks: usize,
    pub pairings: usize,
}

/// The demo organisations' keys and their ids in this database (for feature crates' demo data,
/// which refers to organisations by the keys of `registry.toml`).
pub async fn organisation_ids(db: &Db) -> Result<HashMap<String, i64>> {
    let file: DemoFile =
        toml::from_str(REGISTRY_TOML).map_err(|e| Error::Config(format!("demo registry: {e}")))?;
    let mut out = HashMap::new();
    for o in file.organisations {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM organisations WHERE name_zh = $1 AND region_code = $2")
                .bind(&o.name_zh)
                .bind(&o.region)
                .fetch_optional(db.pool())
                .await?;
        if let Some((id,)) = row {
            out.insert(o.key, id);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_file_parses_and_has_seventeen_district_pairs() {
        let file: DemoFile = toml::from_str(REGISTRY_TOML).unwrap();
        assert_eq!(
            file.pairings
                .iter()
                .filter(|p| p.framework == "YQLQ")
                .count(),
            17
        );
        assert!(file
            .pairings
            .iter()
            .any(|p| p.framework == "LY" && (p.a == "500236" || p.b == "500236")));
    }
}
