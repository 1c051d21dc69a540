//! The HTML side: sign-in, CSRF-protected forms, language switch, friendly errors.

use reqwest::StatusCode;

use crate::helpers::{csrf_of, sign_in, TestApp};
use crate::on_both_engines;

on_both_engines!(
    a_coordinator_signs_in_and_creates_a_pairing_through_the_form,
    forms_without_the_csrf_token_are_refused,
    the_language_switch_turns_pages_english,
    repeated_failed_logins_are_slowed_down,
    errors_on_pages_are_pages,
    every_message_key_exists_in_both_languages,
    every_page_renders_for_an_administrator,
);

async fn a_coordinator_signs_in_and_creates_a_pairing_through_the_form(app: TestApp) {
    let cookie = sign_in(&app, "cy.coordinator", xietong_core::demo::DEMO_PASSWORD).await;
    let form = app
        .http
        .get(app.at("/pairings/new"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let page = form.text().await.unwrap();
    let csrf = csrf_of(&page);
    let cy = app.framework_id("CY").await.to_string();
    let post = |fields: Vec<(&'static str, String)>| {
        app.http
            .post(app.at("/pairings"))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
    };
    let bad = post(vec![
        ("csrf", csrf.clone()),
        ("framework_id", cy.clone()),
        ("party_a", "500118".into()),
        ("party_b", "500118".into()),
    ])
    .await
    .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_page = bad.text().await.unwrap();
    assert!(
        bad_page.contains("不能与自身结对"),
        "the form shows the field error"
    );
    let ok = post(vec![
        ("csrf", csrf),
        ("framework_id", cy),
        ("party_a", "500118".into()),
        ("party_b", "511000".into()),
        ("started_on", "".into()),
    ])
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let location = ok.headers()["location"].to_str().unwrap().to_string();
    let detail = app
        .http
        .get(app.at(&location))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(detail.contains("永川区") && detail.contains("内江市"));
    let list = app
        .http
        .get(app.at("/pairings?q=内江"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains(&location));
}

async fn forms_without_the_csrf_token_are_refused(app: TestApp) {
    let cookie = sign_in(&app, "cy.coordinator", xietong_core::demo::DEMO_PASSWORD).await;
    let before = app.fingerprint().await;
    let cy = app.framework_id("CY").await.to_string();
    let r = app
        .http
        .post(app.at("/pairings"))
        .header("cookie", &cookie)
        .form(&[
            ("framework_id", cy.as_str()),
            ("party_a", "500118"),
            ("party_b", "511000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("页面已过期"));
    // A JSON call riding on the session cookie needs the CSRF header too.
    let r = app
        .http
        .post(app.at("/api/v1/pairings"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"framework_id": 2, "party_a": "500118", "party_b": "511000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.fingerprint().await, before);
}

async fn the_language_switch_turns_pages_english(app: TestApp) {
    let zh = app
        .http
        .get(app.at("/pairings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(zh.contains("结对关系") && zh.contains("lang=\"zh-CN\""));
    let r = app
        .http
        .get(app.at("/lang/en?next=/pairings"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/pairings");
    let en = app
        .http
        .get(app.at("/pairings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("Pairings") && en.contains("lang=\"en\"") && en.contains("Fengjie County"),
        "English page"
    );
    let evil = app
        .http
        .get(app.at("/lang/zh?next=//evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.headers()["location"], "/");
}

async fn repeated_failed_logins_are_slowed_down(app: TestApp) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = client
            .post(app.at("/api/v1/session"))
            .json(&serde_json::json!({"username": "admin", "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[400; 5]);
    assert_eq!(statuses[5], 429, "{statuses:?}");
    // Even the right password waits while the delay runs.
    let r = client.post(app.at("/api/v1/session")).json(&serde_json::json!({"username": "admin", "password": xietong_core::demo::DEMO_PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
}

async fn errors_on_pages_are_pages(app: TestApp) {
    let r = app
        .http
        .get(app.at("/pairings/99999"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("出错了"));
    let r = app.http.get(app.at("/audit")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?next="));
    let cookie = sign_in(&app, "yqlq.viewer", xietong_core::demo::DEMO_PASSWORD).await;
    let r = app
        .http
        .get(app.at("/audit"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("没有执行此操作的权限"));
}

async fn every_message_key_exists_in_both_languages(_app: TestApp) {
    let ui = xietong_core::web::Ui::new(&xietong_server::ui_parts()).unwrap();
    assert!(
        ui.messages.mismatched_keys().is_empty(),
        "{:?}",
        ui.messages.mismatched_keys()
    );
    let keys: Vec<&String> = ui.messages.keys().collect();
    for (template, key) in ui.template_keys() {
        // Keys built at render time end with a dot (e.g. "pairing.status." ~ p.status).
        if key.ends_with('.') {
            assert!(
                keys.iter().any(|k| k.starts_with(&key)),
                "{template}: no key starts with {key}"
            );
        } else {
            assert!(
                keys.iter().any(|k| **k == key),
                "{template}: missing message {key}"
            );
        }
    }
}

async fn every_page_renders_for_an_administrator(app: TestApp) {
    let cookie = sign_in(&app, "admin", xietong_core::demo::DEMO_PASSWORD).await;
    let home = app
        .http
        .get(app.at("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let nav = &home[home.find("<nav").unwrap()..home.find("</nav>").unwrap()];
    let links: Vec<&str> = nav
        .split("href=\"")
        .skip(1)
        .map(|l| l.split('"').next().unwrap())
        .collect();
    let mut unique = links.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        links.len(),
        unique.len(),
        "each navigation link once: {links:?}"
    );
    let org = app.org_id("奉节县人民政府").await;
    let (task,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM tasks")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let (meeting,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM meetings")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let cy = app.framework_id("CY").await;
    let (project,): (i64,) = sqlx::query_as("SELECT id FROM projects WHERE code = 'CY-P-001'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let pages = [
        "/".to_string(),
        "/frameworks".into(),
        "/frameworks/new".into(),
        format!("/frameworks/{cy}"),
        format!("/frameworks/{cy}/edit"),
        "/pairings".into(),
        "/pairings/new".into(),
        "/pairings/2".into(),
        "/pairings/2/edit".into(),
        "/organisations".into(),
        "/organisations/new".into(),
        format!("/organisations/{org}"),
        format!("/organisations/{org}/edit"),
        "/regions".into(),
        "/regions?code=500236".into(),
        "/regions?q=永川".into(),
        "/calendar".into(),
        "/admin/users".into(),
        "/audit".into(),
        "/api/docs".into(),
        "/tasks".into(),
        format!("/tasks/{task}"),
        "/meetings".into(),
        format!("/meetings/{meeting}"),
        "/letters".into(),
        "/inbox".into(),
        "/projects".into(),
        "/projects/new".into(),
        "/meetings/new".into(),
        "/report-card".into(),
        "/projects?stage=under_construction".into(),
        format!("/projects/{project}"),
    ];
    for page in pages {
        let r = app
            .http
            .get(app.at(&page))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET {page}");
        let body = r.text().await.unwrap();
        assert!(body.contains("</html>"), "GET {page} is a whole page");
    }
}
