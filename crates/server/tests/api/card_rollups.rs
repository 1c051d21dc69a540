//! The report card's roll-ups follow every kind of write: after each step of a sequence through
//! every write path that changes what the card counts (tasks created, reported, closed,
//! dropped, imported; the sweep; projects planned, adjusted, moved, reported, imported;
//! letters issued, escalated, resolved) the stored roll-ups equal a from-scratch recomputation,
//! and the card read from them equals the card counted from the raw records on every
//! framework-year at several dates.

use time::{Date, Duration};
use xietong_core::permissions::Actor;
use xietong_supervision::excel::{InvestmentRow, SheetRow};
use xietong_supervision::store::{letters, projects, report_card, rollups, sweep, tasks};

use crate::helpers::TestApp;
use crate::on_both_engines;

on_both_engines!(the_cards_roll_ups_equal_a_recomputation_after_every_write);

async fn check(app: &TestApp, step: &str) {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let diff = rollups::differences(&mut conn).await.unwrap();
    assert!(
        diff.is_empty(),
        "after {step}: roll-up rows differing from a recomputation: {diff:?}"
    );
    drop(conn);
    let lags = sweep::open_lag_differences(&app.db).await.unwrap();
    assert!(
        lags.is_empty(),
        "after {step}: open_lags differing from the open alerts: {lags:?}"
    );
    let dangling = sweep::dangling_references(&app.db).await.unwrap();
    assert!(
        dangling.is_empty(),
        "after {step}: the sweep's rows name missing records: {dangling:?}"
    );
    let pairs: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT framework_id, year FROM tasks
         UNION SELECT p.framework_id, pl.year FROM projects p JOIN project_plans pl ON pl.project_id = p.id
         UNION SELECT framework_id, year FROM letters
         ORDER BY 1, 2",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(!pairs.is_empty());
    // The task list's totals by framework, year and status come from the same counters.
    for (framework, year) in &pairs {
        for status in [
            "not_started",
            "on_track",
            "at_risk",
            "overdue",
            "done_claimed",
            "closed",
            "dropped",
        ] {
            let filter = tasks::TaskFilter {
                framework: Some(*framework),
                status: Some(status.into()),
                ..Default::default()
            };
            let (_, total) = tasks::list(&app.db, &filter, None).await.unwrap();
            let by_year = tasks::TaskFilter {
                year: Some(*year),
                ..filter.clone()
            };
            let (_, with_year) = tasks::list(&app.db, &by_year, Some(&[*framework]))
                .await
                .unwrap();
            let counts: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN year = $3 THEN 1 ELSE 0 END), 0) AS BIGINT)
                   FROM tasks WHERE framework_id = $1 AND status = $2",
            )
            .bind(framework)
            .bind(status)
            .bind(year)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
            assert_eq!(
                (total, with_year),
                counts[0],
                "after {step}: task list totals of framework {framework}, {status}"
            );
        }
    }
    let today = today();
    for (framework, year) in pairs {
        let y = year as i32;
        let days = [
            date(y, 3, 31),
            date(y, 12, 31),
            date(y + 1, 1, 31),
            today,
            today - Duration::days(1),
        ];
        for as_of in days {
            let fast = report_card::compute(&app.db, framework, year, as_of)
                .await
                .unwrap();
            let slow = report_card::scan(&app.db, framework, year, as_of)
                .await
                .unwrap();
            assert_eq!(
                fast, slow,
                "after {step}: card of framework {framework}, {year}, as of {as_of}"
            );
        }
    }
}

fn date(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
}

fn today() -> Date {
    xietong_core::calendar::shanghai_date(xietong_core::clock::now())
}

fn sheet(row: usize, cells: &[&str]) -> SheetRow {
    SheetRow {
        row,
        cells: cells.iter().map(|c| c.to_string()).collect(),
    }
}

