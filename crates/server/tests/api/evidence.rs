//! Evidence files on progress reports: accepted by content, refused when too big or of another
//! type, stored with their hash, downloadable by readers, refused to other units' staff.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use xietong_core::permissions::Role;

use crate::helpers::{csrf_on, expect_problem, multipart, sign_in, TestApp};
use crate::on_both_engines;

on_both_engines!(evidence_is_checked_stored_by_hash_and_read_by_readers);

async fn upload(
    app: &TestApp,
    token: &str,
    path: &str,
    files: &[(&str, &[u8])],
) -> reqwest::Response {
    let parts: Vec<(&str, Option<&str>, &[u8])> =
        files.iter().map(|(n, b)| ("file", Some(*n), *b)).collect();
    let (ct, body) = multipart(&parts);
    app.http
        .post(app.at(path))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn evidence_count(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM evidence_files")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    n
}

async fn evidence_is_checked_stored_by_hash_and_read_by_readers(app: TestApp) {
    let coordinator = app
        .token_for("cy.evidence", Role::Coordinator, Some("CY"), None)
        .await;
    let today = xietong_core::calendar::shanghai_date(xietong_core::clock::now());
    let period = format!("{:04}-{:02}", today.year(), today.month() as u8);
    let start = today - time::Duration::days(90);
    let body = json!({
        "code": "EV-001", "framework_id": app.framework_id("CY").await, "title_zh": "共建川南渝西融合发展试验区", "area": "urban_rural",
        "year": today.year(), "lead_org_id": app.org_id("永川区人民政府").await, "co_org_ids": [],
        "start_on": start.to_string(), "deadline": (today + time::Duration::days(60)).to_string(), "source_kind": "decision",
    });
    let r = app.post_json("/api/v1/tasks", &coordinator, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    app.token_for(
        "yc.evidence",
        Role::Staff,
        Some("CY"),
        Some(app.org_id("永川区人民政府").await),
    )
    .await;
    let staff = app
        .token_for(
            "yc.evidence.api",
            Role::Staff,
            Some("CY"),
            Some(app.org_id("永川区人民政府").await),
        )
        .await;
    let r = app
        .post_json(
            &format!("/api/v1/tasks/{id}/reports"),
            &staff,
            &json!({"period": period, "percent": 40, "narrative_zh": "方案已印发"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let path = format!("/api/v1/tasks/{id}/reports/{period}/evidence");

    let pdf: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    let r = upload(&app, &staff, &path, &[("实施方案.pdf", pdf)]).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let d: Value = r.json().await.unwrap();
    let e = &d["evidence"][0];
    assert_eq!(e["filename"], "实施方案.pdf");
    assert_eq!(e["media_type"], "application/pdf");
    assert_eq!(e["size_bytes"], pdf.len());
    assert_eq!(
        e["sha256"],
        hex::encode(Sha256::digest(pdf)),
        "the content's hash is stored"
    );
    assert_eq!(e["period"].as_str(), Some(period.as_str()));
    let evidence_id = e["id"].as_i64().unwrap();

    // The same content again is kept once, and nothing is written.
    let outsider = app
        .token_for(
            "fj.evidence",
            Role::Staff,
            Some("CY"),
            Some(app.org_id("奉节县人民政府").await),
        )
        .await;
    let before = app.fingerprint().await;
    let r = upload(&app, &staff, &path, &[("副本.pdf", pdf)]).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(evidence_count(&app).await, 1);
    assert_eq!(app.fingerprint().await, before);

    // Refusals: too big, a type not accepted, an outsider. Nothing changes.
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let body = expect_problem(
        upload(&app, &staff, &path, &[("大文件.txt", &big)]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "evidence_too_big", "{body}");
    assert!(body["errors"][0]["message_zh"]
        .as_str()
        .unwrap()
        .contains("10.0 MiB"));
    let exe: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00";
    let body = expect_problem(
        upload(
            &app,
            &staff,
            &path,
            &[("工具.exe", exe), ("说明.txt", "说明".as_bytes())],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "evidence_type_refused", "{body}");
    assert!(body["errors"][0]["message_en"]
        .as_str()
        .unwrap()
        .contains("PDF"));
    assert_eq!(
        evidence_count(&app).await,
        1,
        "a refused file refuses the whole upload"
    );
    expect_problem(
        upload(&app, &outsider, &path, &[("其他.pdf", b"%PDF-1.4 other")]).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        upload(
            &app,
            &staff,
            &format!("/api/v1/tasks/{id}/reports/2001-01/evidence"),
            &[("a.pdf", pdf)],
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(app.fingerprint().await, before);
    assert_eq!(evidence_count(&app).await, 1);

    // Whoever may read the task may download; the bytes come back as stored.
    for token in [&staff, &outsider, &coordinator] {
        let r = app
            .get(&format!("/api/v1/evidence/{evidence_id}"), Some(token))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        assert_eq!(r.bytes().await.unwrap().as_ref(), pdf);
    }
    expect_problem(
        app.get("/api/v1/evidence/999999", Some(&staff)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // The page's report form takes files with the report; the timeline lists them.
    let cookie = sign_in(&app, "yc.evidence", "test-password-123").await;
    let csrf = csrf_on(&app, &cookie, &format!("/tasks/{id}")).await;
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
    let (ct, form) = multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("period", None, period.as_bytes()),
        ("percent", None, b"60"),
        ("narrative_zh", None, "现场照片已上传".as_bytes()),
        ("files", Some("现场.png"), png),
    ]);
    let r = app
        .http
        .post(app.at(&format!("/tasks/{id}/reports")))
        .header("cookie", &cookie)
        .header("content-type", ct)
        .body(form)
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
    assert!(
        page.contains("实施方案.pdf") && page.contains("现场.png"),
        "{page}"
    );
    assert!(page.contains(&format!("/api/v1/evidence/{evidence_id}")));
    // A refused file on the page refuses the report with it, in the page's words.
    let before = app.fingerprint().await;
    let (ct, form) = multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("period", None, period.as_bytes()),
        ("percent", None, b"70"),
        ("narrative_zh", None, "x".as_bytes()),
        ("files", Some("工具.exe"), exe),
    ]);
    let r = app
        .http
        .post(app.at(&format!("/tasks/{id}/reports")))
        .header("cookie", &cookie)
        .header("content-type", ct)
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("类型不被接受"));
    assert_eq!(app.fingerprint().await, before);
}
