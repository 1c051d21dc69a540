//! Supervision's demo data: the meetings, adopted documents, decisions and task-book items the
//! seed articles name (`demo/supervision.toml`, each with its source), plus a few generated
//! tasks of the current year that show the loop at work today.

use std::collections::HashMap;

use serde::Deserialize;
use time::Date;
use xietong_core::domain::text;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::Actor;
use xietong_core::Db;

use crate::domain::LagRules;
use crate::store::meetings::{self, DecisionInput, DocumentInput, MeetingInput};
use crate::store::projects::{self, InvestmentInput, PlanInput, ProjectInput};
use crate::store::tasks::{self, ReportInput, ResolveInput, TaskInput};

pub const SUPERVISION_TOML: &str = include_str!("../demo/supervision.toml");

#[derive(Deserialize)]
struct SourceRef {
    seed: String,
    quote: String,
}

#[derive(Deserialize)]
struct MeetingRow {
    key: String,
    body: String,
    #[serde(default)]
    ordinal: Option<i64>,
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    place_zh: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    host_region: String,
    title_zh: String,
    #[serde(default)]
    summary_zh: String,
    #[serde(default)]
    source: Option<SourceRef>,
}

#[derive(Deserialize)]
struct DocumentRow {
    meeting: String,
    title_zh: String,
    kind: String,
    #[serde(default)]
    source: Option<SourceRef>,
}

#[derive(Deserialize)]
struct DecisionRow {
    key: String,
    meeting: String,
    text_zh: String,
    #[serde(default)]
    source: Option<SourceRef>,
}

#[derive(Deserialize)]
struct TaskRow {
    code: String,
    framework: String,
    year: i64,
    area: String,
    title_zh: String,
    lead_org: String,
    #[serde(default)]
    co_orgs: Vec<String>,
    deadline: String,
    #[serde(default)]
    decision: Option<String>,
    #[serde(default)]
    source: Option<SourceRef>,
    #[serde(default)]
    generated: bool,
}

#[derive(Deserialize)]
struct ProjectRow {
    code: String,
    framework: String,
    name_zh: String,
    stage: String,
    regions: Vec<String>,
    #[serde(default)]
    added_2022: bool,
    #[serde(default)]
    total_investment_wan: i64,
    #[serde(default)]
    source: Option<SourceRef>,
}

#[derive(Deserialize)]
struct DemoFile {
    meetings: Vec<MeetingRow>,
    documents: Vec<DocumentRow>,
    decisions: Vec<DecisionRow>,
    tasks: Vec<TaskRow>,
    projects: Vec<ProjectRow>,
}

fn split(s: Option<SourceRef>) -> (Option<String>, Option<String>) {
    s.map(|s| (Some(s.seed), Some(s.quote)))
        .unwrap_or((None, None))
}

