//! The working-day calendar through the API.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect_problem, TestApp};
use crate::on_both_engines;

on_both_engines!(
    the_seed_dates_are_right_and_unloaded_years_are_provisional,
    an_admin_loads_a_new_year_and_bad_files_change_nothing
);

async fn the_seed_dates_are_right_and_unloaded_years_are_provisional(app: TestApp) {
    let day = |d: &'static str| {
        let path = format!("/api/v1/calendar/working-day?date={d}");
        let app = &app;
        async move { app.get(&path, None).await }
    };
    let v: Value = day("2023-01-28").await.json().await.unwrap();
    assert_eq!(
        (v["working_day"].as_bool(), v["provisional"].as_bool()),
        (Some(true), Some(false)),
        "新春第一会 was held on a make-up working day"
    );
    let v: Value = day("2023-01-23").await.json().await.unwrap();
    assert_eq!(v["working_day"], false);
    let v: Value = day("2031-03-03").await.json().await.unwrap();
    assert_eq!(
        (v["working_day"].as_bool(), v["provisional"].as_bool()),
        (Some(true), Some(true))
    );
    let v: Value = app
        .get("/api/v1/calendar/add?start=2023-01-20&days=1", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["date"], "2023-01-28");
    let v: Value = app
        .get(
            "/api/v1/calendar/between?from=2023-01-20T10:00:00Z&to=2023-01-28",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["working_days"], 1);
    expect_problem(
        day("2023-02-30").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let page = app
        .http
        .get(app.at("/calendar?year=2031"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("尚未载入"),
        "the UI warns about an unloaded year"
    );
}

async fn an_admin_loads_a_new_year_and_bad_files_change_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let upload = |body: &'static str| {
        app.http
            .post(app.at("/api/v1/calendar/years"))
            .bearer_auth(&admin)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let before = app.fingerprint().await;
    let bad = upload("date,kind,name_zh,name_en\n2027-01-01,holiday,元旦,New Year\n2027-01-06,workday,调休,Make-up\n").await.unwrap();
    let body = expect_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(
        body["errors"][0]["message_en"]
            .as_str()
            .unwrap()
            .contains("line 3"),
        "{body}"
    );
    assert_eq!(app.fingerprint().await, before);
    let ok = upload("date,kind,name_zh,name_en\n2027-01-01,holiday,元旦,New Year's Day\n2027-02-20,workday,春节,Spring Festival\n").await.unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let v: Value = app
        .get("/api/v1/calendar/working-day?date=2027-02-20", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["working_day"].as_bool(), v["provisional"].as_bool()),
        (Some(true), Some(false))
    );
    let (n, breaches) = xietong_core::audit::verify(&app.db).await.unwrap();
    assert!(n > 0 && breaches.is_empty());
}
