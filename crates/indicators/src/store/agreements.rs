//! Agreements (framework agreements between provinces, annual agreements per pairing) and the
//! targets they set per pairing, year and indicator.

use serde::{Deserialize, Serialize};
use xietong_core::audit::Change;
use xietong_core::domain::text;
use xietong_core::error::{Error, Problems, Result};
use xietong_core::permissions::Actor;
use xietong_core::Db;

use crate::permissions;
use crate::units;

pub const KINDS: &[&str] = &["framework", "annual", "target"];

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AgreementInput {
    pub framework_id: i64,
    /// Empty for a framework agreement between the provinces.
    pub pairing_id: Option<i64>,
    /// `framework` or `annual`.
    pub kind: String,
    pub year: i64,
    pub title_zh: String,
    pub signed_on: String,
    pub text_zh: String,
    /// Targets the agreement sets: indicator code → figure with unit (`3000万元`).
    pub targets: Vec<TargetInput>,
    #[serde(skip)]
    pub generated: bool,
    #[serde(skip)]
    pub source_quote: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TargetInput {
    pub indicator: String,
    pub amount: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Agreement {
    pub id: i64,
    pub framework_id: i64,
    pub pairing_id: Option<i64>,
    pub kind: String,
    pub year: i64,
    pub title_zh: String,
    pub signed_on: String,
    pub text_zh: String,
    pub generated: i64,
    pub source_quote: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Target {
    pub pairing_id: i64,
    pub year: i64,
    pub indicator_id: i64,
    pub indicator_code: String,
    pub amount: i64,
}

const SELECT: &str = "SELECT id, framework_id, pairing_id, kind, year, title_zh, signed_on, text_zh, generated, source_quote FROM agreements";

pub async fn create(db: &Db, actor: &Actor, input: &AgreementInput) -> Result<Agreement> {
    let mut problems = Problems::new();
    if !KINDS.contains(&input.kind.as_str()) {
        problems.push(xietong_core::error::FieldError::new(
            "kind",
            "kind_invalid",
            xietong_core::error::Msg::new(
                "协议类型应为 framework、annual 或 target",
                "the kind must be framework, annual or target",
            ),
        ));
    }
    if input.kind == "annual" && input.pairing_id.is_none() {
        problems.push(xietong_core::error::FieldError::new(
            "pairing_id",
            "pairing_required",
            xietong_core::error::Msg::new(
                "年度合作协议须指明结对",
                "an annual agreement belongs to a pairing",
            ),
        ));
    }
    if !(2000..=2100).contains(&input.year) {
        problems.push(xietong_core::error::FieldError::new(
            "year",
            "year_invalid",
            xietong_core::error::Msg::new("年份无效", "the year is not valid"),
        ));
    }
    let title = problems.take(text::bounded("title_zh", &input.title_zh, 1, 200));
    let signed_on = problems.take(text::date("signed_on", &input.signed_on));
    let body = problems.take(text::optional("text_zh", &input.text_zh, 20_000));
    let pairing = match input.pairing_id {
        Some(id) => Some(super::pairing(db, id).await?),
        None => None,
    };
    if let Some(p) = &pairing {
        if p.framework_id != input.framework_id {
            problems.push(xietong_core::error::FieldError::new(
                "pairing_id",
                "pairing_elsewhere",
                xietong_core::error::Msg::new(
                    "该结对不属于此框架",
                    "the pairing belongs to another framework",
                ),
            ));
        }
    }
    let indicators = super::catalogue::for_framework(db, input.framework_id).await?;
    let mut targets = Vec::new();
    for (i, t) in input.targets.iter().enumerate() {
        let field = format!("targets[{i}]");
        match indicators.iter().find(|x| x.code == t.indicator.trim()) {
            None => problems.push(xietong_core::error::FieldError::new(
                field,
                "indicator_unknown",
                xietong_core::error::Msg::new(
                    format!("本框架不报送指标“{}”", t.indicator),
                    format!("this framework does not report “{}”", t.indicator),
                ),
            )),
            Some(ind) => {
                if let Some(a) = problems.take(units::parse_quantity(&field, &t.amount, ind.unit()))
                {
                    targets.push((ind.id, a));
                }
            }
        }
    }
    if !targets.is_empty() && pairing.is_none() {
        problems.push(xietong_core::error::FieldError::new(
            "targets",
            "targets_need_pairing",
            xietong_core::error::Msg::new(
                "目标须设在结对的年度协议上",
                "targets are set by a pairing's annual agreement",
            ),
        ));
    }
    problems.into_result()?;
    let (title, signed_on, body) = (
        title.unwrap_or_default(),
        signed_on.ok_or_else(|| Error::Internal("date".into()))?,
        body.unwrap_or_default(),
    );
    let mut w = db.write(actor).await?;
    w.authorize_decision(permissions::manage(Some(actor), input.framework_id))?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO agreements (framework_id, pairing_id, kind, year, title_zh, signed_on, text_zh, generated, source_quote, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(input.framework_id)
    .bind(input.pairing_id)
    .bind(&input.kind)
    .bind(input.year)
    .bind(&title)
    .bind(signed_on.to_string())
    .bind(&body)
    .bind(i64::from(input.generated))
    .bind(input.source_quote.clone())
    .bind(xietong_core::clock::now_rfc3339())
    .fetch_one(w.conn())
    .await
    .map_err(Error::from)
    .map_err(|e| e.on_unique("agreement_exists", "该结对本年度已有同类协议", "this pairing already has such an agreement for the year"))?;
    if let Some(p) = &pairing {
        for (indicator, amount) in &targets {
            sqlx::query(
                "INSERT INTO indicator_targets (pairing_id, year, indicator_id, amount, agreement_id) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (pairing_id, year, indicator_id) DO UPDATE SET amount = excluded.amount, agreement_id = excluded.agreement_id",
            )
            .bind(p.id)
            .bind(input.year)
            .bind(*indicator)
            .bind(*amount)
            .bind(id)
            .execute(w.conn())
            .await?;
        }
    }
    let agreement = Agreement {
        id,
        framework_id: input.framework_id,
        pairing_id: input.pairing_id,
        kind: input.kind.clone(),
        year: input.year,
        title_zh: title,
        signed_on: signed_on.to_string(),
        text_zh: body,
        generated: i64::from(input.generated),
        source_quote: input.source_quote.clone(),
    };
    w.record(Change::created(
        "agreement",
        id,
        serde_json::json!({"agreement": &agreement, "targets": targets.len()}),
    ))
    .await?;
    w.commit().await?;
    Ok(agreement)
}

pub async fn of_framework(db: &Db, framework_id: i64) -> Result<Vec<Agreement>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE framework_id = $1 ORDER BY year DESC, signed_on, id"
    ))
    .bind(framework_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn of_pairing(db: &Db, pairing_id: i64) -> Result<Vec<Agreement>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE pairing_id = $1 ORDER BY year DESC, signed_on"
    ))
    .bind(pairing_id)
    .fetch_all(db.pool())
    .await?)
}