/// Loads the demo into a database that holds the core demo registry.
pub async fn load(db: &Db, today: Date) -> Result<()> {
    let file: DemoFile = toml::from_str(SUPERVISION_TOML)
        .map_err(|e| Error::Config(format!("supervision demo: {e}")))?;
    let actor = Actor::system("demo");
    let orgs = xietong_core::demo::organisation_ids(db).await?;
    let org = |k: &str| {
        orgs.get(k)
            .copied()
            .ok_or_else(|| Error::Config(format!("supervision demo: unknown organisation {k}")))
    };
    let bodies: Vec<(String, i64)> = sqlx::query_as("SELECT key, id FROM bodies")
        .fetch_all(db.pool())
        .await?;
    let bodies: HashMap<String, i64> = bodies.into_iter().collect();
    let frameworks: Vec<(String, i64)> = sqlx::query_as("SELECT key, id FROM frameworks")
        .fetch_all(db.pool())
        .await?;
    let frameworks: HashMap<String, i64> = frameworks.into_iter().collect();

    let mut meeting_ids = HashMap::new();
    for m in file.meetings {
        let body_id = *bodies
            .get(&m.body)
            .ok_or_else(|| Error::Config(format!("supervision demo: unknown body {}", m.body)))?;
        let (seed, quote) = split(m.source);
        let input = MeetingInput {
            body_id,
            ordinal: m.ordinal,
            held_on: m.held_on,
            place_zh: m.place_zh,
            format: m.format,
            host_region: m.host_region,
            title_zh: m.title_zh,
            summary_zh: m.summary_zh,
        };
        let created = meetings::create(
            db,
            &actor,
            &input,
            meetings::Provenance {
                key: Some(m.key.clone()),
                seed,
                quote,
                generated: false,
            },
            today,
        )
        .await?;
        meeting_ids.insert(m.key, created.meeting.id);
    }
    let meeting = |k: &str| {
        meeting_ids
            .get(k)
            .copied()
            .ok_or_else(|| Error::Config(format!("supervision demo: unknown meeting {k}")))
    };
    for d in file.documents {
        let (seed, quote) = split(d.source);
        meetings::add_document(
            db,
            &actor,
            meeting(&d.meeting)?,
            &DocumentInput {
                title_zh: d.title_zh,
                kind: d.kind,
            },
            meetings::Provenance {
                key: None,
                seed,
                quote,
                generated: false,
            },
        )
        .await?;
    }
    let mut decision_ids = HashMap::new();
    for d in file.decisions {
        let (seed, quote) = split(d.source);
        let created = meetings::add_decision(
            db,
            &actor,
            meeting(&d.meeting)?,
            &DecisionInput { text_zh: d.text_zh },
            meetings::Provenance {
                key: Some(d.key.clone()),
                seed,
                quote,
                generated: false,
            },
        )
        .await?;
        decision_ids.insert(d.key, created.id);
    }
    for t in file.tasks {
        let (seed, quote) = split(t.source);
        let framework_id = *frameworks.get(&t.framework).ok_or_else(|| {
            Error::Config(format!(
                "supervision demo: unknown framework {}",
                t.framework
            ))
        })?;
        let input = TaskInput {
            code: t.code,
            framework_id,
            title_zh: t.title_zh,
            title_en: String::new(),
            area: t.area,
            year: t.year,
            lead_org_id: org(&t.lead_org)?,
            co_org_ids: t.co_orgs.iter().map(|k| org(k)).collect::<Result<_>>()?,
            start_on: format!("{:04}-01-01", t.year),
            deadline: t.deadline.clone(),
            deliverable_zh: String::new(),
            source_kind: if t.decision.is_some() {
                "decision".into()
            } else {
                "annual_plan".into()
            },
            decision_id: t
                .decision
                .as_ref()
                .and_then(|k| decision_ids.get(k).copied()),
        };
        let created = tasks::create(
            db,
            &actor,
            &input,
            tasks::Provenance {
                seed,
                quote,
                generated: t.generated,
            },
            today,
            &LagRules::default(),
        )
        .await?;
        // Tasks of past years are shown as delivered and verified; the reports say they are generated.
        let deadline =
            text::date("deadline", &t.deadline).map_err(|e| Error::Config(e.message.en))?;
        if deadline < today {
            let period = format!("{:04}-{:02}", deadline.year(), deadline.month() as u8);
            let report = ReportInput {
                period,
                percent: 100,
                narrative_zh: "（演示数据，生成）按期完成".into(),
            };
            tasks::file_report(
                db,
                &actor,
                created.task.id,
                &report,
                today,
                &LagRules::default(),
            )
            .await?;
            tasks::resolve(
                db,
                &actor,
                created.task.id,
                &ResolveInput {
                    resolution: "closed".into(),
                    reason: "（演示数据，生成）".into(),
                },
                today,
                &LagRules::default(),
            )
            .await?;
        }
    }
    for p in file.projects {
        let (seed, quote) = split(p.source);
        let framework_id = *frameworks.get(&p.framework).ok_or_else(|| {
            Error::Config(format!(
                "supervision demo: unknown framework {}",
                p.framework
            ))
        })?;
        let input = ProjectInput {
            code: p.code,
            framework_id,
            name_zh: p.name_zh,
            stage: p.stage,
            total_investment: if p.total_investment_wan > 0 {
                format!("{}万", p.total_investment_wan)
            } else {
                String::new()
            },
            leader_zh: String::new(),
            unit_org_ids: vec![government_of(db, &p.regions, &org).await?],
            region_codes: p.regions,
            added_in_year: p.added_2022.then_some(2022),
        };
        projects::create(
            db,
            &actor,
            &input,
            projects::Provenance {
                seed,
                quote,
                generated: false,
            },
            today,
        )
        .await?;
    }
    crate::demo_history::load(db).await?;
    live_plans(db, &actor, today).await?;
    live_tasks(db, &actor, &frameworks, &org, today).await
}

