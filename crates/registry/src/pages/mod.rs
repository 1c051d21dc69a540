//! Server-rendered pages of the registry. Forms work without JavaScript; every string comes
//! from the message files; problems on these routes become pages (core's error layer).

mod admin;
mod registry;

use axum::routing::get;
use axum::Router;
use xietong_core::error::{Error, FieldError};
use xietong_core::web::{AppState, Lang};

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
        .route("/", get(registry::home))
        .route("/frameworks", get(registry::frameworks))
        .route("/frameworks/{id}", get(registry::framework))
        .route(
            "/pairings",
            get(registry::pairings).post(registry::create_pairing),
        )
        .route("/pairings/new", get(registry::new_pairing))
        .route("/pairings/{id}", get(registry::pairing))
        .route("/organisations", get(registry::organisations))
        .route("/organisations/{id}", get(registry::organisation))
        .route("/regions", get(registry::regions))
        .route("/calendar", get(admin::calendar))
        .route("/admin/users", get(admin::users))
        .route("/audit", get(admin::audit))
}

/// Field errors keyed by field, in the page's language, for inline display in forms.
pub fn field_errors(err: &Error, lang: Lang) -> Option<std::collections::BTreeMap<String, String>> {
    match err {
        Error::Invalid(fields) => Some(
            fields
                .iter()
                .map(|f: &FieldError| {
                    (
                        f.field.clone(),
                        lang.pick(&f.message.zh, &f.message.en).to_string(),
                    )
                })
                .collect(),
        ),
        _ => None,
    }
}
