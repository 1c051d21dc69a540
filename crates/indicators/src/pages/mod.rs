//! Indicators' pages: the report card with its charts (bars against targets, the pairing
//! network, a monthly series), a pairing's page with its monthly reporting form, and the
//! public page of a published card.

mod card;
mod catalogue;
mod pairing;

use axum::routing::{get, post};
use axum::Router;
use xietong_core::web::AppState;

pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "indicators/card.html",
        include_str!("../../templates/card.html"),
    ),
    (
        "indicators/card_body.html",
        include_str!("../../templates/card_body.html"),
    ),
    (
        "indicators/public.html",
        include_str!("../../templates/public.html"),
    ),
    (
        "indicators/pairing.html",
        include_str!("../../templates/pairing.html"),
    ),
    (
        "indicators/catalogue.html",
        include_str!("../../templates/catalogue.html"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/indicators", get(card::page))
        .route("/indicators/publish", post(card::publish))
        .route("/indicators/catalogue", get(catalogue::page))
        .route("/indicators/catalogue/{code}", post(catalogue::edit))
        .route("/public/report-card/{key}", get(card::public))
        .route("/indicators/pairings/{id}", get(pairing::page))
        .route("/indicators/pairings/{id}/report", post(pairing::report))
        .route(
            "/indicators/pairings/{id}/activities",
            post(pairing::record_activity),
        )
        .route(
            "/indicators/pairings/{id}/agreements",
            post(pairing::record_agreement),
        )
}
