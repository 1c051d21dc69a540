//! Pure rules of the major-project register: stages, and when a project lags its annual plan.

use serde::Serialize;
use time::Date;

use xietong_core::domain::Money;

pub const STAGES: &[&str] = &[
    "reserve",
    "preparatory",
    "started",
    "under_construction",
    "completed",
    "in_operation",
];

/// Stages in which building has not begun.
pub fn not_yet_started(stage: &str) -> bool {
    matches!(stage, "reserve" | "preparatory")
}

/// Thresholds of the project lag rules (configured as part of [`crate::domain::LagRules`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectRules {
    /// A project lags when its completed investment is below this share (percent) of its plan
    /// prorated to the part of the year elapsed.
    pub(crate) min_share_percent: i64,
}

impl Default for ProjectRules {
    fn default() -> Self {
        ProjectRules {
            min_share_percent: 80,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectLag {
    /// Completed investment below the threshold of the time-prorated plan.
    BehindPlan {
        expected_fen: i64,
        completed_fen: i64,
        /// The threshold it fell below, in percent of `expected_fen`.
        min_share_percent: i64,
    },
    /// Planned to start by now, still in reserve or preparation.
    NotStarted { planned_start: String },
}

/// The plan prorated to `today`: planned × days elapsed in the year ÷ days in the year.
pub fn prorated(planned_fen: i64, year: i32, today: Date) -> i64 {
    let start = Date::from_calendar_date(year, time::Month::January, 1).unwrap_or(today);
    let end = Date::from_calendar_date(year, time::Month::December, 31).unwrap_or(today);
    let total = (end - start).whole_days() + 1;
    let elapsed = ((today - start).whole_days() + 1).clamp(0, total);
    // i128 keeps planned × elapsed exact for any amount Money allows.
    (planned_fen as i128 * elapsed as i128 / total as i128) as i64
}

/// The facts one year's lag check needs.
#[derive(Debug, Clone)]
pub struct PlanFacts {
    pub year: i32,
    pub stage: String,
    pub planned_fen: i64,
    pub completed_fen: i64,
    pub planned_start_on: Option<Date>,
}

pub fn lags(f: &PlanFacts, today: Date, rules: &ProjectRules) -> Vec<ProjectLag> {
    let mut out = Vec::new();
    if today.year() == f.year && f.planned_fen > 0 {
        let expected = prorated(f.planned_fen, f.year, today);
        if (f.completed_fen as i128) * 100 < (expected as i128) * rules.min_share_percent as i128 {
            out.push(ProjectLag::BehindPlan {
                expected_fen: expected,
                completed_fen: f.completed_fen,
                min_share_percent: rules.min_share_percent,
            });
        }
    }
    if let Some(start) = f.planned_start_on {
        if start < today && not_yet_started(&f.stage) {
            out.push(ProjectLag::NotStarted {
                planned_start: xietong_core::domain::text::format_date(start),
            });
        }
    }
    out
}

/// Chinese and English wording of a lag, with money in 万元/亿元.
pub fn describe(lag: &ProjectLag) -> (String, String) {
    let show = |fen: i64| {
        Money::from_fen(fen)
            .map(|m| m.ledger())
            .unwrap_or_else(|| format!("{fen}分"))
    };
    match lag {
        ProjectLag::BehindPlan {
            expected_fen,
            completed_fen,
            min_share_percent: share,
        } => (
            format!(
                "完成投资{}，低于时序计划{}的{share}%",
                show(*completed_fen),
                show(*expected_fen)
            ),
            format!(
                "completed investment {} is under {share}% of the prorated plan {}",
                show(*completed_fen),
                show(*expected_fen)
            ),
        ),
        ProjectLag::NotStarted { planned_start } => (
            format!("计划{planned_start}开工，至今未开工"),
            format!("planned to start on {planned_start}, not started"),
        ),
    }
}

pub fn rule_of(lag: &ProjectLag) -> &'static str {
    match lag {
        ProjectLag::BehindPlan { .. } => "behind_plan",
        ProjectLag::NotStarted { .. } => "not_started",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn facts(completed: i64) -> PlanFacts {
        PlanFacts {
            year: 2022,
            stage: "under_construction".into(),
            planned_fen: 36_500,
            completed_fen: completed,
            planned_start_on: None,
        }
    }

    #[test]
    fn proration_is_by_day_of_year() {
        assert_eq!(prorated(36_500, 2022, date!(2022 - 01 - 01)), 100);
        assert_eq!(prorated(36_500, 2022, date!(2022 - 12 - 31)), 36_500);
        assert_eq!(prorated(36_500, 2022, date!(2023 - 03 - 01)), 36_500);
        assert_eq!(prorated(36_500, 2022, date!(2021 - 12 - 31)), 0);
    }

    #[test]
    fn a_project_under_eighty_percent_of_its_prorated_plan_lags() {
        // On 1 July, 182 of 365 days: expected 18,200; 80 % of it is 14,560.
        let today = date!(2022 - 07 - 01);
        assert!(lags(&facts(14_560), today, &ProjectRules::default()).is_empty());
        assert_eq!(
            lags(&facts(14_559), today, &ProjectRules::default()),
            vec![ProjectLag::BehindPlan {
                expected_fen: 18_200,
                completed_fen: 14_559,
                min_share_percent: 80,
            }]
        );
    }

    #[test]
    fn a_project_not_started_by_its_planned_start_lags() {
        let mut f = facts(1_000_000);
        f.stage = "preparatory".into();
        f.planned_start_on = Some(date!(2022 - 03 - 01));
        assert!(matches!(
            lags(&f, date!(2022 - 04 - 01), &ProjectRules::default()).as_slice(),
            [ProjectLag::NotStarted { .. }]
        ));
        f.stage = "started".into();
        assert!(lags(&f, date!(2022 - 04 - 01), &ProjectRules::default()).is_empty());
    }

    #[test]
    fn money_is_worded_in_ledger_units() {
        let (zh, _) = describe(&ProjectLag::BehindPlan {
            expected_fen: 43_900_000_000,
            completed_fen: 1_508_000_000,
            min_share_percent: 60,
        });
        assert!(zh.contains("4.39亿元") && zh.contains("1508万元"), "{zh}");
        assert!(
            zh.contains("的60%"),
            "the threshold in force is named: {zh}"
        );
    }

    proptest! {
        #[test]
        fn meeting_the_prorated_plan_never_lags(planned in 0i64..10_000_000_000_000, day in 0i64..365) {
            let today = date!(2022 - 01 - 01) + time::Duration::days(day);
            let f = PlanFacts { year: 2022, stage: "under_construction".into(), planned_fen: planned, completed_fen: prorated(planned, 2022, today), planned_start_on: None };
            prop_assert!(lags(&f, today, &ProjectRules::default()).is_empty());
        }
    }
}
