//! Regions: China's administrative divisions (GB/T 2260) plus Xietong's functional zones.

use serde::Serialize;

use crate::domain::{RegionCode, RegionLevel};
use crate::error::{Error, Result};
use crate::Db;

/// The national division data shipped with Xietong (see `data/SOURCES.md`).
pub const REGIONS_TSV: &str = include_str!("../../data/regions.tsv");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Region {
    pub code: String,
    pub parent_code: Option<String>,
    pub level: String,
    pub name_zh: String,
    pub name_en: String,
    pub official: i64,
}

/// Parses the shipped TSV (`code parent level name_zh name_en`), checking every row.
pub fn parse_tsv(text: &str) -> Result<Vec<Region>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let bad = |why: &str| Error::Config(format!("regions data line {}: {why}", i + 1));
        if cols.len() != 5 {
            return Err(bad("expected 5 tab-separated columns"));
        }
        let code = RegionCode::parse(cols[0]).map_err(|e| bad(&e.message.en))?;
        let level = RegionLevel::parse(cols[2]).ok_or_else(|| bad("unknown level"))?;
        out.push(Region {
            code: code.to_string(),
            parent_code: (!cols[1].is_empty()).then(|| cols[1].to_string()),
            level: level.as_str().to_string(),
            name_zh: cols[3].to_string(),
            name_en: cols[4].to_string(),
            official: 1,
        });
    }
    Ok(out)
}

/// Loads the national data into an empty `regions` table; does nothing when rows exist.
pub async fn seed(db: &Db) -> Result<usize> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM regions")
        .fetch_one(db.pool())
        .await?;
    if count > 0 {
        return Ok(0);
    }
    let regions = parse_tsv(REGIONS_TSV)?;
    let mut tx = db.begin_write().await?;
    // Parents come before children in code order, so foreign keys hold row by row.
    for chunk in regions.chunks(crate::db::rows_per_statement(6)) {
        let mut sql = String::from(
            "INSERT INTO regions (code, parent_code, level, name_zh, name_en, official) VALUES ",
        );
        for (i, _) in chunk.iter().enumerate() {
            let b = i * 6;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${},${},${},${},${},${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6
            ));
        }
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(&r.code)
                .bind(&r.parent_code)
                .bind(&r.level)
                .bind(&r.name_zh)
                .bind(&r.name_en)
                .bind(r.official);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(regions.len())
}

const SELECT: &str = "SELECT code, parent_code, level, name_zh, name_en, official FROM regions";

pub async fn get(db: &Db, code: &RegionCode) -> Result<Region> {
    sqlx::query_as(&format!("{SELECT} WHERE code = $1"))
        .bind(code.as_str())
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::not_found("region", code))
}

/// All regions in memory, for searching by name without scanning the table per request.
/// Regions change only when an admin adds a zone, so a copy is trusted for a few seconds.
pub struct RegionCache(crate::cache::Snapshot<Vec<Region>>);

impl Default for RegionCache {
    fn default() -> Self {
        RegionCache(crate::cache::Snapshot::new(std::time::Duration::from_secs(
            5,
        )))
    }
}

impl RegionCache {
    pub async fn all(&self, db: &Db) -> Result<std::sync::Arc<Vec<Region>>> {
        self.0
            .get(|| async {
                Ok(sqlx::query_as(&format!("{SELECT} ORDER BY code"))
                    .fetch_all(db.pool())
                    .await?)
            })
            .await
    }

