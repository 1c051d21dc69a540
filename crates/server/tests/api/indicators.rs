//! Pairing report cards: the demo reproduces the seeds' figures, writes are checked and
//! permissioned, corrections keep history, and the Excel template round-trips.

use reqwest::StatusCode;
use rust_xlsxwriter::Workbook;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, TestApp};
use crate::on_both_engines;

on_both_engines!(
    the_district_pairing_card_shows_the_seeds_figures,
    shandong_and_sichuan_cards_show_the_exchanges_and_firms,
    staff_report_only_for_their_pairings_and_refusals_change_nothing,
    bad_figures_are_refused_with_their_place_and_reason,
    corrections_supersede_and_keep_history,
    the_reporting_template_round_trips_and_bad_files_import_nothing,
    a_published_card_is_public,
    a_pairing_with_figures_cannot_move_to_another_framework,
);

async fn card(app: &TestApp, key: &str, as_of: &str) -> Value {
    let id = app.framework_id(key).await;
    let r = app
        .get(
            &format!("/api/v1/frameworks/{id}/report-card?as_of={as_of}"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn line<'a>(card: &'a Value, code: &str) -> &'a Value {
    card["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in the card"))
}

fn total(card: &Value, code: &str) -> i64 {
    line(card, code)["total"].as_i64().unwrap()
}

