//! Task-list and project-ledger templates: download → fill → import → the same file again
//! changes nothing; a failing file imports nothing and comes back with its bad cells marked.

use reqwest::StatusCode;
use rust_xlsxwriter::Workbook;
use serde_json::Value;
use xietong_core::permissions::Role;
use xietong_supervision::excel::{self, PROJECT_HEADERS, REASON_HEADER, TASK_HEADERS};

use crate::helpers::{csrf_on, expect_problem, multipart, sign_in, TestApp};
use crate::on_both_engines;

on_both_engines!(
    a_task_list_round_trips_and_reimports_change_nothing,
    a_project_ledger_round_trips_and_refusals_come_back_marked,
);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn workbook(headers: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

async fn import(app: &TestApp, path: &str, token: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.http
        .post(app.at(path))
        .bearer_auth(token)
        .header("content-type", XLSX)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    n
}

fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

async fn a_task_list_round_trips_and_reimports_change_nothing(app: TestApp) {
    let coordinator = app
        .token_for("cy.tasks.xlsx", Role::Coordinator, Some("CY"), None)
        .await;
    let template = app.get("/api/v1/tasks/template", Some(&coordinator)).await;
    assert_eq!(template.status(), StatusCode::OK);
    assert_eq!(template.headers()["content-type"], XLSX);
    let bytes = template.bytes().await.unwrap();
    assert!(
        excel::read_rows(&bytes, &TASK_HEADERS).unwrap().is_empty(),
        "the template is its headers"
    );
    let row = |code: &'static str, title: &'static str| {
        vec![
            code,
            "CY",
            title,
            "基础设施",
            "2026",
            "永川区人民政府",
            "四川省人民政府",
            "2026-01-01",
            "2026-12-31",
            "通车",
            "年度计划",
        ]
    };
    let filled = workbook(
        &TASK_HEADERS,
        &[
            row("XLSX-T-001", "川南渝西快速通道"),
            row("XLSX-T-002", "成渝地区双城经济圈数据共享"),
        ],
    );
    let tasks_before = count(&app, "tasks").await;
    let r = import(&app, "/api/v1/tasks/import", &coordinator, filled.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let outcome: Value = r.json().await.unwrap();
    assert_eq!(
        (
            &outcome["created"],
            &outcome["updated"],
            &outcome["unchanged"]
        ),
        (&Value::from(2), &Value::from(0), &Value::from(0)),
        "{outcome}"
    );
    assert_eq!(count(&app, "tasks").await, tasks_before + 2);
    let list: Value = app
        .get("/api/v1/tasks?q=XLSX-T-001", Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    let id = list["items"][0]["id"].as_i64().unwrap();
    let d: Value = app
        .get(&format!("/api/v1/tasks/{id}"), Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["area"], "infrastructure");
    assert_eq!(d["source_kind"], "annual_plan");
    assert_eq!(
        d["owners"].as_array().unwrap().len(),
        2,
        "lead and co-owner"
    );

    // The same file again: nothing written, nothing recorded.
    let after_first = app.fingerprint().await;
    let again: Value = import(&app, "/api/v1/tasks/import", &coordinator, filled)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&again["unchanged"], &again["created"], &again["updated"]),
        (&Value::from(2), &Value::from(0), &Value::from(0))
    );
    assert_eq!(app.fingerprint().await, after_first);

    // A changed title updates that task only.
    let changed = workbook(
        &TASK_HEADERS,
        &[
            row("XLSX-T-001", "川南渝西快速通道（调整）"),
            row("XLSX-T-002", "成渝地区双城经济圈数据共享"),
        ],
    );
    let third: Value = import(&app, "/api/v1/tasks/import", &coordinator, changed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&third["updated"], &third["unchanged"]),
        (&Value::from(1), &Value::from(1))
    );
    let d: Value = app
        .get(&format!("/api/v1/tasks/{id}"), Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["title_zh"], "川南渝西快速通道（调整）");

    let staff = app
        .token_for(
            "yc.tasks.xlsx",
            Role::Staff,
            Some("CY"),
            Some(app.org_id("永川区人民政府").await),
        )
        .await;
    // A failing file imports nothing, its good rows included.
    let before = app.fingerprint().await;
    let tasks_now = count(&app, "tasks").await;
    let mut bad_area = row("XLSX-T-003", "新任务");
    bad_area[3] = "航天";
    let mut bad_dates = row("XLSX-T-004", "新任务");
    bad_dates[8] = "2025-12-31";
    let mut bad_lead = row("XLSX-T-005", "新任务");
    bad_lead[5] = "不存在的单位";
    let failing = workbook(
        &TASK_HEADERS,
        &[row("XLSX-T-006", "好的一行"), bad_area, bad_dates, bad_lead],
    );
    let body = expect_problem(
        import(&app, "/api/v1/tasks/import", &coordinator, failing.clone()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        fields(&body),
        [
            "第3行 领域",
            "第4行 截止日期（YYYY-MM-DD）",
            "第5行 牵头单位"
        ],
        "{body}"
    );
    assert_eq!(count(&app, "tasks").await, tasks_now);
    assert_eq!(app.fingerprint().await, before);

    // The same refusal as the uploaded sheet with the bad cells marked.
    let r = import(
        &app,
        "/api/v1/tasks/import?report=xlsx",
        &coordinator,
        failing,
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.headers()["content-type"], XLSX, "{:?}", r.headers());
    let marked = r.bytes().await.unwrap();
    let rows = excel::read_rows(&marked, &TASK_HEADERS).unwrap();
    let reason = TASK_HEADERS.len();
    assert_eq!(rows[0].get(reason), "", "the good row has no reason");
    assert!(rows[1].get(reason).starts_with("领域："), "{:?}", rows[1]);
    assert!(rows[2].get(reason).contains("截止日期早于开始日期"));
    assert!(rows[3].get(reason).contains("不存在的单位"));
    assert_eq!(rows[1].get(3), "航天", "the upload's values are kept");
    assert!(marked.starts_with(b"PK"), "an .xlsx");
    assert_eq!(app.fingerprint().await, before);

    // Staff do not keep the task book: every row is refused on its framework.
    let body = expect_problem(
        import(
            &app,
            "/api/v1/tasks/import",
            &staff,
            workbook(&TASK_HEADERS, &[row("XLSX-T-007", "无权")]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&body), ["第2行 协作机制"]);
    assert_eq!(app.fingerprint().await, before);
}

async fn a_project_ledger_round_trips_and_refusals_come_back_marked(app: TestApp) {
    let coordinator = app
        .token_for("cy.ledger.xlsx", Role::Coordinator, Some("CY"), None)
        .await;
    let template = app
        .get("/api/v1/projects/template", Some(&coordinator))
        .await;
    assert_eq!(template.status(), StatusCode::OK);
    let bytes = template.bytes().await.unwrap();
    assert!(excel::read_rows(&bytes, &PROJECT_HEADERS)
        .unwrap()
        .is_empty());
    let row = |code: &'static str, stage: &'static str| {
        vec![
            code,
            "CY",
            "永川至江津快速通道",
            stage,
            "125000.5",
            "张工",
            "500118",
            "永川区人民政府",
            "",
        ]
    };
    let filled = workbook(
        &PROJECT_HEADERS,
        &[row("XLSX-P-001", "前期"), row("XLSX-P-002", "储备")],
    );
    let r = import(
        &app,
        "/api/v1/projects/import",
        &coordinator,
        filled.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let outcome: Value = r.json().await.unwrap();
    assert_eq!(
        (&outcome["created"], &outcome["unchanged"]),
        (&Value::from(2), &Value::from(0)),
        "{outcome}"
    );
    // The import's audit records, appended as a batch, chain like any others.
    let (records, breaches) = xietong_core::audit::verify(&app.db).await.unwrap();
    assert!(breaches.is_empty(), "{breaches:?}");
    let (imported,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE entity = 'project' AND after_json LIKE '%\"via\":\"import\"%'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!((imported, records > 2), (2, true));
    let list: Value = app
        .get("/api/v1/projects?q=XLSX-P-001", Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    let id = list["items"][0]["id"].as_i64().unwrap();
    let d: Value = app
        .get(&format!("/api/v1/projects/{id}"), Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        d["total_investment_fen"], 125_000_500_000i64,
        "125000.5 万元 exactly"
    );
    assert_eq!(d["stage"], "preparatory");
    assert_eq!(d["regions"], serde_json::json!(["500118"]));
    assert_eq!(d["units"][0]["name_zh"], "永川区人民政府");

    let after_first = app.fingerprint().await;
    let again: Value = import(&app, "/api/v1/projects/import", &coordinator, filled)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&again["unchanged"], &again["created"], &again["updated"]),
        (&Value::from(2), &Value::from(0), &Value::from(0))
    );
    assert_eq!(
        app.fingerprint().await,
        after_first,
        "the same file twice changes nothing"
    );

    // A stage moved in the ledger is a dated stage event.
    let moved: Value = import(
        &app,
        "/api/v1/projects/import",
        &coordinator,
        workbook(
            &PROJECT_HEADERS,
            &[row("XLSX-P-001", "新开工"), row("XLSX-P-002", "储备")],
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (&moved["updated"], &moved["unchanged"]),
        (&Value::from(1), &Value::from(1))
    );
    let d: Value = app
        .get(&format!("/api/v1/projects/{id}"), Some(&coordinator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["stage"], "started");
    assert_eq!(d["stages"].as_array().unwrap().len(), 2);

    app.token_for("cy.ledger.page", Role::Coordinator, Some("CY"), None)
        .await;
    // Failing rows: nothing imported, each bad cell named.
    let before = app.fingerprint().await;
    let projects = count(&app, "projects").await;
    let mut money_unit = row("XLSX-P-003", "前期");
    money_unit[4] = "12亿";
    let mut bad_stage = row("XLSX-P-004", "在建");
    bad_stage[7] = "永川区人民政府、查无此单位";
    let failing = workbook(
        &PROJECT_HEADERS,
        &[
            row("XLSX-P-005", "前期"),
            money_unit,
            bad_stage,
            row("XLSX-P-005", "前期"),
        ],
    );
    let body = expect_problem(
        import(
            &app,
            "/api/v1/projects/import",
            &coordinator,
            failing.clone(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        fields(&body),
        [
            "第3行 总投资（万元）",
            "第4行 责任单位",
            "第4行 阶段",
            "第5行 项目编号"
        ],
        "{body}"
    );
    assert_eq!(count(&app, "projects").await, projects);
    assert_eq!(app.fingerprint().await, before);

    // The browser's import page names the cells and offers the marked sheet.
    let cookie = sign_in(&app, "cy.ledger.page", "test-password-123").await;
    let csrf = csrf_on(&app, &cookie, "/projects").await;
    let (ct, form) = multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("file", Some("ledger.xlsx"), &failing),
    ]);
    let r = app
        .http
        .post(app.at("/projects/ledger-import"))
        .header("cookie", &cookie)
        .header("content-type", ct)
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("第3行 总投资（万元）"), "{page}");
    assert!(
        page.contains("download=\"import-errors.xlsx\""),
        "a download of the marked sheet"
    );
    let encoded = page
        .split(";base64,")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the marked sheet is embedded in the page")
        // As the browser reads the attribute: the page escapes `/`.
        .replace("&#x2f;", "/");
    let marked = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap()
    };
    let rows = excel::read_rows(&marked, &PROJECT_HEADERS).unwrap();
    let reasons: Vec<&str> = rows.iter().map(|r| r.get(PROJECT_HEADERS.len())).collect();
    assert!(
        reasons.iter().any(|r| r.contains("总投资")),
        "the embedded sheet carries each bad row's reason: {reasons:?}"
    );
    assert!(page.contains(REASON_HEADER));
    assert_eq!(app.fingerprint().await, before);
    let (ct, form) = multipart(&[
        ("csrf", None, csrf.as_bytes()),
        (
            "file",
            Some("ledger.xlsx"),
            &workbook(&PROJECT_HEADERS, &[row("XLSX-P-006", "储备")]),
        ),
    ]);
    let r = app
        .http
        .post(app.at("/projects/ledger-import"))
        .header("cookie", &cookie)
        .header("content-type", ct)
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("新建 1 条"));

    // The investment import's refusals come back marked too.
    let r = import(
        &app,
        "/api/v1/projects/investment-import?report=xlsx",
        &coordinator,
        workbook(
            &excel::INVESTMENT_HEADERS,
            &[vec!["CY-P-999", "不存在", "2026-01", "10"]],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let marked = r.bytes().await.unwrap();
    let rows = excel::read_rows(&marked, &excel::INVESTMENT_HEADERS).unwrap();
    assert!(rows[0].get(4).starts_with("项目编号："), "{:?}", rows[0]);
    // An unknown report format is refused plainly.
    expect_problem(
        import(
            &app,
            "/api/v1/projects/import?report=pdf",
            &coordinator,
            vec![],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}
