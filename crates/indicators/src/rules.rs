//! The pure rules: how values combine over time, which indicators an activity feeds, and how a
//! report card is folded from as-of totals. No I/O here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How an indicator's values combine over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// Flows add up: funds, jobs, purchases.
    Sum,
    /// Events are counted: parks, visits, projects (each record counts its number).
    CountEvents,
    /// The latest reported value stands: a stock such as a fund's size.
    Latest,
    /// The number of pairings for which the basis indicator is above zero.
    CountPairs,
}

impl Combine {
    pub fn parse(s: &str) -> Option<Combine> {
        match s {
            "sum" => Some(Combine::Sum),
            "count_events" => Some(Combine::CountEvents),
            "latest" => Some(Combine::Latest),
            "count_pairs" => Some(Combine::CountPairs),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Combine::Sum => "sum",
            Combine::CountEvents => "count_events",
            Combine::Latest => "latest",
            Combine::CountPairs => "count_pairs",
        }
    }

    /// Whether a later value adds to earlier ones (so roll-ups keep running totals).
    pub fn is_additive(self) -> bool {
        matches!(self, Combine::Sum | Combine::CountEvents)
    }
}

/// What kind of cooperation an activity record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// 党政主要领导互访
    Visit,
    /// 互派干部、专技人才、医务人员、教师 (category says which)
    Exchange,
    /// 培训
    Training,
    /// 消费帮扶 or supply-chain purchases (category says which)
    Purchase,
    /// 森林面积指标 or 耕地占补平衡指标 trade (category says which)
    LandTrade,
    /// 共建产业协作园区
    Park,
    /// 景区共建
    Scenic,
    /// 产业协同项目落地
    Project,
    /// 科技成果转化
    TechTransfer,
    /// 融资协作
    Financing,
    /// 横向生态补偿
    EcoCompensation,
    /// 企业落地
    Firm,
}

pub const ACTIVITY_KINDS: &[ActivityKind] = &[
    ActivityKind::Visit,
    ActivityKind::Exchange,
    ActivityKind::Training,
    ActivityKind::Purchase,
    ActivityKind::LandTrade,
    ActivityKind::Park,
    ActivityKind::Scenic,
    ActivityKind::Project,
    ActivityKind::TechTransfer,
    ActivityKind::Financing,
    ActivityKind::EcoCompensation,
    ActivityKind::Firm,
];

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Visit => "visit",
            ActivityKind::Exchange => "exchange",
            ActivityKind::Training => "training",
            ActivityKind::Purchase => "purchase",
            ActivityKind::LandTrade => "land_trade",
            ActivityKind::Park => "park",
            ActivityKind::Scenic => "scenic",
            ActivityKind::Project => "project",
            ActivityKind::TechTransfer => "tech_transfer",
            ActivityKind::Financing => "financing",
            ActivityKind::EcoCompensation => "eco_compensation",
            ActivityKind::Firm => "firm",
        }
    }

    pub fn parse(s: &str) -> Option<ActivityKind> {
        ACTIVITY_KINDS.iter().copied().find(|k| k.as_str() == s)
    }

    /// The categories this kind needs one of (empty: no category).
    pub fn categories(self) -> &'static [&'static str] {
        match self {
            ActivityKind::Exchange => &["cadre", "professional", "medical", "teacher"],
            ActivityKind::Purchase => &["consumption", "supply_chain"],
            ActivityKind::LandTrade => &["forest_area", "farmland_balance"],
            _ => &[],
        }
    }
}

/// The measures of one activity record or of a group of them (base units: fen, 人, 亩, 公斤).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Measures {
    /// How many activities these measures add up: 1 for one record, the count for a group
    /// (every contribution is linear, so a group's contributions are its members' sums).
    pub events: i64,
    pub headcount: i64,
    pub amount: i64,
    pub area_mu: i64,
    pub weight_kg: i64,
}

