//! Every form: the happy path for its owner, and a refusal that changes nothing for others.

use reqwest::StatusCode;
use serde_json::json;
use xietong_core::permissions::Role;

use crate::helpers::{csrf_on, expect_problem, sign_in, TestApp};
use crate::on_both_engines;

on_both_engines!(
    pairings_and_organisations_are_edited_through_forms,
    forms_refuse_users_outside_their_scope_and_change_nothing,
    api_routes_for_bodies_and_tokens_refuse_outsiders,
);

async fn pairings_and_organisations_are_edited_through_forms(app: TestApp) {
    let cookie = sign_in(&app, "admin", xietong_core::demo::DEMO_PASSWORD).await;
    let csrf = csrf_on(&app, &cookie, "/organisations/new").await;
    let r = app
        .http
        .post(app.at("/organisations"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("name_zh", "奉节县脐橙协会"),
            ("kind", "association"),
            ("region_code", "500236"),
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
    assert!(page.contains("奉节县脐橙协会") && page.contains("奉节县"));

    let r = app
        .http
        .post(app.at(&location))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("name_zh", "奉节县脐橙协会"),
            ("kind", "association"),
            ("region_code", "5002"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("不是六位数字的行政区划代码"));

    let ly = app.framework_id("LY").await.to_string();
    let r = app
        .http
        .post(app.at("/pairings/2"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("framework_id", ly.as_str()),
            ("party_a", "371600"),
            ("party_b", "500236"),
            ("status", "ended"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let p: serde_json::Value = app
        .get("/api/v1/pairings/2", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["status"], "ended");

    // Pairing 2 has figures, so it is ended, not deleted; one without any record may go.
    let r = app
        .http
        .post(app.at("/pairings/2/delete"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.get("/api/v1/pairings/2", None).await.status(),
        StatusCode::OK
    );
    let (bare,): (i64,) = sqlx::query_as(
        "SELECT MIN(id) FROM pairings p WHERE NOT EXISTS (SELECT 1 FROM activities a WHERE a.pairing_id = p.id)
           AND NOT EXISTS (SELECT 1 FROM indicator_values v WHERE v.pairing_id = p.id)
           AND NOT EXISTS (SELECT 1 FROM agreements g WHERE g.pairing_id = p.id)",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let r = app
        .http
        .post(app.at(&format!("/pairings/{bare}/delete")))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/api/v1/pairings/{bare}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let deleted: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE entity = 'pairing' AND entity_id = $1 AND action = 'delete'").bind(bare.to_string()).fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(deleted.0, 1, "the deletion is in the audit trail");
}

async fn forms_refuse_users_outside_their_scope_and_change_nothing(app: TestApp) {
    let cookie = sign_in(&app, "yqlq.viewer", xietong_core::demo::DEMO_PASSWORD).await;
    let csrf = csrf_on(&app, &cookie, "/pairings/new").await;
    let before = app.fingerprint().await;
    let ly = app.framework_id("LY").await.to_string();
    let binzhou = app.org_id("滨州市人民政府").await;
    let attempts: Vec<(String, Vec<(&str, String)>)> = vec![
        (
            "/pairings".into(),
            vec![
                ("framework_id", ly.clone()),
                ("party_a", "370100".into()),
                ("party_b", "500101".into()),
            ],
        ),
        (
            "/pairings/2".into(),
            vec![
                ("framework_id", ly.clone()),
                ("party_a", "371600".into()),
                ("party_b", "500236".into()),
                ("status", "ended".into()),
            ],
        ),
        ("/pairings/2/delete".into(), vec![]),
        (
            "/organisations".into(),
            vec![
                ("name_zh", "新单位".into()),
                ("kind", "other".into()),
                ("region_code", "500236".into()),
            ],
        ),
        (
            format!("/organisations/{binzhou}"),
            vec![
                ("name_zh", "改名".into()),
                ("kind", "government".into()),
                ("region_code", "371600".into()),
            ],
        ),
        (
            "/calendar".into(),
            vec![(
                "csv",
                "date,kind,name_zh,name_en\n2027-01-01,holiday,元旦,New Year\n".into(),
            )],
        ),
    ];
    for (path, mut fields) in attempts {
        fields.push(("csrf", csrf.clone()));
        let r = app
            .http
            .post(app.at(&path))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path}");
        assert!(
            r.text().await.unwrap().contains("没有执行此操作的权限"),
            "POST {path} shows a page"
        );
    }
    assert_eq!(app.fingerprint().await, before);
}

async fn api_routes_for_bodies_and_tokens_refuse_outsiders(app: TestApp) {
    let ly = app.framework_id("LY").await;
    let cy_coordinator = app
        .token_for("cy.outsider2", Role::Coordinator, Some("CY"), None)
        .await;
    let ly_coordinator = app
        .token_for("ly.coord", Role::Coordinator, Some("LY"), None)
        .await;
    let body = json!({"key": "ly-new-wg", "level": "execution", "kind": "working_group", "name_zh": "鲁渝消费帮扶专班"});
    let before = app.fingerprint().await;
    expect_problem(
        app.post_json(
            &format!("/api/v1/frameworks/{ly}/bodies"),
            &cy_coordinator,
            &body,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // The LY coordinator's own token may not be revoked by someone else.
    let tokens: serde_json::Value = app
        .get("/api/v1/tokens", Some(&ly_coordinator))
        .await
        .json()
        .await
        .unwrap();
    let id = tokens[0]["id"].as_i64().unwrap();
    let r = app
        .http
        .delete(app.at(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&cy_coordinator)
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(app.fingerprint().await, before);
    assert_eq!(
        app.get("/api/v1/me", Some(&ly_coordinator)).await.status(),
        StatusCode::OK
    );
    let r = app
        .post_json(
            &format!("/api/v1/frameworks/{ly}/bodies"),
            &ly_coordinator,
            &body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let detail: serde_json::Value = app
        .get(&format!("/api/v1/frameworks/{ly}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["bodies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["key"] == "ly-new-wg"));
}
