//! The report card reproduces the seed's 2022 figures for the Chengdu–Chongqing framework.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect_problem, TestApp};
use crate::on_both_engines;

on_both_engines!(the_2022_card_shows_the_seeds_figures_and_respects_its_date);

async fn the_2022_card_shows_the_seeds_figures_and_respects_its_date(app: TestApp) {
    let cy = app.framework_id("CY").await;
    let card: Value = app
        .get(
            &format!("/api/v1/report-card?framework={cy}&year=2022&as_of=2023-01-31"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    // 004: “调整优化2022年160个…重大项目…对17个单位28个推进滞后项目发出提示函，调整优化27个项目年度目标任务，增补…等5个项目”
    assert_eq!(card["projects"]["original_list"], 160, "{card}");
    assert_eq!(card["projects"]["added"], 5);
    assert_eq!(card["projects"]["total"], 165);
    assert_eq!(card["projects"]["adjusted"], 27);
    assert_eq!(card["letters"]["units"], 17);
    assert_eq!(card["letters"]["lagging_projects"], 28);
    // The two additions the seed names are among the five.
    let (named,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM projects WHERE added_in_year = 2022 AND name_zh IN ('成渝铁路重庆至江津站段改造工程', '重庆科学城电子信息产业孵化园二期')")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(named, 2);
    // Before the letters went out and the targets were adjusted, the card shows none.
    let early: Value = app
        .get(
            &format!("/api/v1/report-card?framework={cy}&year=2022&as_of=2022-10-31"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            early["letters"]["issued"].as_i64(),
            early["projects"]["adjusted"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let page = app
        .http
        .get(app.at(&format!(
            "/report-card?framework={cy}&year=2022&as_of=2023-01-31"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(">160<")
            && page.contains(">28<")
            && page.contains(">17<")
            && page.contains(">27<")
    );
    expect_problem(
        app.get(
            &format!("/api/v1/report-card?framework={cy}&year=2022&as_of=2023-02-30"),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_problem(
        app.get("/api/v1/report-card?framework=99999&year=2022", None)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}
