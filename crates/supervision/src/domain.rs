//! Pure rules of supervision: reporting periods, the derived status of a task, the lag rules.
//! No I/O here; storage and handlers call these.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use xietong_core::error::{FieldError, Msg};

/// A monthly reporting period, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub year: i32,
    pub month: u8,
}

impl Period {
    pub fn parse(field: &str, s: &str) -> Result<Period, FieldError> {
        let bad = || {
            FieldError::new(
                field,
                "period_invalid",
                Msg::new(
                    format!("“{}”不是有效的报告期（格式 YYYY-MM）", s.trim()),
                    format!("“{}” is not a reporting period (YYYY-MM)", s.trim()),
                ),
            )
        };
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || !(2000..=2100).contains(&year) {
            return Err(bad());
        }
        Ok(Period { year, month })
    }

    pub fn of(d: Date) -> Period {
        Period {
            year: d.year(),
            month: d.month() as u8,
        }
    }

    pub fn previous(self) -> Period {
        if self.month == 1 {
            Period {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Period {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn last_day(self) -> Date {
        let month = Month::try_from(self.month).unwrap_or(Month::December);
        Date::from_calendar_date(
            self.year,
            month,
            time::util::days_in_month(month, self.year),
        )
        .unwrap_or(Date::MAX)
    }

    pub fn first_day(self) -> Date {
        let month = Month::try_from(self.month).unwrap_or(Month::January);
        Date::from_calendar_date(self.year, month, 1).unwrap_or(Date::MIN)
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Thresholds of the lag rules, read from the `[lags]` section of the configuration (defaults
/// and ranges documented in README). Only values inside their ranges make a `LagRules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LagThresholds", into = "LagThresholds")]
pub struct LagRules {
    report_grace_days: i64,
    behind_points: i64,
    projects: crate::projects_rules::ProjectRules,
}

/// The thresholds as written in configuration, before their ranges are checked.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LagThresholds {
    /// Days after a period ends within which its progress report is still on time.
    pub report_grace_days: i64,
    /// A task whose reported percent trails the share of its time already elapsed by more than
    /// this many points is at risk.
    pub behind_points: i64,
    /// A project lags when its completed investment is below this share (percent) of its annual
    /// plan prorated to the part of the year elapsed.
    pub min_investment_share_percent: i64,
}

impl Default for LagThresholds {
    fn default() -> Self {
        LagThresholds {
            report_grace_days: 10,
            behind_points: 25,
            min_investment_share_percent: 80,
        }
    }
}

impl TryFrom<LagThresholds> for LagRules {
    type Error = String;

    fn try_from(t: LagThresholds) -> Result<Self, String> {
        let within = |name: &str, v: i64, lo: i64, hi: i64| {
            if (lo..=hi).contains(&v) {
                Ok(v)
            } else {
                Err(format!(
                    "lags.{name} must be between {lo} and {hi}, not {v}"
                ))
            }
        };
        Ok(LagRules {
            report_grace_days: within("report_grace_days", t.report_grace_days, 0, 31)?,
            behind_points: within("behind_points", t.behind_points, 1, 100)?,
            projects: crate::projects_rules::ProjectRules {
                min_share_percent: within(
                    "min_investment_share_percent",
                    t.min_investment_share_percent,
                    1,
                    100,
                )?,
            },
        })
    }
}

impl From<LagRules> for LagThresholds {
    fn from(r: LagRules) -> Self {
        LagThresholds {
            report_grace_days: r.report_grace_days,
            behind_points: r.behind_points,
            min_investment_share_percent: r.projects.min_share_percent,
        }
    }
}

impl Default for LagRules {
    fn default() -> Self {
        LagThresholds::default()
            .try_into()
            .expect("the default thresholds are within their ranges")
    }
}

impl LagRules {
    pub fn report_grace_days(&self) -> i64 {
        self.report_grace_days
    }

    pub fn behind_points(&self) -> i64 {
        self.behind_points
    }

    pub fn projects(&self) -> &crate::projects_rules::ProjectRules {
        &self.projects
    }
}

/// Set by a coordinator; everything else about a task's status is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Closed,
    Dropped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    NotStarted,
    OnTrack,
    AtRisk,
    Overdue,
    /// The owner reported 100 %; a coordinator has not verified it yet.
    DoneClaimed,
    Closed,
    Dropped,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "not_started",
            TaskStatus::OnTrack => "on_track",
            TaskStatus::AtRisk => "at_risk",
            TaskStatus::Overdue => "overdue",
            TaskStatus::DoneClaimed => "done_claimed",
            TaskStatus::Closed => "closed",
            TaskStatus::Dropped => "dropped",
        }
    }

    pub const ALL: [TaskStatus; 7] = [
        TaskStatus::NotStarted,
        TaskStatus::OnTrack,
        TaskStatus::AtRisk,
        TaskStatus::Overdue,
        TaskStatus::DoneClaimed,
        TaskStatus::Closed,
        TaskStatus::Dropped,
    ];

    /// Open: still followed by the loop (not closed or dropped).
    pub fn is_open(self) -> bool {
        !matches!(self, TaskStatus::Closed | TaskStatus::Dropped)
    }
}

/// What the status of a task is derived from.
#[derive(Debug, Clone)]
pub struct TaskFacts {
    pub start_on: Date,
    pub deadline: Date,
    pub resolution: Option<Resolution>,
    /// The latest report's percent and period, if any report was filed.
    pub latest: Option<(i64, Period)>,
    /// Milestones past their due date and not done.
    pub overdue_milestones: usize,
}

/// Why a task is at risk (empty when it is not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lag {
    PastDeadline,
    ReportMissing { period: String },
    MilestoneOverdue { count: usize },
    Behind { expected: i64, reported: i64 },
}

/// The share of the task's time already elapsed on `today`, in percent.
pub fn expected_percent(start: Date, deadline: Date, today: Date) -> i64 {
    let total = (deadline - start).whole_days().max(1);
    let done = (today - start).whole_days().clamp(0, total);
    done * 100 / total
}

/// Every lag a task shows on `today` (the lag sweep turns each into an alert).
pub fn lags(f: &TaskFacts, today: Date, rules: &LagRules) -> Vec<Lag> {
    if f.resolution.is_some() || matches!(f.latest, Some((100, _))) {
        return vec![];
    }
    let mut out = Vec::new();
    if today > f.deadline {
        out.push(Lag::PastDeadline);
    }
    // The last period that has ended and whose grace has passed must have a report, unless
    // the task had not started by its end.
    let mut due = Period::of(today).previous();
    if (today - due.last_day()).whole_days() <= rules.report_grace_days() {
        due = due.previous();
    }
    let due_applies = due.last_day() >= f.start_on && due.first_day() <= f.deadline;
    let reported_since = f.latest.is_some_and(|(_, p)| p >= due);
    if due_applies && !reported_since {
        out.push(Lag::ReportMissing {
            period: due.to_string(),
        });
    }
    if f.overdue_milestones > 0 {
        out.push(Lag::MilestoneOverdue {
            count: f.overdue_milestones,
        });
    }
    let expected = expected_percent(f.start_on, f.deadline, today);
    let reported = f.latest.map(|(p, _)| p).unwrap_or(0);
    if today <= f.deadline && expected - reported > rules.behind_points() {
        out.push(Lag::Behind { expected, reported });
    }
    out
}

/// The status of a task on `today`.
pub fn status(f: &TaskFacts, today: Date, rules: &LagRules) -> TaskStatus {
    match f.resolution {
        Some(Resolution::Closed) => return TaskStatus::Closed,
        Some(Resolution::Dropped) => return TaskStatus::Dropped,
        None => {}
    }
    if matches!(f.latest, Some((100, _))) {
        return TaskStatus::DoneClaimed;
    }
    if today > f.deadline {
        return TaskStatus::Overdue;
    }
    if !lags(f, today, rules).is_empty() {
        return TaskStatus::AtRisk;
    }
    // Nothing reported (or 0 %) and not lagging yet: the work has not visibly started.
    match f.latest {
        Some((p, _)) if p > 0 => TaskStatus::OnTrack,
        _ => TaskStatus::NotStarted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn thresholds_make_rules_only_within_their_ranges() {
        let with = |f: fn(&mut LagThresholds)| {
            let mut t = LagThresholds::default();
            f(&mut t);
            LagRules::try_from(t)
        };
        assert_eq!(
            with(|t| t.report_grace_days = 0)
                .unwrap()
                .report_grace_days(),
            0
        );
        assert!(with(|t| t.report_grace_days = 32)
            .unwrap_err()
            .contains("report_grace_days"));
        assert!(with(|t| t.behind_points = 0)
            .unwrap_err()
            .contains("behind_points"));
        assert!(with(|t| t.min_investment_share_percent = 101)
            .unwrap_err()
            .contains("min_investment_share_percent"));
        let round_trip = LagThresholds::from(with(|t| t.behind_points = 40).unwrap());
        assert_eq!(round_trip.behind_points, 40);
    }

    fn facts() -> TaskFacts {
        TaskFacts {
            start_on: date!(2022 - 01 - 01),
            deadline: date!(2022 - 12 - 31),
            resolution: None,
            latest: None,
            overdue_milestones: 0,
        }
    }

    fn p(s: &str) -> Period {
        Period::parse("period", s).unwrap()
    }

    #[test]
    fn periods_parse_strictly() {
        assert_eq!(p("2022-07").to_string(), "2022-07");
        for bad in ["2022-13", "2022-7", "22-07", "2022/07", "", "2022-00"] {
            assert!(Period::parse("period", bad).is_err(), "{bad}");
        }
        assert_eq!(p("2022-01").previous(), p("2021-12"));
        assert_eq!(p("2024-02").last_day(), date!(2024 - 02 - 29));
    }

    #[test]
    fn a_fresh_task_is_not_started_then_at_risk_without_reports() {
        let rules = LagRules::default();
        assert_eq!(
            status(&facts(), date!(2022 - 01 - 05), &rules),
            TaskStatus::NotStarted
        );
        // By mid-February January's report is due and missing.
        let s = status(&facts(), date!(2022 - 02 - 20), &rules);
        assert_eq!(s, TaskStatus::AtRisk);
        assert_eq!(
            lags(&facts(), date!(2022 - 02 - 20), &rules),
            vec![Lag::ReportMissing {
                period: "2022-01".into()
            }]
        );
    }

    #[test]
    fn reports_keep_a_task_on_track() {
        let mut f = facts();
        f.latest = Some((50, p("2022-06")));
        assert_eq!(
            status(&f, date!(2022 - 07 - 05), &LagRules::default()),
            TaskStatus::OnTrack
        );
    }

    #[test]
    fn a_task_behind_its_time_is_at_risk() {
        let mut f = facts();
        f.latest = Some((10, p("2022-09")));
        let l = lags(&f, date!(2022 - 10 - 05), &LagRules::default());
        assert!(
            matches!(l.as_slice(), [Lag::Behind { reported: 10, .. }]),
            "{l:?}"
        );
    }

    #[test]
    fn deadlines_milestones_and_resolutions() {
        let rules = LagRules::default();
        let mut f = facts();
        f.latest = Some((90, p("2022-12")));
        assert_eq!(
            status(&f, date!(2023 - 01 - 05), &rules),
            TaskStatus::Overdue
        );
        f.latest = Some((100, p("2022-12")));
        assert_eq!(
            status(&f, date!(2023 - 01 - 05), &rules),
            TaskStatus::DoneClaimed
        );
        f.resolution = Some(Resolution::Closed);
        assert_eq!(
            status(&f, date!(2023 - 01 - 05), &rules),
            TaskStatus::Closed
        );
        let mut g = facts();
        g.latest = Some((60, p("2022-06")));
        g.overdue_milestones = 1;
        assert_eq!(
            status(&g, date!(2022 - 07 - 01), &rules),
            TaskStatus::AtRisk
        );
        g.resolution = Some(Resolution::Dropped);
        assert!(lags(&g, date!(2022 - 07 - 01), &rules).is_empty());
    }

    proptest! {
        #[test]
        fn resolved_tasks_never_lag(day in 0i64..800, percent in 0i64..=100, closed in any::<bool>()) {
            let mut f = facts();
            f.latest = Some((percent, p("2022-03")));
            f.resolution = Some(if closed { Resolution::Closed } else { Resolution::Dropped });
            let today = date!(2021 - 10 - 01) + time::Duration::days(day);
            prop_assert!(lags(&f, today, &LagRules::default()).is_empty());
            prop_assert!(!status(&f, today, &LagRules::default()).is_open());
        }

        #[test]
        fn expected_share_stays_within_bounds(day in -100i64..1000) {
            let today = date!(2022 - 01 - 01) + time::Duration::days(day);
            let e = expected_percent(date!(2022 - 01 - 01), date!(2022 - 12 - 31), today);
            prop_assert!((0..=100).contains(&e));
        }

        #[test]
        fn an_overdue_task_is_overdue_unless_finished(day in 1i64..400, percent in 0i64..100) {
            let mut f = facts();
            f.latest = Some((percent, p("2022-12")));
            let today = date!(2022 - 12 - 31) + time::Duration::days(day);
            prop_assert_eq!(status(&f, today, &LagRules::default()), TaskStatus::Overdue);
        }
    }
}
