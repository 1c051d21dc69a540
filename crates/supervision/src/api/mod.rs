//! Supervision's JSON API under `/api/v1`: meetings, tasks, progress reports, the sweep, alerts.

pub mod evidence;
pub mod excel;
mod letters;
mod meetings;
mod projects;
mod report_card;
mod tasks;

pub use letters::readable_letter;
pub use projects::readable_project;
pub use report_card::readable_card;
pub use tasks::readable_task;

use utoipa_axum::router::OpenApiRouter;
use xietong_core::web::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(meetings::router())
        .merge(tasks::router())
        .merge(letters::router())
        .merge(projects::router())
        .merge(report_card::router())
        .merge(excel::router())
        .merge(evidence::router())
}

/// Today in Asia/Shanghai: every supervision rule counts China's calendar days.
pub fn today() -> time::Date {
    xietong_core::calendar::shanghai_date(xietong_core::clock::now())
}

/// A page of a list, with the total count for paging.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}
