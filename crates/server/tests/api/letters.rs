//! Warning letters: drafted from alerts, numbered without gaps under concurrent issuing,
//! immutable once issued, answered by the addressee only, escalated onto the next
//! coordination meeting's agenda.

use reqwest::StatusCode;
use serde_json::{json, Value};
use xietong_core::permissions::Role;

use crate::helpers::{expect_problem, TestApp};
use crate::on_both_engines;

on_both_engines!(
    a_letter_goes_from_alert_to_answer_to_escalation,
    concurrent_issuing_gives_consecutive_numbers,
    drafting_on_the_page_lists_the_drafts_it_made,
);

fn today() -> time::Date {
    xietong_core::calendar::shanghai_date(xietong_core::clock::now())
}

/// A lagging CY task led by `lead` (organisation name), swept so its alerts are open.
async fn lagging_task(app: &TestApp, coordinator: &str, code: &str, lead: &str) -> i64 {
    let d = |t: time::Date| xietong_core::domain::text::format_date(t);
    let body = json!({"code": code, "framework_id": app.framework_id("CY").await, "title_zh": format!("滞后任务{code}"), "area": "infrastructure",
        "year": today().year(), "lead_org_id": app.org_id(lead).await, "start_on": d(today() - time::Duration::days(120)),
        "deadline": d(today() + time::Duration::days(30)), "source_kind": "annual_plan"});
    let r = app.post_json("/api/v1/tasks", coordinator, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    app.post_json("/api/v1/supervision/sweep", coordinator, &json!({}))
        .await;
    id
}

async fn a_letter_goes_from_alert_to_answer_to_escalation(app: TestApp) {
    let coordinator = app
        .token_for("cy.letters", Role::Coordinator, Some("CY"), None)
        .await;
    lagging_task(&app, &coordinator, "CY-L-1", "永川区人民政府").await;
    lagging_task(&app, &coordinator, "CY-L-2", "永川区人民政府").await;
    lagging_task(&app, &coordinator, "CY-L-3", "绵阳市人民政府").await;
    let cy = app.framework_id("CY").await;
    let r = app
        .post_json(
            "/api/v1/letters/drafts",
            &coordinator,
            &json!({"framework_id": cy}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let drafts: Value = r.json().await.unwrap();
    // Demo tasks of CY that lag are drafted too; find the letter to 永川区.
    let yongchuan = drafts
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["addressee_name_zh"] == "永川区人民政府")
        .expect("a letter to 永川区")
        .clone();
    let tasks: Vec<&str> = yongchuan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["subject_code"].as_str().unwrap())
        .collect();
    assert!(
        tasks.contains(&"CY-L-1") && tasks.contains(&"CY-L-2") && !tasks.contains(&"CY-L-3"),
        "{tasks:?}"
    );
    // Drafting again adds nothing: every alert is covered by an open letter.
    let again: Value = app
        .post_json(
            "/api/v1/letters/drafts",
            &coordinator,
            &json!({"framework_id": cy}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.as_array().unwrap().len(), 0);

    let id = yongchuan["id"].as_i64().unwrap();
    let yc_staff = app
        .token_for(
            "yc.letters",
            Role::Staff,
            Some("CY"),
            Some(app.org_id("永川区人民政府").await),
        )
        .await;
    let mianyang_staff = app
        .token_for(
            "my.letters",
            Role::Staff,
            Some("CY"),
            Some(app.org_id("绵阳市人民政府").await),
        )
        .await;
    // A draft is invisible to the addressee and cannot be answered.
    expect_problem(
        app.post_json(
            &format!("/api/v1/letters/{id}/acknowledge"),
            &yc_staff,
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "letter_state",
    )
    .await;
    expect_problem(
        app.post_json(
            &format!("/api/v1/letters/{id}/issue"),
            &yc_staff,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let issued: Value = app
        .post_json(
            &format!("/api/v1/letters/{id}/issue"),
            &coordinator,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let number = issued["display_number"].as_str().unwrap().to_string();
    assert!(
        number.starts_with("川渝联办提示〔") && number.ends_with("号"),
        "{number}"
    );
    // Issued letters are immutable: issuing again is refused.
    expect_problem(
        app.post_json(
            &format!("/api/v1/letters/{id}/issue"),
            &coordinator,
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "letter_state",
    )
    .await;

    let inbox: Value = app
        .get("/api/v1/inbox", Some(&yc_staff))
        .await
        .json()
        .await
        .unwrap();
    assert!(inbox.as_array().unwrap().iter().any(|l| l["id"] == id));
    let before = app.fingerprint().await;
    expect_problem(
        app.post_json(
            &format!("/api/v1/letters/{id}/acknowledge"),
            &mianyang_staff,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.post_json(
            &format!("/api/v1/letters/{id}/response"),
            &yc_staff,
            &json!({"response_zh": ""}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_problem(
        app.post_json(
            &format!("/api/v1/letters/{id}/resolve"),
            &yc_staff,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(app.fingerprint().await, before);
    assert_eq!(
        app.post_json(
            &format!("/api/v1/letters/{id}/acknowledge"),
            &yc_staff,
            &json!({})
        )
        .await
        .status(),
        StatusCode::OK
    );
    // Escalation puts its items on the next coordination meeting's agenda.
    let escalated: Value = app
        .post_json(
            &format!("/api/v1/letters/{id}/escalate"),
            &coordinator,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(escalated["status"], "escalated");
    let meeting: Value = app
        .get(
            &format!("/api/v1/meetings/{}", escalated["agenda_meeting_id"]),
            Some(&coordinator),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(meeting["body_level"], "coordination");
    let agenda: Vec<&str> = meeting["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["text_zh"].as_str().unwrap())
        .collect();
    assert!(
        agenda
            .iter()
            .any(|a| a.contains("CY-L-1") && a.contains(&number)),
        "{agenda:?}"
    );
    let answered: Value = app
        .post_json(
            &format!("/api/v1/letters/{id}/response"),
            &yc_staff,
            &json!({"response_zh": "12月底前完成整改"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answered["status"], "responded");
    let resolved: Value = app
        .post_json(
            &format!("/api/v1/letters/{id}/resolve"),
            &coordinator,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resolved["status"], "resolved");
    let page = app
        .http
        .get(app.at(&format!("/letters/{id}/print")))
        .bearer_auth(&coordinator)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&number)
            && page.contains("永川区人民政府")
            && page.contains("推动成渝地区双城经济圈建设联合办公室"),
        "{page}"
    );
}

async fn concurrent_issuing_gives_consecutive_numbers(app: TestApp) {
    let coordinator = app
        .token_for("cy.numbers", Role::Coordinator, Some("CY"), None)
        .await;
    for (i, lead) in [
        "永川区人民政府",
        "绵阳市人民政府",
        "广安市人民政府",
        "合川区人民政府",
        "北碚区人民政府",
        "渝北区人民政府",
    ]
    .iter()
    .enumerate()
    {
        lagging_task(&app, &coordinator, &format!("CY-N-{i}"), lead).await;
    }
    let drafts: Value = app
        .post_json(
            "/api/v1/letters/drafts",
            &coordinator,
            &json!({"framework_id": app.framework_id("CY").await}),
        )
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = drafts
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert!(ids.len() >= 6, "{} drafts", ids.len());
    let empty = json!({});
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/letters/{id}/issue"))
        .collect();
    let issues = paths.iter().map(|p| app.post_json(p, &coordinator, &empty));
    // All at once: the numbers must still come out consecutive.
    let results = futures::future::join_all(issues).await;
    let mut numbers: Vec<i64> = Vec::new();
    for r in results {
        assert_eq!(r.status(), StatusCode::OK);
        numbers.push(r.json::<Value>().await.unwrap()["number"].as_i64().unwrap());
    }
    numbers.sort_unstable();
    let expected: Vec<i64> = (1..=ids.len() as i64).collect();
    assert_eq!(numbers, expected, "no gaps, no duplicates");
}

/// Several units lag: the page lists the drafts with their number; drafting again makes none
/// and says so.
async fn drafting_on_the_page_lists_the_drafts_it_made(app: TestApp) {
    let coordinator = app
        .token_for("cy.letters.page", Role::Coordinator, Some("CY"), None)
        .await;
    lagging_task(&app, &coordinator, "CY-LP-1", "永川区人民政府").await;
    lagging_task(&app, &coordinator, "CY-LP-2", "绵阳市人民政府").await;
    let cookie =
        crate::helpers::sign_in(&app, "cy.coordinator", xietong_core::demo::DEMO_PASSWORD).await;
    let csrf = crate::helpers::csrf_on(&app, &cookie, "/letters").await;
    let cy = app.framework_id("CY").await.to_string();
    let form = [("csrf", csrf.as_str()), ("framework_id", cy.as_str())];
    let drafts = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM letters WHERE status = 'draft'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        n
    };
    let r = crate::helpers::post_form_as(&app, &cookie, "/letters/drafts", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let made = drafts().await;
    assert!(made >= 2, "one draft per lagging unit");
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, format!("/letters?drafted={made}"));
    let page = crate::helpers::page_as(&app, &cookie, &to).await;
    assert!(page.contains(&format!("已起草{made}份提示函")), "{page}");

    let again = crate::helpers::post_form_as(&app, &cookie, "/letters/drafts", &form).await;
    assert_eq!(again.headers()["location"], "/letters?drafted=0");
    assert_eq!(drafts().await, made, "every lag already has its letter");
    let page = crate::helpers::page_as(&app, &cookie, "/letters?drafted=0").await;
    assert!(page.contains("未起草提示函"), "{page}");
}
