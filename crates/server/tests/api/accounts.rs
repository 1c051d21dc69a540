//! Accounts over the API: sessions, tokens, revocation, several instances as one.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, spawn_on, TestApp};
use crate::on_both_engines;

on_both_engines!(
    tokens_can_be_issued_and_revoked,
    a_session_made_on_one_instance_works_on_another
);

async fn tokens_can_be_issued_and_revoked(app: TestApp) {
    let r = app
        .http
        .post(app.at("/api/v1/session"))
        .json(&json!({"username": "fengjie.staff", "password": xietong_core::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let session: Value = r.json().await.unwrap();
    let csrf = session["csrf_token"].as_str().unwrap().to_string();
    // The cookie store now holds the session; changes need the CSRF header.
    let r = app
        .http
        .post(app.at("/api/v1/tokens"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "ledger sync"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let issued: Value = r.json().await.unwrap();
    let secret = issued["secret"].as_str().unwrap().to_string();
    let me: Value = app
        .get("/api/v1/me", Some(&secret))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "fengjie.staff");
    let id = issued["token"]["id"].as_i64().unwrap();
    let r = app
        .http
        .delete(app.at(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    expect_problem(
        app.get("/api/v1/me", Some(&secret)).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let stored: (String,) = sqlx::query_as("SELECT token_hash FROM api_tokens WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_ne!(stored.0, secret, "only a hash of the token is stored");
}

async fn a_session_made_on_one_instance_works_on_another(app: TestApp) {
    let other = spawn_on(&app.database_url, false).await;
    let r = app
        .http
        .post(app.at("/api/v1/session"))
        .json(&json!({"username": "cy.coordinator", "password": xietong_core::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("xt_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("session cookie");
    // The session lives in the database, not in the memory of the instance that made it.
    let me = other
        .http
        .get(other.at("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "cy.coordinator");

    // Uniqueness is enforced by the database: the same pairing created on both instances at
    // once yields one pairing and one conflict.
    let admin = app.admin_token().await;
    let body = json!({"framework_id": app.framework_id("CY").await, "party_a": "500118", "party_b": "511000"});
    let (a, b) = tokio::join!(
        app.post_json("/api/v1/pairings", &admin, &body),
        other.post_json("/api/v1/pairings", &admin, &body)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
}
