//! Excel in, Excel out: the investment template round trip, all-or-nothing imports with row and
//! column named, idempotent re-imports, exports of filtered lists.

use reqwest::StatusCode;
use rust_xlsxwriter::Workbook;
use serde_json::Value;
use xietong_core::permissions::Role;

use crate::helpers::{expect_problem, TestApp};
use crate::on_both_engines;

on_both_engines!(investment_imports_are_all_or_nothing_and_idempotent);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn workbook(rows: &[[&str; 4]]) -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in xietong_supervision::excel::INVESTMENT_HEADERS
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

async fn import(app: &TestApp, token: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.http
        .post(app.at("/api/v1/projects/investment-import"))
        .bearer_auth(token)
        .header("content-type", XLSX)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn investment_imports_are_all_or_nothing_and_idempotent(app: TestApp) {
    let coordinator = app
        .token_for("cy.excel", Role::Coordinator, Some("CY"), None)
        .await;
    let today = xietong_core::calendar::shanghai_date(xietong_core::clock::now());
    let month = format!("{:04}-{:02}", today.year(), today.month() as u8);
    // The demo gives CY-P-001 and CY-P-002 plans for this year.
    let template = app
        .http
        .get(app.at("/api/v1/projects/investment-template"))
        .bearer_auth(&coordinator)
        .send()
        .await
        .unwrap();
    assert_eq!(template.headers()["content-type"], XLSX);
    let bytes = template.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an .xlsx is a zip");
    assert!(
        xietong_supervision::excel::read_investment(&bytes)
            .unwrap()
            .is_empty(),
        "an unfilled template reports nothing"
    );

    let before = app.fingerprint().await;
    let reports = || async {
        sqlx::query_as::<_, (i64, i64)>("SELECT COUNT(*), CAST(COALESCE(SUM(completed_fen), 0) AS BIGINT) FROM investment_reports").fetch_one(app.db.pool()).await.unwrap()
    };
    let stored = reports().await;
    let bad = workbook(&[
        ["CY-P-001", "成渝中线高铁", &month, "120000"],
        ["CY-P-999", "不存在的项目", &month, "10"],
        ["CY-P-002", "成达万高铁", &month, "8亿"],
        ["CY-P-002", "成达万高铁", "2026/11", "10"],
    ]);
    let body = expect_problem(
        import(&app, &coordinator, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "第3行 项目编号",
            "第4行 当月完成投资（万元）",
            "第5行 月份（YYYY-MM）"
        ],
        "{body}"
    );
    assert_eq!(
        reports().await,
        stored,
        "nothing imported from a failing file"
    );
    assert_eq!(app.fingerprint().await, before);
    expect_problem(
        import(&app, &coordinator, b"not a spreadsheet".to_vec()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let good = workbook(&[
        ["CY-P-001", "成渝中线高铁", &month, "120000"],
        ["CY-P-002", "成达万高铁", &month, "80000.5"],
    ]);
    let outcome: Value = import(&app, &coordinator, good.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (outcome["changed"].as_u64(), outcome["unchanged"].as_u64()),
        (Some(2), Some(0)),
        "{outcome}"
    );
    let p: Value = app
        .get("/api/v1/projects?q=CY-P-002", Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    let id = p["items"][0]["id"].as_i64().unwrap();
    let d: Value = app
        .get(&format!("/api/v1/projects/{id}"), Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        d["reports"][0]["completed_fen"], 80_000_500_000i64,
        "80000.5 万元 exactly"
    );
    let year = &month[..4];
    let reported: i64 = d["reports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["month"].as_str().unwrap().starts_with(year))
        .map(|r| r["completed_fen"].as_i64().unwrap())
        .sum();
    let plan = d["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["year"].as_i64() == year.parse().ok())
        .unwrap();
    assert_eq!(
        plan["completed_fen"].as_i64().unwrap(),
        reported,
        "the plan's completed total moved with the import: {d}"
    );
    let audit_after_first = app.fingerprint().await;
    let again: Value = import(&app, &coordinator, good).await.json().await.unwrap();
    assert_eq!(
        (again["changed"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(
        app.fingerprint().await,
        audit_after_first,
        "the same file twice changes nothing"
    );

    // A unit's staff may only report their own projects.
    let other = app
        .token_for(
            "fj.excel",
            Role::Staff,
            Some("CY"),
            Some(app.org_id("奉节县人民政府").await),
        )
        .await;
    let r = import(
        &app,
        &other,
        workbook(&[["CY-P-001", "成渝中线高铁", &month, "1"]]),
    )
    .await;
    let body = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"][0]["message_zh"]
        .as_str()
        .unwrap()
        .contains("无权报送"));

    for path in [
        "/api/v1/projects/export?stage=under_construction",
        "/api/v1/tasks/export?year=2021",
        "/projects/export.xlsx",
    ] {
        let r = app
            .http
            .get(app.at(path))
            .bearer_auth(&coordinator)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["content-type"], XLSX, "{path}");
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    }
}
