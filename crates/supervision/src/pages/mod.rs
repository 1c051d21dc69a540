//! Supervision pages: the task list (with "due this month" first for unit staff), the task page
//! with its timeline and forms, meetings.

mod imports;
mod letters;
mod meetings;
mod projects;
mod report_card;
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
    (
        "supervision/meeting_form.html",
        include_str!("../../templates/meeting_form.html"),
    ),
    (
        "supervision/letters.html",
        include_str!("../../templates/letters.html"),
    ),
    (
        "supervision/letter.html",
        include_str!("../../templates/letter.html"),
    ),
    (
        "supervision/letter_print.html",
        include_str!("../../templates/letter_print.html"),
    ),
    (
        "supervision/inbox.html",
        include_str!("../../templates/inbox.html"),
    ),
    (
        "supervision/projects.html",
        include_str!("../../templates/projects.html"),
    ),
    (
        "supervision/project.html",
        include_str!("../../templates/project.html"),
    ),
    (
        "supervision/project_form.html",
        include_str!("../../templates/project_form.html"),
    ),
    (
        "supervision/report_card.html",
        include_str!("../../templates/report_card.html"),
    ),
    (
        "supervision/import_result.html",
        include_str!("../../templates/import_result.html"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(tasks::list))
        .route("/tasks/template.xlsx", get(imports::task_template))
        .route("/tasks/import", post(imports::import_tasks))
        .route("/tasks/{id}", get(tasks::detail))
        .route(
            "/tasks/{id}/reports",
            // Evidence files are read in chunks against their own limit.
            post(tasks::file_report).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/tasks/{id}/resolution", post(tasks::resolve))
        .route("/supervision/sweep", post(tasks::sweep))
        .route("/meetings", get(meetings::list).post(meetings::create))
        .route("/meetings/new", get(meetings::new_form))
        .route("/meetings/{id}", get(meetings::detail))
        .route("/meetings/{id}/decisions", post(meetings::add_decision))
        .route("/meetings/{id}/tasks", post(meetings::create_task))
        .route("/letters", get(letters::list))
        .route("/letters/drafts", post(letters::draft))
        .route("/letters/{id}", get(letters::detail).post(letters::act))
        .route("/letters/{id}/print", get(letters::print))
        .route("/inbox", get(letters::inbox))
        .route("/report-card", get(report_card::page))
        .route("/projects", get(projects::board).post(projects::create))
        .route("/projects/new", get(projects::new_form))
        .route("/projects/export.xlsx", get(projects::export))
        .route(
            "/projects/investment-template.xlsx",
            get(projects::template),
        )
        .route("/projects/import", post(projects::import))
        .route("/projects/template.xlsx", get(imports::project_template))
        .route("/projects/ledger-import", post(imports::import_projects))
        .route("/projects/{id}", get(projects::detail))
        .route(
            "/projects/{id}/investment",
            post(projects::report_investment),
        )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_file_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            assert!(
                super::TEMPLATES
                    .iter()
                    .any(|(n, _)| n.ends_with(&format!("/{name}"))),
                "{name} is not in TEMPLATES"
            );
        }
    }
}
