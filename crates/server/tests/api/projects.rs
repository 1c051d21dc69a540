//! The major-project register: money parsed exactly, plans adjusted with history, monthly
//! reports keeping the year's total exact, project lags raising and settling alerts.

use reqwest::StatusCode;
use serde_json::{json, Value};
use xietong_core::permissions::Role;

use crate::helpers::{expect_problem, TestApp};
use crate::on_both_engines;

on_both_engines!(a_project_is_planned_adjusted_reported_and_swept);

async fn a_project_is_planned_adjusted_reported_and_swept(app: TestApp) {
    let coordinator = app
        .token_for("cy.projects", Role::Coordinator, Some("CY"), None)
        .await;
    let ly = app
        .token_for("ly.projects", Role::Coordinator, Some("LY"), None)
        .await;
    let unit = app.org_id("永川区人民政府").await;
    let today = xietong_core::calendar::shanghai_date(xietong_core::clock::now());
    let year = today.year();
    let project = json!({"code": "CY-P-T1", "framework_id": app.framework_id("CY").await, "name_zh": "永川至泸州城际铁路", "stage": "preparatory",
        "total_investment": "4.39亿元", "region_codes": ["500118", "510500"], "unit_org_ids": [unit]});
    let before = app.fingerprint().await;
    expect_problem(
        app.post_json("/api/v1/projects", &ly, &project).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    for bad in ["四亿", "-5", "4.39亿亿", "1.234"] {
        let mut p = project.clone();
        p["total_investment"] = json!(bad);
        let body = expect_problem(
            app.post_json("/api/v1/projects", &coordinator, &p).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "total_investment", "{bad}");
    }
    assert_eq!(app.fingerprint().await, before);
    let r = app
        .post_json("/api/v1/projects", &coordinator, &project)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        p["total_investment_fen"], 43_900_000_000i64,
        "4.39亿元 is exactly 439,000,000 yuan"
    );
    let id = p["id"].as_i64().unwrap();

    let plan =
        json!({"year": year, "planned": "12亿", "planned_start_on": format!("{year}-01-15")});
    assert_eq!(
        app.post_json(&format!("/api/v1/projects/{id}/plans"), &coordinator, &plan)
            .await
            .status(),
        StatusCode::CREATED
    );
    expect_problem(
        app.post_json(&format!("/api/v1/projects/{id}/plans"), &coordinator, &plan)
            .await,
        StatusCode::CONFLICT,
        "plan_exists",
    )
    .await;
    // Not started and nothing done: the sweep finds both lags.
    let outcome: Value = app
        .post_json("/api/v1/supervision/sweep", &coordinator, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(outcome["projects"].as_u64().unwrap() >= 1, "{outcome}");
    let open: Value = app
        .get("/api/v1/alerts", Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    let rules: Vec<&str> = open
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["subject_kind"] == "project" && a["subject_id"] == id)
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"behind_plan") && rules.contains(&"not_started"),
        "{rules:?}"
    );

    // Adjusted down to 1.2亿 with reason; the original stays on record.
    let adjust = json!({"year": year, "planned": "1.2亿", "reason_zh": "受征地进度影响", "approver_zh": "联合办公室", "approved_on": xietong_core::domain::text::format_date(today)});
    let d: Value = app
        .post_json(
            &format!("/api/v1/projects/{id}/adjustments"),
            &coordinator,
            &adjust,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["plans"][0]["original_fen"], 120_000_000_000_i64);
    assert_eq!(d["plans"][0]["planned_fen"], 12_000_000_000_i64);
    assert_eq!(d["adjustments"].as_array().unwrap().len(), 1);

    // The unit's staff report; a correction of a month replaces it and the year's total follows.
    let staff = app
        .token_for("yc.projects", Role::Staff, Some("CY"), Some(unit))
        .await;
    let this_month = format!("{year:04}-{:02}", today.month() as u8);
    let report = |amount: &str| json!({"month": this_month, "completed": amount});
    app.post_json(
        &format!("/api/v1/projects/{id}/investment"),
        &staff,
        &report("2亿"),
    )
    .await;
    let d: Value = app
        .post_json(
            &format!("/api/v1/projects/{id}/investment"),
            &staff,
            &report("1.5亿"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["plans"][0]["completed_fen"], 15_000_000_000i64);
    let stage =
        json!({"stage": "started", "on_date": xietong_core::domain::text::format_date(today)});
    assert_eq!(
        app.post_json(&format!("/api/v1/projects/{id}/stages"), &staff, &stage)
            .await
            .status(),
        StatusCode::CREATED
    );
    let before = app.fingerprint().await;
    expect_problem(
        app.post_json(
            &format!("/api/v1/projects/{id}/investment"),
            &staff,
            &json!({"month": "2099-01", "completed": "1亿"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_problem(
        app.post_json(
            &format!("/api/v1/projects/{id}/investment"),
            &staff,
            &json!({"month": "2001-01", "completed": "1亿"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_problem(
        app.post_json(
            &format!("/api/v1/projects/{id}/investment"),
            &ly,
            &report("1亿"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.post_json(
            &format!("/api/v1/projects/{id}/adjustments"),
            &staff,
            &adjust,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(app.fingerprint().await, before);
    // Caught up and started: the next sweep settles both alerts.
    app.post_json("/api/v1/supervision/sweep", &coordinator, &json!({}))
        .await;
    let open: Value = app
        .get("/api/v1/alerts", Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !open
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["subject_kind"] == "project" && a["subject_id"] == id),
        "{open}"
    );
    let page = app
        .http
        .get(app.at(&format!("/projects/{id}")))
        .bearer_auth(&coordinator)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("4.39亿元") && page.contains("受征地进度影响") && page.contains("1.5亿元")
    );
}

on_both_engines!(a_coordinator_registers_a_project_through_the_form);

async fn a_coordinator_registers_a_project_through_the_form(app: TestApp) {
    let cookie =
        crate::helpers::sign_in(&app, "cy.coordinator", xietong_core::demo::DEMO_PASSWORD).await;
    let page = app
        .http
        .get(app.at("/projects/new"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_of(&page);
    let cy = app.framework_id("CY").await.to_string();
    let unit = app.org_id("永川区人民政府").await.to_string();
    let post = |total: &'static str, code: &'static str| {
        let fields = vec![
            ("csrf", csrf.clone()),
            ("framework_id", cy.clone()),
            ("code", code.to_string()),
            ("name_zh", "永川高新区标准厂房".to_string()),
            ("stage", "reserve".to_string()),
            ("total_investment", total.to_string()),
            ("unit_org_id", unit.clone()),
            ("region_code", "500118".to_string()),
        ];
        app.http
            .post(app.at("/projects"))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
    };
    let bad = post("四个亿", "CY-FORM-P1").await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("不是有效金额"));
    let ok = post("2.5亿", "CY-FORM-P1").await.unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let location = ok.headers()["location"].to_str().unwrap().to_string();
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
    assert!(page.contains("永川高新区标准厂房") && page.contains("2.5亿元"));
    let viewer =
        crate::helpers::sign_in(&app, "yqlq.viewer", xietong_core::demo::DEMO_PASSWORD).await;
    assert_eq!(
        app.http
            .get(app.at("/projects/new"))
            .header("cookie", &viewer)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}
