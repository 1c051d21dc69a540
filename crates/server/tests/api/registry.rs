//! The registry through the API: listing, pairing rules, permissions, history.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xietong_core::permissions::Role;

use crate::helpers::{expect_problem, TestApp};
use crate::on_both_engines;

on_both_engines!(
    a_region_lists_its_pairings_in_every_framework,
    regions_are_found_by_name,
    a_coordinator_pairs_two_parties_and_the_audit_records_it,
    pairing_rules_refuse_bad_pairs_and_change_nothing,
    users_outside_the_scope_are_refused_and_nothing_changes,
    staff_edit_only_their_own_organisation,
    anonymous_visitors_see_only_public_frameworks,
    a_coordinator_edits_a_framework_but_cannot_strand_its_pairings,
);

async fn a_region_lists_its_pairings_in_every_framework(app: TestApp) {
    let r = app.get("/api/v1/pairings?region=500236", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let partners: Vec<(String, String)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let other = if p["party_a"] == "500236" {
                &p["party_b_name_zh"]
            } else {
                &p["party_a_name_zh"]
            };
            (
                p["framework_key"].as_str().unwrap().to_string(),
                other.as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        partners.contains(&("LY".into(), "滨州市".into())),
        "{partners:?}"
    );
    assert!(
        partners.contains(&("YQLQ".into(), "沙坪坝区".into())),
        "{partners:?}"
    );
    assert_eq!(body["total"], partners.len());
}

async fn regions_are_found_by_name(app: TestApp) {
    let body: Value = app
        .get("/api/v1/regions?q=永川", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body[0]["code"], "500118");
    assert_eq!(body[0]["name_zh"], "永川区");
    let detail: Value = app
        .get("/api/v1/regions/500200", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["children"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == "500236"));
    expect_problem(
        app.get("/api/v1/regions/5002", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_problem(
        app.get("/api/v1/regions/110199", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn a_coordinator_pairs_two_parties_and_the_audit_records_it(app: TestApp) {
    let cy = app.framework_id("CY").await;
    let token = app
        .token_for("cy.test", Role::Coordinator, Some("CY"), None)
        .await;
    // 永川区 (Chongqing) and 内江市 (Sichuan) are both inside the framework's parties.
    let r = app.post_json("/api/v1/pairings", &token, &json!({"framework_id": cy, "party_a": "500118", "party_b": "511000", "started_on": "2021-05-27"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["party_a_name_zh"], "永川区");
    assert_eq!(p["party_b_name_zh"], "内江市");
    let id = p["id"].as_i64().unwrap();

    let listed: Value = app
        .get("/api/v1/pairings?region=511000", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == id));

    let r = app.send_json(Method::PUT, &format!("/api/v1/pairings/{id}"), &token, &json!({"framework_id": cy, "party_a": "500118", "party_b": "511000", "status": "ended"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let history: Value = app
        .get(&format!("/api/v1/pairings/{id}/history"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["update", "create"]);
    assert_eq!(history[0]["actor_name"], "cy.test");
    let before: Value = serde_json::from_str(history[0]["before_json"].as_str().unwrap()).unwrap();
    let after: Value = serde_json::from_str(history[0]["after_json"].as_str().unwrap()).unwrap();
    assert_eq!(
        (before["status"].as_str(), after["status"].as_str()),
        (Some("active"), Some("ended"))
    );

    let (n, breaches) = xietong_core::audit::verify(&app.db).await.unwrap();
    assert!(breaches.is_empty() && n > 0, "{breaches:?}");
}

async fn pairing_rules_refuse_bad_pairs_and_change_nothing(app: TestApp) {
    let ly = app.framework_id("LY").await;
    let admin = app.admin_token().await;
    let before = app.fingerprint().await;

    let self_pair = app
        .post_json(
            "/api/v1/pairings",
            &admin,
            &json!({"framework_id": ly, "party_a": "500236", "party_b": "500236"}),
        )
        .await;
    let body = expect_problem(
        self_pair,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "pairing_self");

    // 绵阳 is in Sichuan, outside the Shandong–Chongqing framework.
    let outside = app
        .post_json(
            "/api/v1/pairings",
            &admin,
            &json!({"framework_id": ly, "party_a": "510700", "party_b": "500236"}),
        )
        .await;
    let body = expect_problem(
        outside,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "party_a");
    assert_eq!(body["errors"][0]["code"], "party_outside_framework");

    // 滨州–奉节 exists; the reversed order is the same pairing.
    let duplicate = app
        .post_json(
            "/api/v1/pairings",
            &admin,
            &json!({"framework_id": ly, "party_a": "500236", "party_b": "371600"}),
        )
        .await;
    expect_problem(duplicate, StatusCode::CONFLICT, "pairing_duplicate").await;

    let unknown_framework = app
        .post_json(
            "/api/v1/pairings",
            &admin,
            &json!({"framework_id": 9999, "party_a": "371600", "party_b": "500101"}),
        )
        .await;
    expect_problem(
        unknown_framework,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    assert_eq!(app.fingerprint().await, before);
}

async fn users_outside_the_scope_are_refused_and_nothing_changes(app: TestApp) {
    let ly = app.framework_id("LY").await;
    let cy_coordinator = app
        .token_for("cy.outsider", Role::Coordinator, Some("CY"), None)
        .await;
    let viewer = app
        .token_for("ly.viewer", Role::Viewer, Some("LY"), None)
        .await;
    let staff = app
        .token_for("ly.staff", Role::Staff, Some("LY"), None)
        .await;
    let before = app.fingerprint().await;
    let new_pair = json!({"framework_id": ly, "party_a": "370100", "party_b": "500101"});
    for token in [&cy_coordinator, &viewer, &staff] {
        expect_problem(
            app.post_json("/api/v1/pairings", token, &new_pair).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        let r = app.send_json(Method::PUT, "/api/v1/pairings/2", token, &json!({"framework_id": ly, "party_a": "371600", "party_b": "500236", "status": "ended"})).await;
        expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app
            .http
            .delete(app.at("/api/v1/pairings/2"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app.post_json("/api/v1/frameworks", token, &json!({"key": "X1", "name_zh": "测试", "kind": "east_west", "parties": ["370000", "500000"]})).await;
        expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app.post_json("/api/v1/users", token, &json!({"username": "intruder", "display_name": "x", "password": "long-enough-pw", "grants": [{"role": "admin", "framework_id": null}]})).await;
        expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app
            .http
            .post(app.at("/api/v1/calendar/years"))
            .bearer_auth(token)
            .body("date,kind,name_zh,name_en\n2027-01-01,holiday,元旦,New Year\n")
            .send()
            .await
            .unwrap();
        expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let r = app
        .http
        .post(app.at("/api/v1/pairings"))
        .json(&new_pair)
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let r = app
        .http
        .post(app.at("/api/v1/pairings"))
        .bearer_auth("xt_not_a_token")
        .json(&new_pair)
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(app.fingerprint().await, before);
}

async fn staff_edit_only_their_own_organisation(app: TestApp) {
    let fengjie = app.org_id("奉节县人民政府").await;
    let binzhou = app.org_id("滨州市人民政府").await;
    let staff = app
        .token_for("fj.staff", Role::Staff, Some("YQLQ"), Some(fengjie))
        .await;
    let own = json!({"name_zh": "奉节县人民政府", "name_en": "Fengjie County People's Government", "kind": "government", "region_code": "500236"});
    let r = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/organisations/{fengjie}"),
            &staff,
            &own,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let before = app.fingerprint().await;
    let other = json!({"name_zh": "滨州市人民政府", "name_en": "changed", "kind": "government", "region_code": "371600"});
    let r = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/organisations/{binzhou}"),
            &staff,
            &other,
        )
        .await;
    expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .post_json(
            "/api/v1/organisations",
            &staff,
            &json!({"name_zh": "新单位", "kind": "other", "region_code": "500236"}),
        )
        .await;
    expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(app.fingerprint().await, before);
}

async fn anonymous_visitors_see_only_public_frameworks(app: TestApp) {
    sqlx::query("UPDATE frameworks SET public = 0 WHERE key = 'LY'")
        .execute(app.db.pool())
        .await
        .unwrap();
    let frameworks: Value = app
        .get("/api/v1/frameworks", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(!frameworks
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["key"] == "LY"));
    let pairs: Value = app
        .get("/api/v1/pairings?region=500236", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(pairs["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["framework_key"] != "LY"));
    expect_problem(
        app.get("/api/v1/pairings/2", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let viewer = app
        .token_for("ly.reader", Role::Viewer, Some("LY"), None)
        .await;
    assert_eq!(
        app.get("/api/v1/pairings/2", Some(&viewer)).await.status(),
        StatusCode::OK
    );
    expect_problem(
        app.get("/api/v1/organisations", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

async fn a_coordinator_edits_a_framework_but_cannot_strand_its_pairings(app: TestApp) {
    let cy = app.framework_id("CY").await;
    let coordinator = app
        .token_for("cy.editor", Role::Coordinator, Some("CY"), None)
        .await;
    let outsider = app
        .token_for("ly.editor", Role::Coordinator, Some("LY"), None)
        .await;
    let mut input = json!({"key": "CY", "name_zh": "成渝地区双城经济圈", "name_en": "Chengdu–Chongqing Twin-City Economic Circle",
        "kind": "economic_circle", "parties": ["510000", "500000"], "description_zh": "三级运作机制", "started_on": "2020-03-17"});
    let r = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/frameworks/{cy}"),
            &coordinator,
            &input,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let detail: Value = r.json().await.unwrap();
    assert_eq!(detail["description_zh"], "三级运作机制");

    let before = app.fingerprint().await;
    input["parties"] = json!(["500000", "510100"]);
    let r = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/frameworks/{cy}"),
            &coordinator,
            &input,
        )
        .await;
    let body = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "parties_strand_pairing");
    let r = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/frameworks/{cy}"),
            &outsider,
            &input,
        )
        .await;
    expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(app.fingerprint().await, before);
    let history: Value = app
        .get(&format!("/api/v1/frameworks/{cy}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["parties"].as_array().unwrap().len(), 2);
}