/// Every indicator code an activity of `kind` can feed, whatever its category.
pub fn fed_by(kind: ActivityKind) -> &'static [&'static str] {
    match kind {
        ActivityKind::Visit => &["LEADER_VISITS"],
        ActivityKind::Exchange => &["CADRES", "PROFESSIONALS", "MEDICAL_STAFF", "TEACHERS"],
        ActivityKind::Training => &["TRAINED"],
        ActivityKind::Purchase => &["CONSUMPTION", "PRODUCE_KG", "SUPPLY_PURCHASES"],
        ActivityKind::LandTrade => &["LAND_COOPERATION", "LAND_AREA", "LAND_AMOUNT"],
        ActivityKind::Park => &["PARKS"],
        ActivityKind::Scenic => &["SCENIC_SITES"],
        ActivityKind::Project => &["PROJECTS_LANDED", "CAPITAL_ARRIVED"],
        ActivityKind::TechTransfer => &["TECH_TRANSFER"],
        ActivityKind::Financing => &["FINANCING"],
        ActivityKind::EcoCompensation => &["ECO_COMPENSATION"],
        ActivityKind::Firm => &["FIRMS_LANDED", "FIRM_INVESTMENT"],
    }
}

/// What one activity adds to which indicator. Zero contributions are left out.
pub fn contributions(kind: ActivityKind, category: &str, m: &Measures) -> Vec<(&'static str, i64)> {
    let out: Vec<(&'static str, i64)> = match kind {
        ActivityKind::Visit => vec![("LEADER_VISITS", m.events)],
        ActivityKind::Exchange => {
            let code = match category {
                "cadre" => "CADRES",
                "professional" => "PROFESSIONALS",
                "medical" => "MEDICAL_STAFF",
                _ => "TEACHERS",
            };
            vec![(code, m.headcount)]
        }
        ActivityKind::Training => vec![("TRAINED", m.headcount)],
        ActivityKind::Purchase if category == "supply_chain" => {
            vec![("SUPPLY_PURCHASES", m.amount)]
        }
        ActivityKind::Purchase => vec![("CONSUMPTION", m.amount), ("PRODUCE_KG", m.weight_kg)],
        ActivityKind::LandTrade => vec![
            ("LAND_COOPERATION", m.events),
            ("LAND_AREA", m.area_mu),
            ("LAND_AMOUNT", m.amount),
        ],
        ActivityKind::Park => vec![("PARKS", m.events)],
        ActivityKind::Scenic => vec![("SCENIC_SITES", m.events)],
        ActivityKind::Project => vec![("PROJECTS_LANDED", m.events), ("CAPITAL_ARRIVED", m.amount)],
        ActivityKind::TechTransfer => vec![("TECH_TRANSFER", m.events)],
        ActivityKind::Financing => vec![("FINANCING", m.events)],
        ActivityKind::EcoCompensation => vec![("ECO_COMPENSATION", m.events)],
        ActivityKind::Firm => vec![("FIRMS_LANDED", m.events), ("FIRM_INVESTMENT", m.amount)],
    };
    out.into_iter().filter(|(_, n)| *n != 0).collect()
}

/// True when some activity kind feeds `code`: such an indicator is derived, and a hand-typed
/// value for a pairing and period that already has feeding activities is a double entry.
pub fn is_derivable(code: &str) -> bool {
    ACTIVITY_KINDS.iter().any(|k| fed_by(*k).contains(&code))
}

/// One indicator as the card needs it.
#[derive(Debug, Clone)]
pub struct CardIndicator {
    pub id: i64,
    pub code: String,
    pub combine: Combine,
    pub basis_id: Option<i64>,
}