/// A pairing's figure on the card, by its two parties' codes.
fn at_pair(card: &Value, a: &str, b: &str, code: &str) -> i64 {
    let k = card["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["code"] == code)
        .unwrap();
    let p = card["pairings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["party_a"] == a && p["party_b"] == b)
        .unwrap_or_else(|| panic!("no pair {a}–{b}"));
    p["values"][k].as_i64().unwrap()
}

fn target_at_pair(card: &Value, a: &str, b: &str, code: &str) -> Option<i64> {
    let k = card["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["code"] == code)
        .unwrap();
    let p = card["pairings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["party_a"] == a && p["party_b"] == b)
        .unwrap();
    p["targets"][k].as_i64()
}

const YI: i64 = 10_000_000_000; // fen in one 亿元
const WAN: i64 = 1_000_000; // fen in one 万元

async fn the_district_pairing_card_shows_the_seeds_figures(app: TestApp) {
    let c = card(&app, "YQLQ", "2022-08-31").await;
    // 002: “全市17对结对区县均已签订年度合作协议,13对结对区县开展党政主要领导互访,主城协同区解决帮扶资金达到4.39亿元”
    assert_eq!(
        (
            c["pairs_total"].as_i64(),
            c["pairs_with_agreement"].as_i64()
        ),
        (Some(17), Some(17))
    );
    assert_eq!(total(&c, "PAIRS_WITH_VISITS"), 13);
    assert_eq!(total(&c, "FUNDS"), 439 * YI / 100);
    assert_eq!(line(&c, "FUNDS")["display"], "4.39亿元");
    // “主城协同区推动13个产业协同项目在“两群”区县落地,到位资金3.63亿元,…产业协作园区16个,…景区共建项目27个”
    assert_eq!(total(&c, "PROJECTS_LANDED"), 13);
    assert_eq!(total(&c, "CAPITAL_ARRIVED"), 363 * YI / 100);
    assert_eq!(total(&c, "PARKS"), 16);
    assert_eq!(total(&c, "SCENIC_SITES"), 27);
    // “提供就业岗位超6万个,实际招录3187人”
    assert!(total(&c, "JOBS_OFFERED") > 60_000);
    assert_eq!(total(&c, "HIRED"), 3_187);
    // “农特文旅产品累计2.67亿元”; “互派医务人员204人、教师136人”; “44名专技人才”; “科技成果转化应用项目24个”
    assert_eq!(total(&c, "CONSUMPTION"), 267 * YI / 100);
    assert_eq!(total(&c, "MEDICAL_STAFF"), 204);
    assert_eq!(total(&c, "TEACHERS"), 136);
    assert_eq!(total(&c, "PROFESSIONALS"), 44);
    assert_eq!(total(&c, "TECH_TRANSFER"), 24);
    // “已有11对结对区县开展融资协作,11对结对区县探索横向生态补偿机制,已有5对结对区县开展土地资源协作”
    assert_eq!(total(&c, "PAIRS_WITH_FINANCING"), 11);
    assert_eq!(total(&c, "PAIRS_WITH_ECO_COMPENSATION"), 11);
    assert_eq!(total(&c, "PAIRS_WITH_LAND_COOPERATION"), 5);
    // Pair-level facts.
    assert_eq!(at_pair(&c, "500105", "500242", "LAND_AREA"), 75_000);
    assert_eq!(
        at_pair(&c, "500105", "500242", "LAND_AMOUNT"),
        1_875 * YI / 1_000
    );
    assert_eq!(at_pair(&c, "509902", "500114", "LAND_AREA"), 2_300);
    assert_eq!(
        at_pair(&c, "509902", "500114", "LAND_AMOUNT"),
        199 * YI / 100
    );
    assert_eq!(at_pair(&c, "500112", "500235", "JOBS_OFFERED"), 795);
    assert_eq!(at_pair(&c, "500112", "500235", "TRAINED"), 920);
    assert_eq!(at_pair(&c, "500105", "500242", "PRODUCE_KG"), 125_000);
    assert!(at_pair(&c, "509901", "500101", "SUPPLY_PURCHASES") >= 6_000 * WAN);
    for (code, target) in [
        ("CHILDREN_HELPED", 100),
        ("VOLUNTEERS", 100),
        ("TRAINED", 1_000),
        ("STUDY_TOURS", 1_000),
        ("TOURISTS", 10_000),
        ("CONSUMPTION", 3_000 * WAN),
    ] {
        assert_eq!(
            target_at_pair(&c, "500106", "500236", code),
            Some(target),
            "{code}"
        );
    }
    // Sides: the helping districts and the paired ones each total the framework's figure.
    for side in c["sides"].as_array().unwrap() {
        let k = c["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .position(|l| l["code"] == "FUNDS")
            .unwrap();
        assert_eq!(side["totals"][k].as_i64(), Some(439 * YI / 100));
    }
    // A year earlier the mechanism had just begun: the card counts only what was dated by then.
    assert!(line(&c, "FUNDS")["last_year"].as_i64().unwrap() < total(&c, "FUNDS"));
    let early = card(&app, "YQLQ", "2021-12-31").await;
    assert!(total(&early, "FUNDS") > 0 && total(&early, "FUNDS") < total(&c, "FUNDS"));
    assert_eq!(
        early["pairs_with_agreement"].as_i64(),
        Some(0),
        "no 2021 agreements in the demo"
    );
}

async fn shandong_and_sichuan_cards_show_the_exchanges_and_firms(app: TestApp) {
    // 000: “已互派干部约400名”, “近5000人次的专技人才”, “2022年，全市新增落地投产山东企业77家，实际到位投资额49.23亿元”
    let ly = card(&app, "LY", "2022-12-31").await;
    assert_eq!(total(&ly, "CADRES"), 400);
    let professionals = total(&ly, "PROFESSIONALS");
    assert!(
        (4_900..5_000).contains(&professionals),
        "nearly 5,000: {professionals}"
    );
    assert_eq!(total(&ly, "FIRMS_LANDED"), 77);
    assert_eq!(total(&ly, "FIRM_INVESTMENT"), 4_923 * YI / 100);
    assert_eq!(
        line(&ly, "FIRMS_LANDED")["last_year"].as_i64(),
        Some(0),
        "all 77 landed in 2022"
    );
    // 004: “从2020年9月开始,至今共有301名干部开始了这种双向奔赴” — in three batches.
    let cy = card(&app, "CY", "2023-01-31").await;
    assert_eq!(total(&cy, "CADRES"), 301);
    let batches: (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT batch) FROM activities WHERE kind = 'exchange' AND category = 'cadre' AND framework_id = $1")
        .bind(app.framework_id("CY").await)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(batches.0, 3);
}

async fn pairing_id(app: &TestApp, a: &str, b: &str) -> i64 {
    let (id,): (i64,) =
        sqlx::query_as("SELECT id FROM pairings WHERE party_a = $1 AND party_b = $2")
            .bind(a)
            .bind(b)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    id
}

/// Everything indicators store, with the roll-ups' sums: equal before and after means unchanged.
async fn indicator_fingerprint(app: &TestApp) -> Vec<(String, i64)> {
    let mut out = app.fingerprint().await;
    for (label, sql) in [
        ("values", "SELECT COUNT(*) FROM indicator_values"),
        (
            "current",
            "SELECT COUNT(*) FROM indicator_values WHERE status = 'current'",
        ),
        ("activities", "SELECT COUNT(*) FROM activities"),
        ("agreements", "SELECT COUNT(*) FROM agreements"),
        ("rollups", "SELECT COUNT(*) FROM indicator_rollups"),
        (
            "rollup sum",
            "SELECT CAST(COALESCE(SUM(cum_amount), 0) AS BIGINT) FROM indicator_rollups",
        ),
    ] {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(app.db.pool()).await.unwrap();
        out.push((label.to_string(), n));
    }
    out
}

async fn staff_report_only_for_their_pairings_and_refusals_change_nothing(app: TestApp) {
    let yqlq = app.framework_id("YQLQ").await;
    let staff = app.token_of("fengjie.staff").await;
    let own = pairing_id(&app, "500106", "500236").await;
    let other = pairing_id(&app, "500105", "500242").await;
    let body = |p: i64| json!({"values": [{"pairing_id": p, "indicator": "TOURISTS", "period": "2022-09", "amount": "1200"}]});
    let viewer = app.token_of("yqlq.viewer").await;
    let before = indicator_fingerprint(&app).await;
    let r = app
        .post_json(
            &format!("/api/v1/frameworks/{yqlq}/values"),
            &staff,
            &body(other),
        )
        .await;
    expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .post_json(
            &format!("/api/v1/frameworks/{yqlq}/values"),
            &viewer,
            &body(own),
        )
        .await;
    expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app.post_json("/api/v1/activities", &staff, &json!({"activities": [{"pairing_id": other, "kind": "visit", "occurred_on": "2022-09-01", "title_zh": "互访"}]})).await;
    expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            "/api/v1/indicators/FUNDS",
            &staff,
            &json!({"name_zh": "改名"}),
        )
        .await;
    expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(
        indicator_fingerprint(&app).await,
        before,
        "refusals change nothing"
    );
    // Their own pairing: accepted, and the card moves at once.
    let r = app
        .post_json(
            &format!("/api/v1/frameworks/{yqlq}/values"),
            &staff,
            &body(own),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let figures: Value = app
        .get(
            &format!("/api/v1/pairings/{own}/figures?as_of=2022-09-30"),
            Some(&staff),
        )
        .await
        .json()
        .await
        .unwrap();
    let tourists = figures["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "TOURISTS")
        .unwrap();
    assert_eq!(tourists["amount"].as_i64(), Some(4_600 + 1_200));
    assert_eq!(tourists["target"].as_i64(), Some(10_000));
    assert_eq!(tourists["progress_percent"].as_i64(), Some(58));
    // The pairing's annual agreement for 2022 was signed in the spring (the demo's dates run
    // from February to June): signed by autumn, not yet on New Year's Day, none for 2021.
    let signed_on = |day: &'static str| {
        let app = &app;
        let staff = &staff;
        async move {
            let v: Value = app
                .get(
                    &format!("/api/v1/pairings/{own}/figures?as_of={day}"),
                    Some(staff),
                )
                .await
                .json()
                .await
                .unwrap();
            v["agreement_signed"].as_bool().unwrap()
        }
    };
    assert!(signed_on("2022-09-30").await);
    assert!(!signed_on("2022-01-01").await);
    assert!(!signed_on("2021-12-31").await);
}

async fn bad_figures_are_refused_with_their_place_and_reason(app: TestApp) {
    let admin = app.admin_token().await;
    let yqlq = app.framework_id("YQLQ").await;
    let cy = app.framework_id("CY").await;
    let p = pairing_id(&app, "500106", "500236").await;
    let before = indicator_fingerprint(&app).await;
    let post = |fw: i64, values: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.post_json(
                &format!("/api/v1/frameworks/{fw}/values"),
                &admin,
                &json!({"values": values}),
            )
            .await
        }
    };
    let cases = [
        (
            json!([{"pairing_id": p, "indicator": "HIRED", "period": "2022-09", "amount": "很多"}]),
            "not_a_number",
        ),
        (
            json!([{"pairing_id": p, "indicator": "FUNDS", "period": "2022-09", "amount": "300亩"}]),
            "unit_mismatch",
        ),
        (
            json!([{"pairing_id": p, "indicator": "FUNDS", "period": "2022-09", "amount": "4390000"}]),
            "implausible",
        ),
        (
            json!([{"pairing_id": p, "indicator": "HIRED", "period": "2022-09", "amount": "-4"}]),
            "negative",
        ),
        (
            json!([{"pairing_id": p, "indicator": "HIRED", "period": "2022-13", "amount": "4"}]),
            "period_invalid",
        ),
        (
            json!([{"pairing_id": p, "indicator": "HIRED", "period": "2022-09", "amount": "4"}, {"pairing_id": p, "indicator": "HIRED", "period": "2022-09", "amount": "5"}]),
            "duplicate",
        ),
        (
            json!([{"pairing_id": p, "indicator": "PAIRS_WITH_VISITS", "period": "2022-09", "amount": "1"}]),
            "indicator_computed",
        ),
        (
            json!([{"pairing_id": p, "indicator": "FIRMS_LANDED", "period": "2022-Q3", "amount": "1"}]),
            "indicator_unknown",
        ),
    ];
    for (values, code) in cases {
        let problem = expect_problem(
            post(yqlq, values).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(|e| e["code"] == code),
            "{code}: {problem}"
        );
        assert!(
            errors
                .iter()
                .all(|e| e["field"].as_str().unwrap().starts_with("values[")),
            "{problem}"
        );
    }
    // A period before the pairing began: 四川–重庆 started on 2020-03-17.
    let sc = pairing_id(&app, "510000", "500000").await;
    let problem = expect_problem(post(cy, json!([{"pairing_id": sc, "indicator": "PROFESSIONALS", "period": "2019-12", "amount": "3"}])).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "period_before_pairing");
    // Typing a figure the activities already derive would count it twice.
    let jiangbei = pairing_id(&app, "500105", "500242").await;
    let problem = expect_problem(post(yqlq, json!([{"pairing_id": jiangbei, "indicator": "CONSUMPTION", "period": "2021-11", "amount": "10万元"}])).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "double_entry");
    assert_eq!(
        indicator_fingerprint(&app).await,
        before,
        "nothing stored from a refused request"
    );
}

async fn corrections_supersede_and_keep_history(app: TestApp) {
    let admin = app.admin_token().await;
    let yqlq = app.framework_id("YQLQ").await;
    let p = pairing_id(&app, "500118", "500243").await;
    let report = |amount: &str| json!({"values": [{"pairing_id": p, "indicator": "FUNDS", "period": "2022-09", "amount": amount}]});
    let path = format!("/api/v1/frameworks/{yqlq}/values");
    let before = card(&app, "YQLQ", "2022-09-30").await;
    let first: Value = app
        .post_json(&path, &admin, &report("120万元"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["created"], 1);
    let second: Value = app
        .post_json(&path, &admin, &report("0.015亿元"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["corrected"], 1);
    let audit_before = app.fingerprint().await;
    let third: Value = app
        .post_json(&path, &admin, &report("150"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(third["unchanged"], 1, "150万元 is the same figure");
    let after = card(&app, "YQLQ", "2022-09-30").await;
    assert_eq!(
        total(&after, "FUNDS") - total(&before, "FUNDS"),
        150 * WAN,
        "only the corrected figure counts"
    );
    assert_eq!(
        app.fingerprint().await,
        audit_before,
        "the same figure again writes nothing"
    );
    let figures: Value = app
        .get(
            &format!("/api/v1/pairings/{p}/figures?as_of=2022-09-30"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let history: Vec<&Value> = figures["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["period"] == "2022-09")
        .collect();
    assert_eq!(history.len(), 2);
    assert_eq!(
        history
            .iter()
            .filter(|v| v["status"] == "superseded")
            .count(),
        1
    );
    let current = history.iter().find(|v| v["status"] == "current").unwrap();
    assert_eq!(current["amount"].as_i64(), Some(150 * WAN));
    // Withdrawing it takes it out of the card; withdrawing twice is refused.
    let id = current["id"].as_i64().unwrap();
    let r = app
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/indicator-values/{id}"),
            &admin,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        total(&card(&app, "YQLQ", "2022-09-30").await, "FUNDS"),
        total(&before, "FUNDS")
    );
    let r = app
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/indicator-values/{id}"),
            &admin,
            &json!({}),
        )
        .await;
    expect_problem(r, StatusCode::CONFLICT, "value_not_current").await;
}

fn sheet(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

async fn import(app: &TestApp, token: &str, fw: i64, bytes: Vec<u8>) -> reqwest::Response {
    app.http
        .post(app.at(&format!("/api/v1/frameworks/{fw}/reporting-template")))
        .bearer_auth(token)
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn the_reporting_template_round_trips_and_bad_files_import_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let yqlq = app.framework_id("YQLQ").await;
    let r = app
        .get(
            &format!("/api/v1/frameworks/{yqlq}/reporting-template?period=2022-09"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("月度报送").unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(&header[..3], ["结对编号", "结对", "报送期"]);
    assert!(
        header.contains(&"帮扶资金（万元）".to_string()),
        "{header:?}"
    );
    assert!(
        !header.iter().any(|h| h.starts_with("共建产业协作园区")),
        "derived indicators are not typed"
    );
    assert_eq!(range.rows().count(), 18, "a row per pairing");
    let p = pairing_id(&app, "500106", "500236").await.to_string();
    let q = pairing_id(&app, "500105", "500242").await.to_string();
    let good = sheet(&[
        vec![
            "结对编号",
            "结对",
            "报送期",
            "帮扶资金（万元）",
            "实际招录（人）",
        ],
        vec![&p, "沙坪坝—奉节", "2022-09", "85.5", "12"],
        vec![&q, "江北—酉阳", "2022-09", "1.2亿", ""],
    ]);
    let before = card(&app, "YQLQ", "2022-09-30").await;
    let r = import(&app, &admin, yqlq, good.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let summary: Value = r.json().await.unwrap();
    assert_eq!(summary["created"], 3);
    let after = card(&app, "YQLQ", "2022-09-30").await;
    assert_eq!(
        total(&after, "FUNDS") - total(&before, "FUNDS"),
        855 * WAN / 10 + 12_000 * WAN
    );
    let print = indicator_fingerprint(&app).await;
    let again: Value = import(&app, &admin, yqlq, good).await.json().await.unwrap();
    assert_eq!(
        (again["created"].as_i64(), again["unchanged"].as_i64()),
        (Some(0), Some(3))
    );
    let print_again = indicator_fingerprint(&app).await;
    assert_eq!(
        print, print_again,
        "re-importing the same file changes nothing, not even the audit trail"
    );
    // One bad cell among good ones: nothing is imported, and the report names row, column and why.
    let bad = sheet(&[
        vec![
            "结对编号",
            "结对",
            "报送期",
            "帮扶资金（万元）",
            "实际招录（人）",
        ],
        vec![&p, "沙坪坝—奉节", "2022-10", "10", "3"],
        vec![&q, "江北—酉阳", "2022-10", "十万", "2"],
    ]);
    let before = indicator_fingerprint(&app).await;
    let problem = expect_problem(
        import(&app, &admin, yqlq, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        problem["errors"][0]["field"], "第3行 帮扶资金（万元）",
        "{problem}"
    );
    assert_eq!(problem["errors"][0]["code"], "not_a_number");
    let wrong_unit = sheet(&[
        vec!["结对编号", "结对", "报送期", "帮扶资金（元）"],
        vec![&p, "x", "2022-10", "10"],
    ]);
    let problem = expect_problem(
        import(&app, &admin, yqlq, wrong_unit).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"][0]["field"]
        .as_str()
        .unwrap()
        .contains("帮扶资金（元）"));
    let duplicate = sheet(&[
        vec!["结对编号", "结对", "报送期", "实际招录（人）"],
        vec![&p, "x", "2022-10", "1"],
        vec![&p, "x", "2022-10", "2"],
    ]);
    let problem = expect_problem(
        import(&app, &admin, yqlq, duplicate).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "duplicate");
    let not_xlsx = import(&app, &admin, yqlq, b"name,amount\n".to_vec()).await;
    expect_problem(
        not_xlsx,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        indicator_fingerprint(&app).await,
        before,
        "a failing file imports nothing"
    );
    // The card exports too.
    let r = app
        .get(
            &format!("/api/v1/frameworks/{yqlq}/report-card.xlsx?as_of=2022-08-31"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
    let totals = book.worksheet_range("汇总").unwrap();
    let funds = totals.rows().find(|r| r[0] == "帮扶资金").unwrap();
    assert_eq!(funds[2].to_string(), "43900", "4.39亿元 in 万元");
}

async fn a_published_card_is_public(app: TestApp) {
    let public = app
        .http
        .get(app.at("/public/report-card/YQLQ"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        public.status(),
        StatusCode::NOT_FOUND,
        "nothing published yet"
    );
    let yqlq = app.framework_id("YQLQ").await;
    let staff = app.token_of("fengjie.staff").await;
    let r = app
        .post_json(
            &format!("/api/v1/frameworks/{yqlq}/report-card/publication"),
            &staff,
            &json!({"as_of": "2022-08-31"}),
        )
        .await;
    expect_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let admin = app.admin_token().await;
    let r = app
        .post_json(
            &format!("/api/v1/frameworks/{yqlq}/report-card/publication"),
            &admin,
            &json!({"as_of": "2022-08-31"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let public = app
        .http
        .get(app.at("/public/report-card/YQLQ"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), StatusCode::OK);
    let html = public.text().await.unwrap();
    assert!(
        html.contains("4.39亿元"),
        "the public page shows the figures"
    );
    assert!(html.contains("2022-08-31"));
}

on_both_engines!(staff_record_an_activity_on_their_pairing_page);

async fn staff_record_an_activity_on_their_pairing_page(app: TestApp) {
    let own = pairing_id(&app, "500106", "500236").await;
    let cookie =
        crate::helpers::sign_in(&app, "fengjie.staff", xietong_core::demo::DEMO_PASSWORD).await;
    let page = format!("/indicators/pairings/{own}");
    let csrf = crate::helpers::csrf_on(&app, &cookie, &page).await;
    let before = card(&app, "YQLQ", "2022-09-30").await;
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let cookie = cookie.clone();
        let csrf = csrf.clone();
        async move {
            let mut form: Vec<(&str, String)> = fields
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect();
            form.push(("csrf", csrf));
            app.http
                .post(app.at(&format!("/indicators/pairings/{own}/activities")))
                .header("cookie", &cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let print = indicator_fingerprint(&app).await;
    let bad = post(vec![
        ("kind", "exchange"),
        ("category", "teacher"),
        ("occurred_on", "2022-09-12"),
        ("title_zh", "沙坪坝教师赴奉节支教"),
        ("headcount", "六"),
    ])
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("“六”不是数字"));
    assert_eq!(
        indicator_fingerprint(&app).await,
        print,
        "a refused form stores nothing"
    );
    let ok = post(vec![
        ("kind", "exchange"),
        ("category", "teacher"),
        ("occurred_on", "2022-09-12"),
        ("title_zh", "沙坪坝教师赴奉节支教"),
        ("headcount", "6"),
    ])
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let after = card(&app, "YQLQ", "2022-09-30").await;
    assert_eq!(total(&after, "TEACHERS") - total(&before, "TEACHERS"), 6);
}

on_both_engines!(coordinators_see_who_has_not_reported_on_the_card_page);

async fn coordinators_see_who_has_not_reported_on_the_card_page(app: TestApp) {
    let fw = app.framework_id("YQLQ").await;
    let token = app.admin_token().await;
    let status: Value = app
        .get(
            &format!("/api/v1/frameworks/{fw}/reporting-status?period=2022-08"),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    let missing = status["missing"].as_array().unwrap();
    let reported = status["reported"].as_array().unwrap().len();
    assert!(reported > 0, "the demo reports for August 2022");
    assert!(!missing.is_empty(), "and some pairings of the demo did not");
    let page_of = |username: &'static str| {
        let app = &app;
        async move {
            let cookie =
                crate::helpers::sign_in(app, username, xietong_core::demo::DEMO_PASSWORD).await;
            let path = format!("/indicators?framework={fw}&as_of=2022-08-31");
            crate::helpers::page_as(app, &cookie, &path).await
        }
    };
    let coordinator = page_of("admin").await;
    let panel = &coordinator[coordinator
        .find("id=\"reporting\"")
        .expect("the reporting panel")..];
    assert!(
        panel.contains(&format!(
            "<strong>{reported}/{}</strong>",
            status["pairs_total"]
        )),
        "{panel:.600}"
    );
    for m in missing {
        let link = format!("/indicators/pairings/{}\"", m["pairing_id"]);
        assert!(
            panel.contains(&link),
            "{} is listed as missing",
            m["label_zh"]
        );
    }
    let staff = page_of("fengjie.staff").await;
    assert!(staff.contains("<h1>"), "the staff member sees the card");
    assert!(
        !staff.contains("id=\"reporting\""),
        "but not the chase list"
    );
}

on_both_engines!(an_ended_pairing_takes_figures_only_for_its_life);

async fn an_ended_pairing_takes_figures_only_for_its_life(app: TestApp) {
    let admin = app.admin_token().await;
    let fw = app.framework_id("YQLQ").await;
    let p = pairing_id(&app, "500106", "500236").await;
    let mut pairing: Value = app
        .get(&format!("/api/v1/pairings/{p}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let put = |body: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.send_json(
                reqwest::Method::PUT,
                &format!("/api/v1/pairings/{p}"),
                &admin,
                &body,
            )
            .await
        }
    };
    let input = |status: &str, ended_on: &str| {
        json!({
            "framework_id": pairing["framework_id"], "party_a": pairing["party_a"], "party_b": pairing["party_b"],
            "started_on": "2021-03-01", "status": status, "ended_on": ended_on,
            "note_zh": pairing["note_zh"], "note_en": pairing["note_en"],
        })
    };
    // An end date needs the ended status, and cannot precede the start.
    let print = app.fingerprint().await;
    let r = put(input("active", "2022-10-31")).await;
    let problem = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "end_needs_ended", "{problem}");
    let r = put(input("ended", "2021-02-28")).await;
    let problem = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        problem["errors"][0]["code"], "ends_before_start",
        "{problem}"
    );
    assert_eq!(app.fingerprint().await, print, "refusals change nothing");

    let r = put(input("ended", "2022-10-31")).await;
    assert_eq!(r.status(), StatusCode::OK);
    pairing = r.json().await.unwrap();
    assert_eq!(pairing["ended_on"], "2022-10-31");
    let report = |period: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.post_json(
                &format!("/api/v1/frameworks/{fw}/values"),
                &admin,
                &json!({"values": [{"pairing_id": p, "indicator": "HIRED", "period": period, "amount": "7"}]}),
            )
            .await
        }
    };
    let print = indicator_fingerprint(&app).await;
    let late = report("2022-11").await;
    let problem = expect_problem(late, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "pairing_ended", "{problem}");
    assert_eq!(indicator_fingerprint(&app).await, print, "nothing stored");
    // Its past stays open to correction.
    let within = report("2022-10").await;
    assert_eq!(
        within.status(),
        StatusCode::OK,
        "{}",
        within.text().await.unwrap()
    );
}

on_both_engines!(admins_edit_the_catalogue_on_its_page);

async fn admins_edit_the_catalogue_on_its_page(app: TestApp) {
    let admin = crate::helpers::sign_in(&app, "admin", xietong_core::demo::DEMO_PASSWORD).await;
    let csrf = crate::helpers::csrf_on(&app, &admin, "/indicators/catalogue").await;
    let page = crate::helpers::page_as(&app, &admin, "/indicators/catalogue").await;
    assert!(
        page.contains("id=\"FUNDS\""),
        "the catalogue lists its entries"
    );
    let post = |cookie: String, csrf: String, unit: &'static str| {
        let app = &app;
        async move {
            let form = [
                ("csrf", csrf.as_str()),
                ("name_zh", "帮扶资金"),
                ("name_en", "Assistance funds"),
                ("unit", unit),
                ("combine", "sum"),
                ("higher_is_better", "1"),
            ];
            crate::helpers::post_form_as(app, &cookie, "/indicators/catalogue/FUNDS", &form).await
        }
    };
    let print = app.fingerprint().await;
    let refused = post(admin.clone(), csrf.clone(), "亩").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("role=\"alert\""),
        "the refusal is shown on the page"
    );
    assert_eq!(
        app.fingerprint().await,
        print,
        "a refused edit changes nothing"
    );

    let staff =
        crate::helpers::sign_in(&app, "fengjie.staff", xietong_core::demo::DEMO_PASSWORD).await;
    let staff_csrf = crate::helpers::csrf_on(&app, &staff, "/indicators/catalogue").await;
    let forbidden = post(staff, staff_csrf, "亿元").await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.fingerprint().await, print, "nor does a forbidden one");

    let funds_line = |c: Value| {
        c["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["code"] == "FUNDS")
            .unwrap()
            .clone()
    };
    // Read once so the application holds a copy of the catalogue the edit must replace.
    let before = funds_line(card(&app, "YQLQ", "2022-08-31").await);
    assert_eq!(before["unit"], "万元");
    let ok = post(admin, csrf, "亿元").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let entry: Value = app
        .get("/api/v1/indicators", None)
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i["code"] == "FUNDS")
        .unwrap();
    assert_eq!(
        (entry["name_zh"].as_str(), entry["unit"].as_str()),
        (Some("帮扶资金"), Some("亿元"))
    );
    // The card shows the same exact total in the new unit.
    let c = card(&app, "YQLQ", "2022-08-31").await;
    let funds = c["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "FUNDS")
        .unwrap();
    assert_eq!(funds["total_in_unit"], "4.39");
    // An edit through the API shows at once too.
    let token = app.admin_token().await;
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            "/api/v1/indicators/FUNDS",
            &token,
            &json!({"name_zh": "对口帮扶资金"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let after = funds_line(card(&app, "YQLQ", "2022-08-31").await);
    assert_eq!(after["name_zh"], "对口帮扶资金");
}

/// The pairings the reporting status lists as missing for `period`, in id order.
async fn missing_pairings(app: &TestApp, token: &str, fw: i64, period: &str) -> Vec<i64> {
    let status: Value = app
        .get(
            &format!("/api/v1/frameworks/{fw}/reporting-status?period={period}"),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut ids: Vec<i64> = status["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["pairing_id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

on_both_engines!(the_lag_finder_names_the_pairings_that_did_not_report);

async fn the_lag_finder_names_the_pairings_that_did_not_report(app: TestApp) {
    let fw = app.framework_id("YQLQ").await;
    let token = app.admin_token().await;
    let expected = missing_pairings(&app, &token, fw, "2022-08").await;
    // On 15 September 2022 August's figures (due on the 10th) are overdue.
    let lags = xietong_indicators::store::reporting::missing_reports(
        &app.db,
        time::macros::date!(2022 - 09 - 15),
    )
    .await
    .unwrap();
    let mut found: Vec<i64> = lags
        .iter()
        .filter(|l| l.framework_id == fw)
        .map(|l| l.subject_id)
        .collect();
    found.sort_unstable();
    assert!(!expected.is_empty());
    assert_eq!(found, expected);
    assert!(lags
        .iter()
        .all(|l| l.rule == "indicator_report_missing" && l.subject_kind == "pairing"));
    assert!(
        lags[0].details_zh.contains("2022-08"),
        "{}",
        lags[0].details_zh
    );
    // On 5 September July is the month last due, and the demo's pairings reported for it or not
    // independently of August.
    let earlier = xietong_indicators::store::reporting::missing_reports(
        &app.db,
        time::macros::date!(2022 - 09 - 05),
    )
    .await
    .unwrap();
    assert!(earlier.iter().all(|l| l.details_zh.contains("2022-07")));
}

on_both_engines!(coordinators_record_an_annual_agreement_on_the_pairing_page);

async fn coordinators_record_an_annual_agreement_on_the_pairing_page(app: TestApp) {
    let p = pairing_id(&app, "500106", "500236").await;
    let page = format!("/indicators/pairings/{p}");
    let admin = crate::helpers::sign_in(&app, "admin", xietong_core::demo::DEMO_PASSWORD).await;
    let csrf = crate::helpers::csrf_on(&app, &admin, &page).await;
    let post = |cookie: String, csrf: String, amount: &'static str| {
        let app = &app;
        async move {
            let path = format!("/indicators/pairings/{p}/agreements");
            let form = [
                ("csrf", csrf.as_str()),
                ("year", "2023"),
                ("title_zh", "2023年度对口协同发展协议"),
                ("signed_on", "2023-03-15"),
                ("text_zh", ""),
                ("target_indicator_0", "FUNDS"),
                ("target_amount_0", amount),
                ("target_indicator_1", ""),
                ("target_amount_1", ""),
            ];
            crate::helpers::post_form_as(app, &cookie, &path, &form).await
        }
    };
    let print = app.fingerprint().await;
    let refused = post(admin.clone(), csrf.clone(), "很多").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("id=\"agreement-form\" open"),
        "the form reopens with its refusal"
    );
    assert_eq!(
        app.fingerprint().await,
        print,
        "a refused agreement stores nothing"
    );

    let staff =
        crate::helpers::sign_in(&app, "fengjie.staff", xietong_core::demo::DEMO_PASSWORD).await;
    let staff_page = crate::helpers::page_as(&app, &staff, &page).await;
    assert!(
        !staff_page.contains("agreement-form"),
        "staff do not get the form"
    );
    let staff_csrf = crate::helpers::csrf_of(&staff_page);
    assert_eq!(
        post(staff, staff_csrf, "3000万元").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.fingerprint().await, print, "nor does a forbidden one");

    let ok = post(admin, csrf, "3000万元").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let c = card(&app, "YQLQ", "2023-06-30").await;
    let line = c["pairings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["pairing_id"] == p)
        .unwrap();
    let k = c["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["code"] == "FUNDS")
        .unwrap();
    // 3000万元 in fen.
    assert_eq!(line["targets"][k], 3_000_000_000i64);
    assert_eq!(line["agreement_signed"], true);
}

on_both_engines!(the_sweep_raises_and_closes_missing_report_alerts);

async fn the_sweep_raises_and_closes_missing_report_alerts(app: TestApp) {
    use xietong_supervision::store::sweep;
    let fw = app.framework_id("YQLQ").await;
    let admin = app.admin_token().await;
    let missing = missing_pairings(&app, &admin, fw, "2022-08").await;
    let open = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "SELECT subject_id FROM alerts WHERE closed_at IS NULL AND rule = 'indicator_report_missing'
                   AND subject_kind = 'pairing' AND framework_id = $1 ORDER BY subject_id",
            )
            .bind(fw)
            .fetch_all(db.pool())
            .await
            .unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<i64>>()
        }
    };
    let system = xietong_core::permissions::Actor::system("test");
    let day = time::macros::date!(2022 - 09 - 15);
    let finders = xietong_server::lag_finders();
    sweep::run(&app.db, &system, day, None, &Default::default(), &finders)
        .await
        .unwrap();
    assert_eq!(
        open(&app).await,
        missing,
        "one alert per pairing that did not report"
    );
    // A coordinator's letter names each pairing by its parties and goes to its responsible unit.
    let r = app
        .post_json(
            "/api/v1/letters/drafts",
            &admin,
            &json!({"framework_id": fw}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let letters: Value = r.json().await.unwrap();
    let items: Vec<&Value> = letters
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["items"].as_array().unwrap())
        .filter(|i| i["subject_kind"] == "pairing")
        .collect();
    assert_eq!(
        items.len(),
        missing.len(),
        "every missing pairing has an owner"
    );
    for item in &items {
        let (a, b, owner) = pairing_parties(&app, item["subject_id"].as_i64().unwrap()).await;
        assert_eq!(item["subject_code"], format!("{a}-{b}"));
        let title = item["subject_title_zh"].as_str().unwrap();
        assert!(title.ends_with("结对"), "{title}");
        let letter = letters
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["items"].as_array().unwrap().contains(item))
            .unwrap();
        assert_eq!(letter["addressee_org_id"].as_i64(), owner);
    }
    let rows = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM alerts WHERE subject_kind = 'pairing'")
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
            n
        }
    };
    let before = rows(&app).await;
    sweep::run(&app.db, &system, day, None, &Default::default(), &finders)
        .await
        .unwrap();
    assert_eq!(
        rows(&app).await,
        before,
        "a second sweep opens no duplicates"
    );
    // A sweep without the finder leaves these alerts alone.
    sweep::run(&app.db, &system, day, None, &Default::default(), &[])
        .await
        .unwrap();
    assert_eq!(open(&app).await, missing);

    // The first missing pairing reports for August: its alert closes by itself.
    let late = missing[0];
    let r = app
        .post_json(
            &format!("/api/v1/frameworks/{fw}/values"),
            &admin,
            &json!({"values": [{"pairing_id": late, "indicator": "HIRED", "period": "2022-08", "amount": "3"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    sweep::run(&app.db, &system, day, None, &Default::default(), &finders)
        .await
        .unwrap();
    assert_eq!(open(&app).await, missing[1..].to_vec());
}

/// A pairing's two region codes and its responsible organisation.
async fn pairing_parties(app: &TestApp, id: i64) -> (String, String, Option<i64>) {
    sqlx::query_as("SELECT party_a, party_b, owner_org_id FROM pairings WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn a_pairing_with_figures_cannot_move_to_another_framework(app: TestApp) {
    let admin = app.admin_token().await;
    let (yqlq, cy) = (app.framework_id("YQLQ").await, app.framework_id("CY").await);
    let p = pairing_id(&app, "500118", "500243").await;
    let r = app
        .post_json(
            &format!("/api/v1/frameworks/{yqlq}/values"),
            &admin,
            &json!({"values": [{"pairing_id": p, "indicator": "FUNDS", "period": "2022-09", "amount": "120万元"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let before = (app.fingerprint().await, indicator_fingerprint(&app).await);
    // Both parties lie inside the Chengdu–Chongqing framework too, so only the figures, which
    // carry their pairing's framework, hold the pairing where it is.
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/pairings/{p}"),
            &admin,
            &json!({"framework_id": cy, "party_a": "500118", "party_b": "500243", "status": "active"}),
        )
        .await;
    expect_problem(r, StatusCode::CONFLICT, "pairing_framework_in_use").await;
    assert_eq!(
        (app.fingerprint().await, indicator_fingerprint(&app).await),
        before
    );
    let (framework,): (i64,) = sqlx::query_as("SELECT framework_id FROM pairings WHERE id = $1")
        .bind(p)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(framework, yqlq);
}