    /// Searches the cached copy (see [`search_in`]).
    pub async fn search(
        &self,
        db: &Db,
        query: &str,
        level: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Region>> {
        let all = self.all(db).await?;
        Ok(search_in(&all, query, level, limit))
    }

    pub fn invalidate(&self) {
        self.0.invalidate();
    }
}

/// Finds regions by code prefix (digits) or a part of the Chinese or English name; exact
/// matches first, then names starting with the query, then by code.
pub fn search_in(regions: &[Region], query: &str, level: Option<&str>, limit: i64) -> Vec<Region> {
    let q = query.trim();
    let q_lower = q.to_lowercase();
    let is_code = !q.is_empty() && q.chars().all(|c| c.is_ascii_digit());
    let mut hits: Vec<(u8, &Region)> = regions
        .iter()
        .filter(|r| level.is_none_or(|l| l.is_empty() || r.level == l))
        .filter_map(|r| {
            let matches = (is_code && r.code.starts_with(q))
                || r.name_zh.contains(q)
                || r.name_en.to_lowercase().contains(&q_lower);
            if !matches {
                return None;
            }
            let rank = if r.name_zh == q || r.code == q {
                0
            } else if r.name_zh.starts_with(q) {
                1
            } else {
                2
            };
            Some((rank, r))
        })
        .collect();
    hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
    hits.into_iter()
        .take(limit.clamp(1, 200) as usize)
        .map(|(_, r)| r.clone())
        .collect()
}

/// The children of a region (provinces when `parent` is none).
pub async fn children(db: &Db, parent: Option<&RegionCode>) -> Result<Vec<Region>> {
    let rows = match parent {
        Some(p) => {
            sqlx::query_as(&format!("{SELECT} WHERE parent_code = $1 ORDER BY code"))
                .bind(p.as_str())
                .fetch_all(db.pool())
                .await?
        }
        None => {
            sqlx::query_as(&format!("{SELECT} WHERE parent_code IS NULL ORDER BY code"))
                .fetch_all(db.pool())
                .await?
        }
    };
    Ok(rows)
}

/// Checks that a code names a known region; the field name goes into the error.
pub async fn require_known(db: &Db, field: &str, code: &RegionCode) -> Result<Region> {
    get(db, code).await.map_err(|e| match e {
        Error::NotFound { .. } => Error::invalid(
            field,
            "region_unknown",
            format!("区划代码 {code} 不在登记的行政区划中"),
            format!("region code {code} is not in the registry"),
        ),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_data_parses_and_covers_the_seeds_regions() {
        let regions = parse_tsv(REGIONS_TSV).unwrap();
        assert!(regions.len() > 3000, "whole country down to county level");
        let find = |code: &str| {
            regions
                .iter()
                .find(|r| r.code == code)
                .unwrap_or_else(|| panic!("{code} missing"))
        };
        assert_eq!(find("500236").name_zh, "奉节县");
        assert_eq!(find("500118").name_zh, "永川区");
        assert_eq!(find("371600").name_zh, "滨州市");
        assert_eq!(find("500000").level, "province");
    }

    #[test]
    fn parents_precede_children() {
        let regions = parse_tsv(REGIONS_TSV).unwrap();
        let mut seen = std::collections::HashSet::new();
        for r in &regions {
            if let Some(p) = &r.parent_code {
                assert!(
                    seen.contains(p.as_str()),
                    "{} before its parent {p}",
                    r.code
                );
            }
            seen.insert(r.code.as_str());
        }
    }

    #[test]
    fn the_in_memory_search_ranks_like_the_sql_one() {
        let regions = parse_tsv(REGIONS_TSV).unwrap();
        let hits = search_in(&regions, "永川", None, 10);
        assert_eq!(hits[0].code, "500118");
        let hits = search_in(&regions, "5002", Some("county"), 200);
        assert!(hits
            .iter()
            .all(|r| r.code.starts_with("5002") && r.level == "county"));
        assert!(hits.iter().any(|r| r.code == "500236"));
        assert_eq!(search_in(&regions, "fengjie", None, 5)[0].code, "500236");
        assert_eq!(search_in(&regions, "重庆市", None, 5)[0].code, "500000");
    }

    #[test]
    fn malformed_rows_name_their_line() {
        let err = parse_tsv(
            "code\tparent\tlevel\tname_zh\tname_en\n50x000\t\tprovince\t重庆市\tChongqing\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
