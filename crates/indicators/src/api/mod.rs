//! Indicators' JSON API under `/api/v1`: the catalogue, report cards, a pairing's figures,
//! values, activities, agreements, the monthly reporting status and the Excel template.

mod card;
pub mod excel;
mod records;

pub use card::{catalogue_changed, catalogue_of, readable_card, readable_pairing, PairingView};

use utoipa_axum::router::OpenApiRouter;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::{Action, Actor, Kind, Resource};
use xietong_core::web::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(card::router())
        .merge(records::router())
        .merge(excel::router())
}

/// Whoever may read a framework may read its figures.
pub fn require_read(actor: Option<&Actor>, framework_id: i64, public: bool) -> Result<()> {
    xietong_core::write::require(
        actor,
        Action::Read,
        &Resource::new(Kind::Record)
            .in_framework(framework_id)
            .public(public),
    )
}

/// An `as_of` query value, today when absent.
pub fn as_of(input: Option<&str>) -> Result<time::Date> {
    match input.map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => {
            xietong_core::domain::text::date("as_of", d).map_err(|e| Error::Invalid(vec![e]))
        }
        None => Ok(crate::today()),
    }
}
