//! Server-rendered pages of the registry. Forms work without JavaScript; every string comes
//! from the message files; problems on these routes become pages (core's error layer).

mod admin;
mod frameworks;
mod organisations;
mod pairings;
mod regions;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use xietong_core::error::Error;
use xietong_core::permissions::{decide, Action, Decision, Resource};
use xietong_core::web::problem::problem_of;
use xietong_core::web::{AppState, Ctx};

pub const TEMPLATES: &[(&str, &str)] = &[
    ("home.html", include_str!("../../templates/home.html")),
    (
        "frameworks.html",
        include_str!("../../templates/frameworks.html"),
    ),
    (
        "framework.html",
        include_str!("../../templates/framework.html"),
    ),
    (
        "framework_form.html",
        include_str!("../../templates/framework_form.html"),
    ),
    (
        "pairings.html",
        include_str!("../../templates/pairings.html"),
    ),
    ("pairing.html", include_str!("../../templates/pairing.html")),
    (
        "pairing_form.html",
        include_str!("../../templates/pairing_form.html"),
    ),
    (
        "organisations.html",
        include_str!("../../templates/organisations.html"),
    ),
    (
        "organisation.html",
        include_str!("../../templates/organisation.html"),
    ),
    (
        "organisation_form.html",
        include_str!("../../templates/organisation_form.html"),
    ),
    ("regions.html", include_str!("../../templates/regions.html")),
    (
        "calendar.html",
        include_str!("../../templates/calendar.html"),
    ),
    ("users.html", include_str!("../../templates/users.html")),
    ("audit.html", include_str!("../../templates/audit.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(frameworks::home))
        .route(
            "/frameworks",
            get(frameworks::list).post(frameworks::create),
        )
        .route("/frameworks/new", get(frameworks::new_form))
        .route(
            "/frameworks/{id}",
            get(frameworks::detail).post(frameworks::update),
        )
        .route("/frameworks/{id}/edit", get(frameworks::edit_form))
        .route("/pairings", get(pairings::list).post(pairings::create))
        .route("/pairings/new", get(pairings::new_form))
        .route(
            "/pairings/{id}",
            get(pairings::detail).post(pairings::update),
        )
        .route("/pairings/{id}/edit", get(pairings::edit_form))
        .route("/pairings/{id}/delete", post(pairings::delete))
        .route(
            "/organisations",
            get(organisations::list).post(organisations::create),
        )
        .route("/organisations/new", get(organisations::new_form))
        .route(
            "/organisations/{id}",
            get(organisations::detail).post(organisations::update),
        )
        .route("/organisations/{id}/edit", get(organisations::edit_form))
        .route("/regions", get(regions::regions))
        .route(
            "/calendar",
            get(admin::calendar).post(admin::upload_calendar),
        )
        .route("/admin/users", get(admin::users))
        .route("/audit", get(admin::audit))
}

/// How a failed form submission is shown: field errors inline, or one alert above the form.
pub struct FormFailure {
    pub errors: BTreeMap<String, String>,
    pub alert: Option<String>,
    pub status: StatusCode,
}

/// Splits the errors a form shows itself from those that become an error page.
pub fn form_failure(err: Error, ctx: &Ctx) -> Result<FormFailure, Error> {
    match &err {
        Error::Invalid(fields) => Ok(FormFailure {
            errors: fields
                .iter()
                .map(|f| {
                    (
                        f.field.clone(),
                        ctx.lang.pick(&f.message.zh, &f.message.en).to_string(),
                    )
                })
                .collect(),
            alert: None,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }),
        Error::Conflict { .. } => {
            let p = problem_of(&err);
            Ok(FormFailure {
                errors: BTreeMap::new(),
                alert: Some(ctx.lang.pick(&p.message_zh, &p.message_en).to_string()),
                status: StatusCode::CONFLICT,
            })
        }
        _ => Err(err),
    }
}

/// Whether the signed-in user may do `action` on `resource` (to show or hide buttons).
pub fn may(ctx: &Ctx, action: Action, resource: &Resource) -> bool {
    ctx.actor.is_some() && decide(ctx.actor.as_ref(), action, resource) == Decision::Allow
}

/// A query-string value, percent-encoded, for links that keep the current filters.
pub fn enc(s: Option<&str>) -> String {
    urlencoding::encode(s.unwrap_or("")).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_file_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            assert!(
                super::TEMPLATES.iter().any(|(n, _)| *n == name),
                "{name} is not in TEMPLATES"
            );
        }
    }
}
