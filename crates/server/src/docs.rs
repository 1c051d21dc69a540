//! The API description: `/api/v1/openapi.json` and a readable page at `/api/docs`, rendered on
//! the server from the same document, so it works offline and never drifts from the routes.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::OpenApi;
use xietong_core::error::Result;
use xietong_core::web::{AppState, Ctx, UiPart};

pub fn ui_part() -> UiPart {
    UiPart {
        templates: &[("api_docs.html", include_str!("../templates/api_docs.html"))],
        messages_zh: include_str!("../locales/zh.toml"),
        messages_en: include_str!("../locales/en.toml"),
    }
}

pub fn router(openapi: Arc<OpenApi>) -> Router<AppState> {
    let json = openapi.clone();
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || async move { Json(json.as_ref().clone()) }),
        )
        .route(
            "/api/docs",
            get(move |state: State<AppState>, ctx: Ctx| docs_page(state, ctx, openapi.clone())),
        )
}

async fn docs_page(State(s): State<AppState>, ctx: Ctx, openapi: Arc<OpenApi>) -> Result<Response> {
    let mut operations = Vec::new();
    for (path, item) in &openapi.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
        ] {
            if let Some(op) = op {
                let summary = op
                    .summary
                    .clone()
                    .or_else(|| op.description.clone())
                    .unwrap_or_default();
                let tag = op
                    .tags
                    .as_ref()
                    .and_then(|t| t.first().cloned())
                    .unwrap_or_default();
                let params: Vec<String> = op
                    .parameters
                    .as_ref()
                    .map(|ps| ps.iter().map(|p| p.name.clone()).collect())
                    .unwrap_or_default();
                operations.push(minijinja::context! { method, path, summary, tag, params });
            }
        }
    }
    Ok(ctx
        .render(
            &s,
            "api_docs.html",
            minijinja::context! { operations, version => openapi.info.version.clone() },
        )?
        .into_response())
}
