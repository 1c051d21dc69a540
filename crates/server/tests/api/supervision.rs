//! Closed-loop supervision through the API: meeting → decision → task → reports → lag alerts →
//! closing; every refusal leaves the data as it was.

use reqwest::StatusCode;
use serde_json::{json, Value};
use xietong_core::permissions::{Actor, Role};

use crate::helpers::{expect_problem, TestApp};
use crate::on_both_engines;

on_both_engines!(
    a_decision_becomes_a_task_that_lags_is_reported_and_closes,
    bad_task_input_and_outsiders_change_nothing,
    the_sweep_is_idempotent_and_runs_once_per_slot,
    each_subjects_open_lags_follow_its_alerts,
    the_configured_thresholds_judge_reports_and_sweeps,
);

fn shanghai_today() -> time::Date {
    xietong_core::calendar::shanghai_date(xietong_core::clock::now())
}

fn date(d: time::Date) -> String {
    xietong_core::domain::text::format_date(d)
}

async fn body_id(app: &TestApp, key: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM bodies WHERE key = $1")
        .bind(key)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    id
}

/// A task of the CY framework led by 永川区人民政府, started four months ago, due in two.
async fn new_task(app: &TestApp, token: &str, code: &str) -> Value {
    let today = shanghai_today();
    let lead = app.org_id("永川区人民政府").await;
    let body = json!({
        "code": code, "framework_id": app.framework_id("CY").await, "title_zh": "共建川南渝西融合发展试验区", "area": "urban_rural",
        "year": today.year(), "lead_org_id": lead, "co_org_ids": [app.org_id("四川省人民政府").await],
        "start_on": date(today - time::Duration::days(120)), "deadline": date(today + time::Duration::days(60)), "source_kind": "decision",
    });
    let r = app.post_json("/api/v1/tasks", token, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn a_decision_becomes_a_task_that_lags_is_reported_and_closes(app: TestApp) {
    let coordinator = app
        .token_for("cy.sv", Role::Coordinator, Some("CY"), None)
        .await;
    let meeting = json!({"body_id": body_id(&app, "cy-joint-meeting").await, "ordinal": 7, "held_on": date(shanghai_today()), "place_zh": "重庆", "format": "in_person", "host_region": "500000", "title_zh": "第七次党政联席会议"});
    let r = app
        .post_json("/api/v1/meetings", &coordinator, &meeting)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let m: Value = r.json().await.unwrap();
    let r = app
        .post_json(
            &format!("/api/v1/meetings/{}/decisions", m["id"]),
            &coordinator,
            &json!({"text_zh": "推进川南渝西融合发展"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let task = new_task(&app, &coordinator, "CY-T-LOOP").await;
    let id = task["id"].as_i64().unwrap();
    // Four months in, with nothing reported, the sweep finds it lagging.
    let outcome: Value = app
        .post_json("/api/v1/supervision/sweep", &coordinator, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(outcome["opened"].as_u64().unwrap() >= 1, "{outcome}");
    let t: Value = app
        .get(&format!("/api/v1/tasks/{id}"), Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["status"], "at_risk");
    let alerts: Value = app
        .get(&format!("/api/v1/tasks/{id}/alerts"), Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    let rules: Vec<&str> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"report_missing") && rules.contains(&"behind"),
        "{rules:?}"
    );

    // The lead's staff catch up; the next sweep settles the alerts by itself.
    let staff = app
        .token_for(
            "yc.staff",
            Role::Staff,
            Some("CY"),
            Some(app.org_id("永川区人民政府").await),
        )
        .await;
    let this_month = shanghai_today().to_string()[..7].to_string();
    let r = app
        .post_json(
            &format!("/api/v1/tasks/{id}/reports"),
            &staff,
            &json!({"period": this_month, "percent": 70, "narrative_zh": "试验区总体方案已报批"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["status"], "on_track");
    let outcome: Value = app
        .post_json("/api/v1/supervision/sweep", &coordinator, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(outcome["closed"].as_u64().unwrap() >= 2, "{outcome}");
    let open: Value = app
        .get("/api/v1/alerts", Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    assert!(open
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["subject_id"] != id));

    // Closing needs the lead's "done"; then the coordinator verifies it.
    let r = app
        .post_json(
            &format!("/api/v1/tasks/{id}/resolution"),
            &coordinator,
            &json!({"resolution": "closed"}),
        )
        .await;
    expect_problem(r, StatusCode::CONFLICT, "task_not_claimed").await;
    let r = app
        .post_json(
            &format!("/api/v1/tasks/{id}/reports"),
            &staff,
            &json!({"period": this_month, "percent": 100, "narrative_zh": "已完成"}),
        )
        .await;
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["status"], "done_claimed");
    assert_eq!(
        t["reports"].as_array().unwrap().len(),
        1,
        "a second report for the period replaces the first"
    );
    let r = app
        .post_json(
            &format!("/api/v1/tasks/{id}/resolution"),
            &coordinator,
            &json!({"resolution": "closed"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["status"], "closed");
    let r = app
        .post_json(
            &format!("/api/v1/tasks/{id}/reports"),
            &staff,
            &json!({"period": this_month, "percent": 100, "narrative_zh": "补充"}),
        )
        .await;
    expect_problem(r, StatusCode::CONFLICT, "task_resolved").await;
    let history: i64 = sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM audit_log WHERE entity IN ('task', 'progress_report', 'meeting', 'decision', 'sweep')")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .0;
    assert!(history >= 8, "every step is audited ({history})");
}

async fn bad_task_input_and_outsiders_change_nothing(app: TestApp) {
    let coordinator = app
        .token_for("cy.sv2", Role::Coordinator, Some("CY"), None)
        .await;
    let task = new_task(&app, &coordinator, "CY-T-BAD").await;
    let id = task["id"].as_i64().unwrap();
    let outsider_staff = app
        .token_for(
            "fj.sv",
            Role::Staff,
            Some("CY"),
            Some(app.org_id("奉节县人民政府").await),
        )
        .await;
    let ly_coordinator = app
        .token_for("ly.sv", Role::Coordinator, Some("LY"), None)
        .await;
    let viewer = app
        .token_for(
            "cy.view",
            Role::Viewer,
            Some("CY"),
            Some(app.org_id("永川区人民政府").await),
        )
        .await;
    let before = app.fingerprint().await;
    let snapshot = || async {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT (SELECT COUNT(*) FROM tasks), (SELECT COUNT(*) FROM progress_reports)",
        )
        .fetch_one(app.db.pool())
        .await
        .unwrap()
    };
    let counts = snapshot().await;

    let report = json!({"period": shanghai_today().to_string()[..7].to_string(), "percent": 50, "narrative_zh": "x"});
    for token in [&outsider_staff, &ly_coordinator, &viewer] {
        expect_problem(
            app.post_json(&format!("/api/v1/tasks/{id}/reports"), token, &report)
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_problem(
            app.post_json(
                &format!("/api/v1/tasks/{id}/resolution"),
                token,
                &json!({"resolution": "dropped", "reason": "x"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let bad_task = json!({"code": "CY-T-X", "framework_id": app.framework_id("CY").await, "title_zh": "x", "area": "urban_rural", "year": 2026,
        "lead_org_id": task["lead_org_id"], "start_on": "2026-06-01", "deadline": "2026-01-01", "source_kind": "decision"});
    let body = expect_problem(
        app.post_json("/api/v1/tasks", &coordinator, &bad_task)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "deadline_before_start");
    let bad = json!({"code": "CY-T-X", "framework_id": app.framework_id("CY").await, "title_zh": "x", "area": "nowhere", "year": 2026,
        "lead_org_id": 999999, "start_on": "2026-01-01", "deadline": "2026-06-01", "source_kind": "decision"});
    expect_problem(
        app.post_json("/api/v1/tasks", &coordinator, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_problem(
        app.post_json("/api/v1/tasks", &ly_coordinator, &bad_task)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    for (percent, period) in [
        (150, "2026-11"),
        (50, "2099-01"),
        (50, "2020-01"),
        (50, "2026-13"),
    ] {
        let r = app
            .post_json(
                &format!("/api/v1/tasks/{id}/reports"),
                &coordinator,
                &json!({"period": period, "percent": percent, "narrative_zh": "x"}),
            )
            .await;
        expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let r = app
        .post_json(
            &format!("/api/v1/tasks/{id}/resolution"),
            &coordinator,
            &json!({"resolution": "dropped", "reason": ""}),
        )
        .await;
    expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let dup = app.post_json("/api/v1/tasks", &coordinator, &json!({"code": "CY-T-BAD", "framework_id": app.framework_id("CY").await, "title_zh": "x", "area": "urban_rural", "year": 2026,
        "lead_org_id": task["lead_org_id"], "start_on": "2026-01-01", "deadline": "2026-06-01", "source_kind": "decision"})).await;
    expect_problem(dup, StatusCode::CONFLICT, "task_code_taken").await;
    assert_eq!(snapshot().await, counts);
    assert_eq!(app.fingerprint().await, before);
}

async fn the_sweep_is_idempotent_and_runs_once_per_slot(app: TestApp) {
    let coordinator = app
        .token_for("cy.sv3", Role::Coordinator, Some("CY"), None)
        .await;
    for i in 0..3 {
        new_task(&app, &coordinator, &format!("CY-T-S{i}")).await;
    }
    let rules = xietong_supervision::domain::LagRules::default();
    let system = Actor::system("scheduler");
    let today = shanghai_today();
    let finders = xietong_server::lag_finders();
    let first = xietong_supervision::store::sweep::run(
        &app.db,
        &system,
        today,
        Some("slot-a"),
        &rules,
        &finders,
    )
    .await
    .unwrap();
    assert!(first.opened >= 3 && !first.skipped, "{first:?}");
    let again = xietong_supervision::store::sweep::run(
        &app.db,
        &system,
        today,
        Some("slot-a"),
        &rules,
        &finders,
    )
    .await
    .unwrap();
    assert!(
        again.skipped,
        "the same slot runs once, whichever instance asks"
    );
    let open_before: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM alerts WHERE closed_at IS NULL")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let manual =
        xietong_supervision::store::sweep::run(&app.db, &system, today, None, &rules, &finders)
            .await
            .unwrap();
    assert_eq!(
        (manual.opened, manual.closed),
        (0, 0),
        "a second sweep opens no duplicates"
    );
    let open_after: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM alerts WHERE closed_at IS NULL")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(open_before, open_after);
    let staff = app
        .token_for("plain.staff", Role::Staff, Some("CY"), None)
        .await;
    expect_problem(
        app.post_json("/api/v1/supervision/sweep", &staff, &json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

on_both_engines!(the_task_pages_show_the_loop_and_take_reports);

async fn the_task_pages_show_the_loop_and_take_reports(app: TestApp) {
    let coordinator = app
        .token_for("cy.sv4", Role::Coordinator, Some("CY"), None)
        .await;
    let task = new_task(&app, &coordinator, "CY-T-PAGE").await;
    let id = task["id"].as_i64().unwrap();
    app.post_json("/api/v1/supervision/sweep", &coordinator, &json!({}))
        .await;
    // 永川区 staff sign in: their task due soon is listed, the page shows the alert and a report form.
    let users = xietong_core::accounts::users::NewUser {
        username: "yc.web".into(),
        display_name: "永川区 工作人员".into(),
        organisation_id: Some(app.org_id("永川区人民政府").await),
        password: "test-password-123".into(),
        grants: vec![xietong_core::permissions::Grant {
            role: Role::Staff,
            framework_id: Some(app.framework_id("CY").await),
        }],
    };
    xietong_core::accounts::users::create(&app.db, &Actor::system("test"), &users)
        .await
        .unwrap();
    let cookie = crate::helpers::sign_in(&app, "yc.web", "test-password-123").await;
    let list = app
        .http
        .get(app.at("/tasks?status=at_risk"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let list = list.text().await.unwrap();
    assert!(list.contains("共建川南渝西融合发展试验区") && list.contains("存在滞后风险"));
    let page = app
        .http
        .get(app.at(&format!("/tasks/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("滞后预警") && page.contains("报送进度"),
        "timeline and report form: {page}"
    );
    let csrf = crate::helpers::csrf_of(&page);
    let period = shanghai_today().to_string()[..7].to_string();
    let r = app
        .http
        .post(app.at(&format!("/tasks/{id}/reports")))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("period", period.as_str()),
            ("percent", "150"),
            ("narrative_zh", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("完成进度须在 0 至 100 之间"));
    let r = app
        .http
        .post(app.at(&format!("/tasks/{id}/reports")))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("period", period.as_str()),
            ("percent", "80"),
            ("narrative_zh", "方案已印发"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = app
        .http
        .get(app.at(&format!("/tasks/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("方案已印发") && page.contains("正常推进"));
    let meetings = app.http.get(app.at("/meetings")).send().await.unwrap();
    assert_eq!(meetings.status(), StatusCode::OK);
}

on_both_engines!(the_meeting_task_form_refuses_outsiders_and_bad_dates);

async fn the_meeting_task_form_refuses_outsiders_and_bad_dates(app: TestApp) {
    let (meeting, decision): (i64, i64) = sqlx::query_as("SELECT m.id, d.id FROM decisions d JOIN meetings m ON m.id = d.meeting_id WHERE m.key = 'cy-jm-3' ORDER BY d.id LIMIT 1")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let lead = app.org_id("永川区人民政府").await.to_string();
    let decision = decision.to_string();
    let form = |deadline: &'static str| {
        vec![
            ("decision_id", decision.clone()),
            ("code", "CY-FORM-1".to_string()),
            ("title_zh", "表单任务".to_string()),
            ("area", "other".to_string()),
            ("year", "2026".to_string()),
            ("lead_org_id", lead.clone()),
            ("start_on", "2026-06-01".to_string()),
            ("deadline", deadline.to_string()),
        ]
    };
    let before = app.fingerprint().await;
    for (user, deadline, status) in [
        ("yqlq.viewer", "2026-12-31", StatusCode::FORBIDDEN),
        (
            "cy.coordinator",
            "2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let cookie = crate::helpers::sign_in(&app, user, xietong_core::demo::DEMO_PASSWORD).await;
        let page = app
            .http
            .get(app.at("/tasks"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut fields = form(deadline);
        fields.push(("csrf", crate::helpers::csrf_of(&page)));
        let r = app
            .http
            .post(app.at(&format!("/meetings/{meeting}/tasks")))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{user}");
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(r.text().await.unwrap().contains("截止日期早于开始日期"));
        }
    }
    assert_eq!(app.fingerprint().await, before);
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tasks WHERE code = 'CY-FORM-1'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(count, 0);
}

on_both_engines!(a_coordinator_records_a_meeting_through_the_form);

async fn a_coordinator_records_a_meeting_through_the_form(app: TestApp) {
    let viewer =
        crate::helpers::sign_in(&app, "yqlq.viewer", xietong_core::demo::DEMO_PASSWORD).await;
    let r = app
        .http
        .get(app.at("/meetings/new"))
        .header("cookie", &viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let cookie =
        crate::helpers::sign_in(&app, "cy.coordinator", xietong_core::demo::DEMO_PASSWORD).await;
    let page = app
        .http
        .get(app.at("/meetings/new"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("ly-joint-meeting") && page.contains("常务副省长协调会议"),
        "only the coordinator's own bodies"
    );
    let csrf = crate::helpers::csrf_of(&page);
    let body = body_id(&app, "cy-coordination-meeting").await.to_string();
    let r = app
        .http
        .post(app.at("/meetings"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("body_id", body.as_str()),
            ("title_zh", "第七次常务副省长协调会议"),
            ("ordinal", "7"),
            ("held_on", ""),
            ("format", "unknown"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let page = app
        .http
        .get(app.at(&location))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("第七次常务副省长协调会议") && page.contains("日期未载明"));
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM meetings WHERE title_zh = '第七次常务副省长协调会议'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(status, "planned", "a meeting without a date is planned");
}

async fn open_alert_rules(app: &TestApp, task: i64) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT rule FROM alerts WHERE subject_kind = 'task' AND subject_id = $1 AND closed_at IS NULL ORDER BY rule",
    )
    .bind(task)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    rows.into_iter().map(|(r,)| r).collect()
}

async fn no_lag_differences(app: &TestApp, step: &str) {
    let diff = xietong_supervision::store::sweep::open_lag_differences(&app.db)
        .await
        .unwrap();
    assert!(
        diff.is_empty(),
        "after {step}: open_lags differ from the open alerts: {diff:?}"
    );
    let dangling = xietong_supervision::store::sweep::dangling_references(&app.db)
        .await
        .unwrap();
    assert!(
        dangling.is_empty(),
        "after {step}: the sweep's rows name missing records: {dangling:?}"
    );
}

async fn each_subjects_open_lags_follow_its_alerts(app: TestApp) {
    let coordinator = app
        .token_for("cy.sv5", Role::Coordinator, Some("CY"), None)
        .await;
    let kept = new_task(&app, &coordinator, "CY-T-BITS1").await["id"]
        .as_i64()
        .unwrap();
    let dropped = new_task(&app, &coordinator, "CY-T-BITS2").await["id"]
        .as_i64()
        .unwrap();
    let rules = xietong_supervision::domain::LagRules::default();
    let system = Actor::system("scheduler");
    let today = shanghai_today();
    let sweep = |day| {
        let (db, system) = (app.db.clone(), system.clone());
        async move {
            xietong_supervision::store::sweep::run(
                &db,
                &system,
                day,
                None,
                &rules,
                &xietong_server::lag_finders(),
            )
            .await
            .unwrap()
        }
    };
    sweep(today).await;
    no_lag_differences(&app, "the first sweep").await;
    assert_eq!(
        open_alert_rules(&app, kept).await,
        ["behind", "report_missing"]
    );
    let (bits,): (i64,) = sqlx::query_as("SELECT bits FROM task_open_lags WHERE task_id = $1")
        .bind(kept)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(bits, 2 | 8, "report_missing and behind");

    // Dropping a task settles its alerts and its bits together.
    let r = app
        .post_json(
            &format!("/api/v1/tasks/{dropped}/resolution"),
            &coordinator,
            &json!({"resolution": "dropped", "reason": "并入其他任务"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(open_alert_rules(&app, dropped).await.is_empty());
    no_lag_differences(&app, "a task dropped").await;

    // Time passing changes lags with no write: past the deadline, `behind` no longer applies
    // and `past_deadline` does; the kept alert keeps its id.
    let (report_alert,): (i64,) = sqlx::query_as(
        "SELECT id FROM alerts WHERE subject_id = $1 AND rule = 'report_missing' AND closed_at IS NULL",
    )
    .bind(kept)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let later = today + time::Duration::days(65);
    let outcome = sweep(later).await;
    assert!(outcome.opened >= 1 && outcome.closed >= 1, "{outcome:?}");
    assert_eq!(
        open_alert_rules(&app, kept).await,
        ["past_deadline", "report_missing"]
    );
    let (still,): (i64,) = sqlx::query_as(
        "SELECT id FROM alerts WHERE subject_id = $1 AND rule = 'report_missing' AND closed_at IS NULL",
    )
    .bind(kept)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(still, report_alert);
    no_lag_differences(&app, "a sweep past the deadline").await;
    let again = sweep(later).await;
    assert_eq!(
        (again.opened, again.closed, again.statuses_changed),
        (0, 0, 0)
    );

    // The sweep's tables carry no foreign keys, so the check is what would see a row naming a
    // missing record: it names both made here.
    sqlx::query(
        "INSERT INTO alerts (rule, subject_kind, subject_id, framework_id, details_zh, details_en, opened_at)
         VALUES ('behind', 'task', $1, 999999, '', '', '2026-01-01T00:00:00Z')",
    )
    .bind(dropped)
    .execute(app.db.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO task_open_lags (task_id, bits) VALUES (999999, 1)")
        .execute(app.db.pool())
        .await
        .unwrap();
    let dangling = xietong_supervision::store::sweep::dangling_references(&app.db)
        .await
        .unwrap();
    assert_eq!(dangling.len(), 2, "{dangling:?}");
    assert!(dangling[0].starts_with("alert framework"), "{dangling:?}");
    assert_eq!(dangling[1], "open lags of task: row 999999");
}

/// A task two thirds through its time reported at 30 % trails by about 37 points: at risk under
/// the default threshold (25), on track for an instance configured to allow 50.
async fn the_configured_thresholds_judge_reports_and_sweeps(app: TestApp) {
    let coordinator = app
        .token_for("cy.sv", Role::Coordinator, Some("CY"), None)
        .await;
    let staff = app
        .token_for(
            "yongchuan.sv",
            Role::Staff,
            Some("CY"),
            Some(app.org_id("永川区人民政府").await),
        )
        .await;
    let id = new_task(&app, &coordinator, "CY-T-THRESHOLD").await["id"]
        .as_i64()
        .unwrap();
    let this_month = shanghai_today().to_string()[..7].to_string();
    let report = json!({"period": this_month, "percent": 30, "narrative_zh": "土地报批中"});
    let path = format!("/api/v1/tasks/{id}/reports");
    assert_eq!(
        status_after(app.post_json(&path, &staff, &report).await).await,
        "at_risk"
    );

    let lenient = crate::helpers::spawn_configured(&app.database_url, false, |s| {
        s.lags = xietong_supervision::domain::LagThresholds {
            behind_points: 50,
            ..Default::default()
        }
        .try_into()
        .unwrap();
    })
    .await;
    assert_eq!(
        status_after(lenient.post_json(&path, &staff, &report).await).await,
        "on_track",
        "a report is judged by the configured threshold"
    );
    // Each instance's sweep judges by its own thresholds.
    assert_eq!(
        sweep_then_status(&lenient, &coordinator, id).await,
        "on_track"
    );
    assert_eq!(sweep_then_status(&app, &coordinator, id).await, "at_risk");
}

async fn status_after(r: reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::CREATED);
    let t: Value = r.json().await.unwrap();
    t["status"].as_str().unwrap().to_string()
}

async fn sweep_then_status(app: &TestApp, token: &str, id: i64) -> String {
    let r = app
        .post_json("/api/v1/supervision/sweep", token, &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = app
        .get(&format!("/api/v1/tasks/{id}"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    t["status"].as_str().unwrap().to_string()
}
