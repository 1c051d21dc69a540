//! The Xietong server: composes every feature's routes into one axum app, with configuration,
//! start-up (connect, migrate, seed reference data), health, metrics and the API description.
//!
//! `build` and `run` are separate so tests can bind port 0 and start as many apps as they like.

#![forbid(unsafe_code)]

pub mod config;
mod docs;
mod observability;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use xietong_core::calendar::store::CalendarCache;
use xietong_core::web::{problem, ui, AppParts, AppState, Ui};
use xietong_core::{Db, Error, Result};

pub use config::Settings;

#[derive(OpenApi)]
#[openapi(
    info(title = "Xietong API", description = "协同 — regional cooperation platform. Errors are RFC 9457 problem details with a stable `code` and messages in Chinese and English."),
    tags(
        (name = "registry", description = "Regions, organisations, frameworks, pairings"),
        (name = "accounts", description = "Sessions, API tokens, users, audit"),
        (name = "calendar", description = "China's working-day calendar"),
        (name = "supervision", description = "Meetings, decisions, task books, progress reports, lag alerts"),
        (name = "indicators", description = "Pairing report cards: agreements, indicators, values, activities, roll-ups"),
    )
)]
struct ApiDoc;

/// Every crate's migrations; the server is where they meet.
pub fn migrations() -> Vec<&'static [xietong_core::db::migrate::Migration]> {
    vec![
        xietong_core::db::migrate::MIGRATIONS,
        xietong_supervision::MIGRATIONS,
        xietong_indicators::MIGRATIONS,
    ]
}

/// Applies every pending migration of every crate; returns how many ran.
pub async fn migrate(db: &Db) -> Result<usize> {
    xietong_core::db::migrate::run(db, &migrations()).await
}

/// Connects to the database, applies migrations and seeds the shipped reference data.
pub async fn prepare_database(settings: &Settings) -> Result<Db> {
    let db = Db::connect(&settings.database_url, settings.max_connections).await?;
    migrate(&db).await?;
    xietong_core::registry::regions::seed(&db).await?;
    xietong_core::calendar::store::seed(&db).await?;
    xietong_indicators::store::catalogue::seed(&db).await?;
    xietong_indicators::store::rollups::ensure_dense(&db).await?;
    Ok(db)
}

/// Loads every feature's demo data into an empty database; returns false when it was not empty.
pub async fn load_demo(db: &Db) -> Result<bool> {
    if !xietong_core::demo::is_empty(db).await? {
        return Ok(false);
    }
    xietong_core::demo::load(db).await?;
    let today = xietong_core::calendar::shanghai_date(xietong_core::clock::now());
    xietong_supervision::demo::load(db, today).await?;
    xietong_indicators::demo::load(db).await?;
    Ok(true)
}

pub fn ui_parts() -> Vec<ui::UiPart> {
    vec![
        ui::core_part(),
        xietong_registry::ui_part(),
        xietong_supervision::ui_part(),
        xietong_indicators::ui_part(),
        docs::ui_part(),
    ]
}

/// The lags other features find, for the supervision sweep to raise as alerts.
pub fn lag_finders() -> Vec<xietong_core::lags::LagFinder> {
    vec![xietong_indicators::store::reporting::finder()]
}

/// One lag sweep for `today` on demand, under the configured thresholds and with every
/// feature's finder (the scheduler runs the same with a daily slot).
pub async fn sweep_now(
    db: &Db,
    settings: &Settings,
    actor: &xietong_core::permissions::Actor,
    today: time::Date,
) -> xietong_core::error::Result<xietong_supervision::store::sweep::SweepOutcome> {
    xietong_supervision::store::sweep::run(db, actor, today, None, &settings.lags, &lag_finders())
        .await
}

/// The whole application for a prepared database.
pub fn app(db: Db, settings: &Settings) -> Result<Router> {
    let ui = Ui::new(&ui_parts())?;
    let state = AppState::new(AppParts {
        db,
        ui: Arc::new(ui),
        calendar: Arc::new(CalendarCache::default()),
        regions: Arc::default(),
        frameworks: Arc::default(),
        secure_cookies: settings.secure_cookies,
        lag_finders: lag_finders().into(),
        caches: Arc::default(),
    });
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(xietong_registry::api::router())
        .merge(xietong_supervision::api::router())
        .merge(xietong_indicators::api::router())
        .split_for_parts();
    let openapi = Arc::new(openapi);
    let pages = Router::new()
        .merge(xietong_core::web::pages::router())
        .merge(xietong_registry::pages::router())
        .merge(xietong_supervision::pages::router())
        .merge(xietong_indicators::pages::router())
        .merge(docs::router(openapi.clone()))
        .layer(axum::middleware::from_fn(problem::plain_errors_as_problems))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            xietong_core::web::pages::html_errors,
        ));
    let metrics = observability::metrics_handle();
    Ok(Router::new()
        .merge(api)
        .merge(pages)
        .route("/healthz", get(healthz))
        .route("/metrics", get(move || async move { metrics.render() }))
        .fallback(not_found)
        .route_layer(axum::middleware::from_fn(observability::track))
        .with_state(state)
        .layer(axum::Extension(xietong_supervision::EvidenceLimit(
            settings.evidence_max_bytes,
        )))
        .layer(axum::Extension(settings.lags))
        .layer(axum::extract::DefaultBodyLimit::max(
            settings.max_body_bytes,
        ))
        // Every extractor keeps to `max_body_bytes`; only the evidence uploads, which read
        // their files against `evidence_max_bytes`, need the raw limit to leave room for a
        // file and its form.
        .layer(RequestBodyLimitLayer::new(
            settings
                .max_body_bytes
                .max(settings.evidence_max_bytes.saturating_add(1024 * 1024)),
        ))
        .layer(axum::middleware::from_fn(problem::plain_errors_as_problems))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            observability::panic_response,
        )))
}

async fn healthz(State(s): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), s.db.ping()).await {
        Ok(Ok(())) => Json(serde_json::json!({"status": "ok", "database": s.db.backend().name()}))
            .into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "unavailable"})),
        )
            .into_response(),
    }
}

async fn not_found() -> Error {
    Error::NotFound {
        entity: "page",
        id: String::new(),
    }
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::Internal(format!("server: {e}")))
}

#[cfg(test)]
mod tests {
    use xietong_core::db::migrate::render;
    use xietong_core::db::Backend;

    #[test]
    fn every_crates_migrations_fill_their_placeholders_on_both_engines() {
        for set in super::migrations() {
            for m in set {
                for backend in [Backend::Sqlite, Backend::Postgres] {
                    assert!(
                        !render(m.sql, backend).contains("{{"),
                        "migration {} keeps a placeholder",
                        m.name
                    );
                }
            }
        }
    }
}
