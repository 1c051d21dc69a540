//! The registry's JSON API under `/api/v1`, documented in the OpenAPI description as it is built.

mod accounts;
mod calendar;
pub(crate) mod registry;

use utoipa_axum::router::OpenApiRouter;
use xietong_core::web::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(registry::router())
        .merge(accounts::router())
        .merge(calendar::router())
}

/// A page of a list, with the total count for paging.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}
