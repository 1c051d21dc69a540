//! Who has reported for a period: what coordinators chase.

use serde::Serialize;
use xietong_core::error::Result;
use xietong_core::lags::{ForeignLag, LagFinder};

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

/// Days into the next month by which a month's figures are due: August's by 10 September.
pub const GRACE_DAYS: u8 = 10;

/// The latest month whose figures were due by `today`.
pub fn due_month(today: time::Date, grace_days: u8) -> Period {
    let this_month = Period::month_of(today);
    let before = |p: &Period| Period::month_of(p.start.previous_day().unwrap_or(p.start));
    if today.day() > grace_days {
        before(&this_month)
    } else {
        before(&before(&this_month))
    }
}

/// Raised when an active pairing of a framework that reports indicators filed nothing (no
/// figure, no activity) for the month last due.
pub const REPORT_MISSING: &str = "indicator_report_missing";

#[derive(sqlx::FromRow)]
struct Unreported {
    id: i64,
    framework_id: i64,
    owner_org_id: Option<i64>,
    party_a: String,
    party_b: String,
    name_a: String,
    name_b: String,
}

/// Every active pairing that has not reported for the month last due on `today`, as lags for
/// the supervision loop (addressed to the pairing's responsible organisation).
pub async fn missing_reports(db: &xietong_core::Db, today: time::Date) -> Result<Vec<ForeignLag>> {
    let month = due_month(today, GRACE_DAYS);
    let rows: Vec<Unreported> = sqlx::query_as(
        "SELECT p.id, p.framework_id, p.owner_org_id, p.party_a, p.party_b, ra.name_zh AS name_a, rb.name_zh AS name_b
           FROM pairings p JOIN regions ra ON ra.code = p.party_a JOIN regions rb ON rb.code = p.party_b
          WHERE p.status = 'active' AND (p.started_on IS NULL OR p.started_on <= $3)
            AND p.framework_id IN (SELECT framework_id FROM framework_indicators)
            AND NOT EXISTS (SELECT 1 FROM indicator_values v
                             WHERE v.pairing_id = p.id AND v.period_end >= $2 AND v.period_end <= $3
                               AND v.period = $1 AND v.status = 'current')
            AND NOT EXISTS (SELECT 1 FROM activities a
                             WHERE a.pairing_id = p.id AND a.occurred_on >= $2 AND a.occurred_on <= $3)
          ORDER BY p.id",
    )
    .bind(month.key())
    .bind(month.start.to_string())
    .bind(month.end.to_string())
    .fetch_all(db.pool())
    .await?;
    let key = month.key();
    Ok(rows
        .into_iter()
        .map(|p| {
            let (a, b) = (&p.name_a, &p.name_b);
            ForeignLag {
                rule: REPORT_MISSING,
                subject_kind: "pairing",
                subject_id: p.id,
                framework_id: p.framework_id,
                unit_org_id: p.owner_org_id,
                subject_code: format!("{}-{}", p.party_a, p.party_b),
                subject_title_zh: format!("{a}—{b} 结对"),
                details_zh: format!("{a}—{b} 结对 {key} 月度指标未报送"),
                details_en: format!("the {a}–{b} pairing filed no figures for {key}"),
            }
        })
        .collect())
}

/// The finder the server hands to the supervision sweep.
pub fn finder() -> LagFinder {
    LagFinder {
        name: "indicators: missing monthly reports",
        rules: &[REPORT_MISSING],
        find: |db, today| Box::pin(missing_reports(db, today)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_month_falls_due_on_the_grace_day_of_the_next() {
        assert_eq!(due_month(date!(2022 - 09 - 10), 10).key(), "2022-07");
        assert_eq!(due_month(date!(2022 - 09 - 11), 10).key(), "2022-08");
        assert_eq!(due_month(date!(2023 - 01 - 31), 10).key(), "2022-12");
        assert_eq!(due_month(date!(2023 - 01 - 05), 10).key(), "2022-11");
    }
}