async fn the_cards_roll_ups_equal_a_recomputation_after_every_write(app: TestApp) {
    let admin = Actor::system("test");
    let today = today();
    let y = today.year();
    let day = |d: Date| d.to_string();
    let cy = app.framework_id("CY").await;
    let yongchuan = app.org_id("永川区人民政府").await;
    // Another unit that leads a task in the framework.
    let (other, other_name): (i64, String) = sqlx::query_as(
        "SELECT o.id, o.name_zh FROM tasks t JOIN organisations o ON o.id = t.lead_org_id
          WHERE t.framework_id = $1 AND o.id <> $2 ORDER BY o.id LIMIT 1",
    )
    .bind(cy)
    .bind(yongchuan)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    check(&app, "the demo").await;

    // Tasks: created, reported done, closed on time; another given an overdue milestone, then
    // dropped; a third left to the sweep.
    let task = |code: &str, deadline: Date| tasks::TaskInput {
        code: code.into(),
        framework_id: cy,
        title_zh: format!("卷积测试任务{code}"),
        area: "infrastructure".into(),
        year: y as i64,
        lead_org_id: yongchuan,
        start_on: day(date(y, 1, 1).min(today)),
        deadline: day(deadline),
        source_kind: "annual_plan".into(),
        ..Default::default()
    };
    let a = tasks::create(
        &app.db,
        &admin,
        &task("RU-A", today),
        Default::default(),
        today,
        &xietong_supervision::domain::LagRules::default(),
    )
    .await
    .unwrap()
    .task
    .id;
    let b = tasks::create(
        &app.db,
        &admin,
        &task("RU-B", date(y, 12, 31)),
        Default::default(),
        today,
        &xietong_supervision::domain::LagRules::default(),
    )
    .await
    .unwrap()
    .task
    .id;
    let c = tasks::create(
        &app.db,
        &admin,
        &task("RU-C", date(y, 12, 31)),
        Default::default(),
        today,
        &xietong_supervision::domain::LagRules::default(),
    )
    .await
    .unwrap()
    .task
    .id;
    check(&app, "tasks created").await;
    let period = format!("{:04}-{:02}", y, today.month() as u8);
    tasks::file_report(
        &app.db,
        &admin,
        a,
        &tasks::ReportInput {
            period: period.clone(),
            percent: 100,
            narrative_zh: "已完成".into(),
        },
        today,
        &xietong_supervision::domain::LagRules::default(),
    )
    .await
    .unwrap();
    check(&app, "a report of 100%").await;
    tasks::resolve(
        &app.db,
        &admin,
        a,
        &tasks::ResolveInput {
            resolution: "closed".into(),
            reason: String::new(),
        },
        today,
        &xietong_supervision::domain::LagRules::default(),
    )
    .await
    .unwrap();
    check(&app, "a task closed").await;
    tasks::add_milestone(
        &app.db,
        &admin,
        b,
        &tasks::MilestoneInput {
            title_zh: "节点".into(),
            due_on: day(today - Duration::days(3)),
        },
        today,
        &xietong_supervision::domain::LagRules::default(),
    )
    .await
    .unwrap();
    check(&app, "an overdue milestone").await;
    tasks::resolve(
        &app.db,
        &admin,
        b,
        &tasks::ResolveInput {
            resolution: "dropped".into(),
            reason: "并入其他任务".into(),
        },
        today,
        &xietong_supervision::domain::LagRules::default(),
    )
    .await
    .unwrap();
    check(&app, "a task dropped").await;

    // The sweep, run as if a year and a half later: statuses move, alerts open.
    let later = today + Duration::days(550);
    let outcome = sweep::run(
        &app.db,
        &admin,
        later,
        None,
        &Default::default(),
        &xietong_server::lag_finders(),
    )
    .await
    .unwrap();
    assert!(outcome.statuses_changed > 0, "{outcome:?}");
    check(&app, "the sweep").await;

    // The task book imported: one task moves area, deadline and lead; one is new.
    let year = y.to_string();
    let start = day(date(y, 1, 1).min(today));
    let moved_deadline = day(date(y, 6, 30).max(today));
    let outcome = tasks::import(
        &app.db,
        &admin,
        &[
            sheet(
                2,
                &[
                    "RU-C",
                    "CY",
                    "卷积测试任务RU-C",
                    "生态环境",
                    &year,
                    &other_name,
                    "",
                    &start,
                    &moved_deadline,
                    "",
                    "年度计划",
                ],
            ),
            sheet(
                3,
                &[
                    "RU-D",
                    "CY",
                    "卷积测试任务RU-D",
                    "科技创新",
                    &year,
                    "永川区人民政府",
                    "",
                    &start,
                    &day(date(y, 12, 31)),
                    "",
                    "年度计划",
                ],
            ),
        ],
        today,
        &xietong_supervision::domain::LagRules::default(),
    )
    .await
    .unwrap();
    assert_eq!((outcome.created, outcome.updated), (1, 1), "{outcome:?}");
    let (lead,): (i64,) = sqlx::query_as("SELECT lead_org_id FROM tasks WHERE id = $1")
        .bind(c)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(lead, other);
    check(&app, "a task-book import").await;

    // Projects: created (no plan yet), planned, adjusted twice (the second approval earlier),
    // moved on, reported and corrected, imported.
    let p = projects::create(
        &app.db,
        &admin,
        &projects::ProjectInput {
            code: "RU-P".into(),
            framework_id: cy,
            name_zh: "卷积测试项目".into(),
            stage: "preparatory".into(),
            total_investment: "1亿".into(),
            leader_zh: "负责人".into(),
            region_codes: vec!["500118".into()],
            unit_org_ids: vec![yongchuan],
            added_in_year: Some(y as i64),
        },
        Default::default(),
        today,
    )
    .await
    .unwrap()
    .project
    .id;
    check(&app, "a project created").await;
    projects::set_plan(
        &app.db,
        &admin,
        p,
        &projects::PlanInput {
            year: y as i64,
            planned: "5000万".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    check(&app, "a plan set").await;
    for (planned, approved) in [
        ("6000万", today),
        ("5500万", today - Duration::days(20)),
        ("5800万", today - Duration::days(5)),
    ] {
        projects::adjust_plan(
            &app.db,
            &admin,
            p,
            &projects::AdjustInput {
                year: y as i64,
                planned: planned.into(),
                reason_zh: "调整优化".into(),
                approver_zh: "联办".into(),
                approved_on: day(approved),
            },
            today,
        )
        .await
        .unwrap();
        check(&app, &format!("an adjustment approved on {approved}")).await;
    }
    projects::change_stage(
        &app.db,
        &admin,
        p,
        &projects::StageInput {
            stage: "started".into(),
            on_date: day(today),
        },
        today,
    )
    .await
    .unwrap();
    check(&app, "a stage change").await;
    for amount in ["100万", "150万"] {
        projects::report_investment(
            &app.db,
            &admin,
            p,
            &projects::InvestmentInput {
                month: period.clone(),
                completed: amount.into(),
            },
            today,
        )
        .await
        .unwrap();
        check(&app, &format!("a monthly report of {amount}")).await;
    }
    projects::import_investment(
        &app.db,
        &admin,
        &[InvestmentRow {
            row: 2,
            code: "RU-P".into(),
            month: period.clone(),
            amount_wan: "222.5".into(),
        }],
        today,
    )
    .await
    .unwrap();
    check(&app, "an investment import").await;
    let units = format!("永川区人民政府、{other_name}");
    let outcome = projects::import_ledger(
        &app.db,
        &admin,
        &[sheet(
            2,
            &[
                "RU-P",
                "CY",
                "卷积测试项目",
                "续建",
                "10000",
                "负责人",
                "500118",
                &units,
                "",
            ],
        )],
        today,
    )
    .await
    .unwrap();
    assert_eq!(outcome.updated, 1, "{outcome:?}");
    check(&app, "a ledger import").await;

    // Letters drafted from the sweep's alerts: issued, escalated, resolved.
    let drafts = letters::draft_from_alerts(
        &app.db,
        &admin,
        &letters::DraftRequest { framework_id: cy },
        later,
    )
    .await
    .unwrap();
    assert!(drafts.len() >= 2, "{} drafts", drafts.len());
    check(&app, "letters drafted").await;
    let first = drafts[0].letter.id;
    let second = drafts[1].letter.id;
    for id in [first, second] {
        letters::issue(&app.db, &admin, id).await.unwrap();
        check(&app, "a letter issued").await;
    }
    letters::escalate(&app.db, &admin, first, today)
        .await
        .unwrap();
    check(&app, "a letter escalated").await;
    letters::resolve(&app.db, &admin, first).await.unwrap();
    check(&app, "a letter resolved").await;

    // The cards read today count what was done today (the letters belong to the year they
    // were drafted in).
    let card = report_card::compute(&app.db, cy, drafts[0].letter.year, today)
        .await
        .unwrap();
    assert!(card.letters.issued >= 2, "{card:?}");
    assert!(card.letters.escalated >= 1 && card.letters.resolved >= 1);
    assert!(card.letters.units >= 2 && card.letters.lagging_tasks >= 1);
    let card = report_card::compute(&app.db, cy, y as i64, today)
        .await
        .unwrap();
    assert!(card.projects.adjusted >= 1, "{card:?}");
    assert!(card.tasks.closed_on_time >= 1);
}
