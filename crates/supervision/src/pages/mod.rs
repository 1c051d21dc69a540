//! Supervision pages: the task list (with "due this month" first for unit staff), the task page
//! with its timeline and forms, meetings.

mod meetings;
mod tasks;

use axum::routing::{get, post};
use axum::Router;
use xietong_core::web::AppState;

pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "supervision/tasks.html",
        include_str!("../../templates/tasks.html"),
    ),
    (
        "supervision/task.html",
        include_str!("../../templates/task.html"),
    ),
    (
        "supervision/meetings.html",
        include_str!("../../templates/meetings.html"),
    ),
    (
        "supervision/meeting.html",
        include_str!("../../templates/meeting.html"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(tasks::list))
        .route("/tasks/{id}", get(tasks::detail))
        .route("/tasks/{id}/reports", post(tasks::file_report))
        .route("/tasks/{id}/resolution", post(tasks::resolve))
        .route("/supervision/sweep", post(tasks::sweep))
        .route("/meetings", get(meetings::list))
        .route("/meetings/{id}", get(meetings::detail))
}