/// The year's targets of a framework's pairings.
pub async fn targets(db: &Db, framework_id: i64, year: i64) -> Result<Vec<Target>> {
    Ok(sqlx::query_as(
        "SELECT t.pairing_id, t.year, t.indicator_id, i.code AS indicator_code, t.amount
           FROM indicator_targets t JOIN pairings p ON p.id = t.pairing_id JOIN indicators i ON i.id = t.indicator_id
          WHERE p.framework_id = $1 AND t.year = $2",
    )
    .bind(framework_id)
    .bind(year)
    .fetch_all(db.pool())
    .await?)
}

/// The year's targets of one pairing, read by the targets' own key.
pub async fn targets_of_pairing(db: &Db, pairing_id: i64, year: i64) -> Result<Vec<Target>> {
    Ok(sqlx::query_as(
        "SELECT t.pairing_id, t.year, t.indicator_id, i.code AS indicator_code, t.amount
           FROM indicator_targets t JOIN indicators i ON i.id = t.indicator_id
          WHERE t.pairing_id = $1 AND t.year = $2",
    )
    .bind(pairing_id)
    .bind(year)
    .fetch_all(db.pool())
    .await?)
}

/// Whether one pairing's agreements include its annual agreement for `year` signed by `day`:
/// what [`pairs_signed`] asks of the database, for a pairing whose agreements are at hand.
pub fn annual_signed_by(agreements: &[Agreement], year: i64, day: &str) -> bool {
    agreements.iter().any(|a| {
        a.kind == "annual"
            && a.year == year
            && a.pairing_id.is_some()
            && a.signed_on.as_str() <= day
    })
}

/// Pairings of a framework with an annual agreement for `year` signed by `day`.
pub async fn pairs_signed(db: &Db, framework_id: i64, year: i64, day: &str) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT pairing_id FROM agreements WHERE framework_id = $1 AND kind = 'annual' AND year = $2 AND signed_on <= $3 AND pairing_id IS NOT NULL",
    )
    .bind(framework_id)
    .bind(year)
    .bind(day)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agreement(kind: &str, year: i64, signed_on: &str) -> Agreement {
        Agreement {
            id: 1,
            framework_id: 1,
            pairing_id: Some(7),
            kind: kind.into(),
            year,
            title_zh: "年度协议".into(),
            signed_on: signed_on.into(),
            text_zh: String::new(),
            generated: 0,
            source_quote: None,
        }
    }

    #[test]
    fn only_the_years_annual_agreement_signed_by_the_day_counts() {
        let signed = [agreement("annual", 2022, "2022-03-15")];
        assert!(annual_signed_by(&signed, 2022, "2022-03-15"));
        assert!(annual_signed_by(&signed, 2022, "2022-08-31"));
        assert!(!annual_signed_by(&signed, 2022, "2022-03-14"));
        assert!(!annual_signed_by(&signed, 2023, "2023-08-31"));
        let other_kinds = [
            agreement("framework", 2022, "2022-01-01"),
            agreement("target", 2022, "2022-01-01"),
        ];
        assert!(!annual_signed_by(&other_kinds, 2022, "2022-08-31"));
        assert!(!annual_signed_by(&[], 2022, "2022-08-31"));
    }
}