/// Folds per-pairing as-of amounts into framework totals. `amounts[(pairing, indicator)]` holds
/// additive running totals or latest stocks; count-of-pairs indicators are counted here from
/// their basis.
pub fn framework_totals(
    indicators: &[CardIndicator],
    pairings: &[i64],
    amounts: &BTreeMap<(i64, i64), i64>,
) -> BTreeMap<i64, i64> {
    indicators
        .iter()
        .map(|ind| {
            let total = match (ind.combine, ind.basis_id) {
                (Combine::CountPairs, Some(basis)) => pairings
                    .iter()
                    .filter(|p| amounts.get(&(**p, basis)).copied().unwrap_or(0) > 0)
                    .count() as i64,
                (Combine::CountPairs, None) => 0,
                _ => pairings
                    .iter()
                    .map(|p| amounts.get(&(*p, ind.id)).copied().unwrap_or(0))
                    .sum(),
            };
            (ind.id, total)
        })
        .collect()
}

/// Per pairing: count-of-pairs indicators become 1 or 0 for the pairing itself.
pub fn pairing_amount(
    ind: &CardIndicator,
    pairing: i64,
    amounts: &BTreeMap<(i64, i64), i64>,
) -> i64 {
    match (ind.combine, ind.basis_id) {
        (Combine::CountPairs, Some(basis)) => {
            i64::from(amounts.get(&(pairing, basis)).copied().unwrap_or(0) > 0)
        }
        (Combine::CountPairs, None) => 0,
        _ => amounts.get(&(pairing, ind.id)).copied().unwrap_or(0),
    }
}

/// Progress against a target in whole percent, rounded down; none without a positive target.
pub fn progress_percent(actual: i64, target: i64) -> Option<i64> {
    (target > 0).then(|| ((actual as i128 * 100) / target as i128) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_activity_feeds_only_what_it_declares() {
        for kind in ACTIVITY_KINDS {
            let categories: Vec<&str> = if kind.categories().is_empty() {
                vec![""]
            } else {
                kind.categories().to_vec()
            };
            for c in categories {
                let m = Measures {
                    events: 1,
                    headcount: 3,
                    amount: 5,
                    area_mu: 7,
                    weight_kg: 11,
                };
                for (code, _) in contributions(*kind, c, &m) {
                    assert!(fed_by(*kind).contains(&code), "{kind:?}/{c} feeds {code}");
                }
            }
        }
    }

    #[test]
    fn land_trades_feed_area_amount_and_a_cooperation_event() {
        let m = Measures {
            events: 1,
            area_mu: 75_000,
            amount: 18_750_000_000,
            ..Default::default()
        };
        assert_eq!(
            contributions(ActivityKind::LandTrade, "forest_area", &m),
            vec![
                ("LAND_COOPERATION", 1),
                ("LAND_AREA", 75_000),
                ("LAND_AMOUNT", 18_750_000_000)
            ]
        );
        assert!(is_derivable("LAND_AREA"));
        assert!(!is_derivable("FUNDS"));
    }

    #[test]
    fn pairs_meeting_a_condition_are_counted_from_their_basis() {
        let visits = CardIndicator {
            id: 1,
            code: "LEADER_VISITS".into(),
            combine: Combine::CountEvents,
            basis_id: None,
        };
        let pairs = CardIndicator {
            id: 2,
            code: "PAIRS_VISITS".into(),
            combine: Combine::CountPairs,
            basis_id: Some(1),
        };
        let amounts = BTreeMap::from([((10, 1), 2), ((11, 1), 0), ((12, 1), 1)]);
        let totals = framework_totals(
            &[visits.clone(), pairs.clone()],
            &[10, 11, 12, 13],
            &amounts,
        );
        assert_eq!(totals[&1], 3);
        assert_eq!(totals[&2], 2);
        assert_eq!(pairing_amount(&pairs, 11, &amounts), 0);
        assert_eq!(pairing_amount(&pairs, 12, &amounts), 1);
    }

    #[test]
    fn progress_rounds_down_and_needs_a_target() {
        assert_eq!(progress_percent(2, 3), Some(66));
        assert_eq!(progress_percent(5, 0), None);
    }
}
