//! Bad input gets a clear 4xx problem and leaves the data exactly as it was.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_problem, TestApp};
use crate::on_both_engines;

on_both_engines!(
    malformed_requests_get_clear_problems_and_change_nothing,
    hostile_strings_are_stored_verbatim_or_refused
);

async fn malformed_requests_get_clear_problems_and_change_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let before = app.fingerprint().await;
    let post = |body: Vec<u8>, content_type: &'static str| {
        app.http
            .post(app.at("/api/v1/organisations"))
            .bearer_auth(&admin)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    expect_problem(
        post(b"{\"name_zh\": ".to_vec(), "application/json")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "json_malformed",
    )
    .await;
    expect_problem(
        post(
            b"{\"name_zh\": 5, \"kind\": \"other\", \"region_code\": \"500236\"}".to_vec(),
            "application/json",
        )
        .await
        .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "json_invalid_fields",
    )
    .await
    .to_string();
    let unknown = post(b"{\"name_zh\": \"x\", \"kind\": \"other\", \"region_code\": \"500236\", \"is_admin\": true}".to_vec(), "application/json").await.unwrap();
    let body = expect_problem(
        unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "json_invalid_fields",
    )
    .await;
    assert!(
        body["message_en"].as_str().unwrap().contains("is_admin"),
        "{body}"
    );
    expect_problem(
        post(vec![b'{', 0xff, 0xfe, b'}'], "application/json")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "json_malformed",
    )
    .await;
    expect_problem(
        post(b"name_zh=x".to_vec(), "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "content_type",
    )
    .await;
    let huge = format!(
        "{{\"name_zh\": \"{}\", \"kind\": \"other\", \"region_code\": \"500236\"}}",
        "长".repeat(100_000)
    );
    // A fresh client: the server answers 413 without reading the body and closes that
    // connection, which must not poison the shared client's pool for the requests below.
    let r = reqwest::Client::new()
        .post(app.at("/api/v1/organisations"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(huge.into_bytes())
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    let long = app
        .post_json(
            "/api/v1/organisations",
            &admin,
            &json!({"name_zh": "长".repeat(121), "kind": "other", "region_code": "500236"}),
        )
        .await;
    let body = expect_problem(long, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "too_long");
    let bad_query = app
        .get("/api/v1/pairings?framework=abc", Some(&admin))
        .await;
    assert_eq!(bad_query.status(), StatusCode::BAD_REQUEST);
    let bad_region = app
        .get("/api/v1/pairings?region=50023x", Some(&admin))
        .await;
    expect_problem(
        bad_region,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(app.fingerprint().await, before);
}

async fn hostile_strings_are_stored_verbatim_or_refused(app: TestApp) {
    let admin = app.admin_token().await;
    let name = "测试'); DROP TABLE pairings; -- \"<script>alert(1)</script>";
    let r = app
        .post_json(
            "/api/v1/organisations",
            &admin,
            &json!({"name_zh": name, "kind": "other", "region_code": "500236"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let org: serde_json::Value = r.json().await.unwrap();
    assert_eq!(org["name_zh"], name);
    let listed: serde_json::Value = app
        .get("/api/v1/organisations?q=DROP%20TABLE", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1);
    // The pairings table is still there, and the page escapes the name.
    assert_eq!(
        app.get("/api/v1/pairings", None).await.status(),
        StatusCode::OK
    );
    let session_cookie = crate::helpers::sign_in(&app, "test.admin", "test-password-123").await;
    let page = app
        .http
        .get(app.at(&format!("/organisations/{}", org["id"])))
        .header("cookie", session_cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("&lt;script&gt;") && !page.contains("<script>alert"),
        "the name must be escaped"
    );
    let r = app
        .post_json(
            "/api/v1/pairings",
            &admin,
            &json!({"framework_id": 1, "party_a": "'; --", "party_b": "500236"}),
        )
        .await;
    expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