/// The government of a project's first region that has one in the registry; else Chongqing's.
async fn government_of(
    db: &Db,
    regions: &[String],
    org: &dyn Fn(&str) -> Result<i64>,
) -> Result<i64> {
    for r in regions {
        let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM organisations WHERE region_code = $1 AND kind = 'government' ORDER BY id LIMIT 1")
            .bind(r)
            .fetch_optional(db.pool())
            .await?;
        if let Some((id,)) = found {
            return Ok(id);
        }
    }
    org("cq-gov")
}

/// This year's plans for three seed projects, generated, with monthly reports: two keep pace,
/// one falls behind, so the demo shows a project alert today.
async fn live_plans(db: &Db, actor: &Actor, today: Date) -> Result<()> {
    let year = today.year() as i64;
    let months = today.month() as u8;
    for (code, planned_yi, monthly_wan) in [
        ("CY-P-001", 120, 100_000),
        ("CY-P-002", 96, 80_000),
        ("CY-P-008", 60, 10_000),
    ] {
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM projects WHERE code = $1")
            .bind(code)
            .fetch_one(db.pool())
            .await?;
        let plan = PlanInput {
            year,
            planned: format!("{planned_yi}亿"),
            planned_start_on: String::new(),
            planned_completion_on: String::new(),
        };
        projects::set_plan(db, actor, id, &plan).await?;
        for m in 1..months {
            let input = InvestmentInput {
                month: format!("{year:04}-{m:02}"),
                completed: format!("{monthly_wan}万"),
            };
            projects::report_investment(db, actor, id, &input, today).await?;
        }
    }
    Ok(())
}

/// Three tasks of the current year, generated, so the demo shows the loop at work: one on
/// track, one that has lagged without reports, one reported done and waiting for verification.
async fn live_tasks(
    db: &Db,
    actor: &Actor,
    frameworks: &HashMap<String, i64>,
    org: &dyn Fn(&str) -> Result<i64>,
    today: Date,
) -> Result<()> {
    let cy = *frameworks
        .get("CY")
        .ok_or_else(|| Error::Config("supervision demo: no CY framework".into()))?;
    let start = today - time::Duration::days(150);
    let deadline = today + time::Duration::days(60);
    let this_month = format!("{:04}-{:02}", today.year(), today.month() as u8);
    let specs: [(&str, &str, &str, &str, Option<i64>); 3] = [
        (
            "CY-LIVE-01",
            "川渝电子证照互认扩面（演示生成）",
            "public_services",
            "cq-gov",
            Some(75),
        ),
        (
            "CY-LIVE-02",
            "川南渝西融合发展试验区年度任务（演示生成）",
            "urban_rural",
            "yongchuan-gov",
            None,
        ),
        (
            "CY-LIVE-03",
            "成渝地区双城经济圈科技创新中心联合攻关（演示生成）",
            "science_innovation",
            "cq-sti",
            Some(100),
        ),
    ];
    for (code, title, area, lead, percent) in specs {
        let input = TaskInput {
            code: code.into(),
            framework_id: cy,
            title_zh: title.into(),
            title_en: String::new(),
            area: area.into(),
            year: today.year() as i64,
            lead_org_id: org(lead)?,
            co_org_ids: vec![org("sc-gov")?],
            start_on: text::format_date(start),
            deadline: text::format_date(deadline),
            deliverable_zh: String::new(),
            source_kind: "annual_plan".into(),
            decision_id: None,
        };
        let created = tasks::create(
            db,
            actor,
            &input,
            tasks::Provenance {
                generated: true,
                ..Default::default()
            },
            today,
            &LagRules::default(),
        )
        .await?;
        if let Some(p) = percent {
            let report = ReportInput {
                period: this_month.clone(),
                percent: p,
                narrative_zh: "（演示数据，生成）".into(),
            };
            tasks::file_report(
                db,
                actor,
                created.task.id,
                &report,
                today,
                &LagRules::default(),
            )
            .await?;
        }
    }
    // Other features' demo data is loaded after this one: their lags come with the next sweep.
    crate::store::sweep::run(db, actor, today, None, &LagRules::default(), &[]).await?;
    Ok(())
}
