//! Storage: both engines end with the same schema; the audit chain catches tampering.

use crate::helpers::{fresh_database_url, postgres_configured, Engine, TestApp};
use crate::on_both_engines;

on_both_engines!(tampering_with_the_audit_trail_is_detected);

#[tokio::test]
async fn both_engines_end_with_the_same_schema() {
    if !postgres_configured() {
        eprintln!("XIETONG_TEST_POSTGRES_URL is not set: schema comparison needs PostgreSQL (scripts/test sets it)");
        return;
    }
    let mut shapes = Vec::new();
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let db = xietong_core::Db::connect(&fresh_database_url(engine).await, 2)
            .await
            .unwrap();
        xietong_server::migrate(&db).await.unwrap();
        shapes.push(xietong_core::db::migrate::schema_shape(&db).await.unwrap());
    }
    assert!(shapes[0].len() > 50);
    assert_eq!(shapes[0], shapes[1]);
}

#[tokio::test]
async fn migrations_are_idempotent_and_edits_are_refused() {
    let db = xietong_core::Db::connect(&fresh_database_url(Engine::Sqlite).await, 2)
        .await
        .unwrap();
    let all: usize = xietong_server::migrations()
        .iter()
        .map(|set| set.len())
        .sum();
    assert_eq!(xietong_server::migrate(&db).await.unwrap(), all);
    assert_eq!(xietong_server::migrate(&db).await.unwrap(), 0);
    sqlx::query("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        .execute(db.pool())
        .await
        .unwrap();
    let err = xietong_server::migrate(&db).await.unwrap_err();
    assert!(err.to_string().contains("edited"), "{err}");
}

async fn tampering_with_the_audit_trail_is_detected(app: TestApp) {
    use xietong_core::audit::{verify, Breach};
    let (n, breaches) = verify(&app.db).await.unwrap();
    assert!(
        n > 100 && breaches.is_empty(),
        "the demo load is audited: {n} records"
    );
    sqlx::query(r#"UPDATE audit_log SET after_json = '{"forged":true}' WHERE seq = 10"#)
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 20")
        .execute(app.db.pool())
        .await
        .unwrap();
    let (_, breaches) = verify(&app.db).await.unwrap();
    assert!(
        breaches.contains(&Breach::Altered { seq: 10 }),
        "{breaches:?}"
    );
    assert!(
        breaches.contains(&Breach::Gap {
            after: 19,
            next: 21
        }),
        "{breaches:?}"
    );
}

on_both_engines!(health_and_metrics_answer);

async fn health_and_metrics_answer(app: TestApp) {
    let health: serde_json::Value = app.get("/healthz", None).await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    app.get("/api/v1/pairings", None).await;
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("xietong_http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/pairings\""), "{metrics}");
}
