//! The registry feature: the JSON API and pages over core's registry (regions, organisations,
//! frameworks, pairings), accounts, audit trail and working-day calendar.

pub mod api;
pub mod pages;

use xietong_core::web::UiPart;

/// This crate's templates and messages.
pub fn ui_part() -> UiPart {
    UiPart {
        templates: pages::TEMPLATES,
        messages_zh: include_str!("../locales/zh.toml"),
        messages_en: include_str!("../locales/en.toml"),
    }
}
