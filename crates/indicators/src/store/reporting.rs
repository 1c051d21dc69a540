//! Who has reported for a period: what coordinators chase.

use serde::Serialize;
use xietong_core::error::Result;

use crate::periods::Period;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportingStatus {
    pub period: String,
    pub pairs_total: usize,
    pub reported: Vec<i64>,
    /// Pairings with neither a value nor an activity in the period.
    pub missing: Vec<MissingPairing>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MissingPairing {
    pub pairing_id: i64,
    pub label_zh: String,
}

/// Pairings that reported anything for `period`, and those that did not.
pub async fn status_of(
    db: &xietong_core::Db,
    framework_id: i64,
    period: &Period,
) -> Result<ReportingStatus> {
    let pairings = super::pairings_of(db, framework_id).await?;
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT pairing_id FROM indicator_values WHERE framework_id = $1 AND status = 'current' AND period = $2
         UNION SELECT DISTINCT pairing_id FROM activities WHERE framework_id = $1 AND occurred_on >= $3 AND occurred_on <= $4",
    )
    .bind(framework_id)
    .bind(period.key())
    .bind(period.start.to_string())
    .bind(period.end.to_string())
    .fetch_all(db.pool())
    .await?;
    let reported: Vec<i64> = rows.into_iter().map(|r| r.0).collect();
    let missing = pairings
        .values()
        .filter(|p| !reported.contains(&p.id))
        .map(|p| MissingPairing {
            pairing_id: p.id,
            label_zh: p.label(),
        })
        .collect();
    Ok(ReportingStatus {
        period: period.key(),
        pairs_total: pairings.len(),
        reported,
        missing,
    })
}
