//! Closed-loop supervision (闭环落实): meetings of the governance bodies and their decisions,
//! task books with owners, milestones and monthly progress reports, statuses derived by rule,
//! and the lag sweep that raises and settles alerts.

#![forbid(unsafe_code)]

pub mod api;
pub mod demo;
pub mod demo_history;

pub mod domain;
pub mod excel;
pub mod letters_rules;
pub mod pages;
pub mod permissions;
pub mod projects_rules;
pub mod schedule;
pub mod store;

use xietong_core::db::migrate::Migration;
use xietong_core::web::UiPart;

/// Supervision's migrations (versions 1000–1999).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1000,
        name: "supervision",
        sql: include_str!("../migrations/1000_supervision.sql"),
    },
    Migration {
        version: 1001,
        name: "letters",
        sql: include_str!("../migrations/1001_letters.sql"),
    },
    Migration {
        version: 1002,
        name: "projects",
        sql: include_str!("../migrations/1002_projects.sql"),
    },
    Migration {
        version: 1003,
        name: "evidence",
        sql: include_str!("../migrations/1003_evidence.sql"),
    },
    Migration {
        version: 1004,
        name: "task_list_order",
        sql: include_str!("../migrations/1004_task_list_order.sql"),
    },
    Migration {
        version: 1005,
        name: "card_rollups",
        sql: include_str!("../migrations/1005_card_rollups.sql"),
    },
    Migration {
        version: 1006,
        name: "open_lags",
        sql: include_str!("../migrations/1006_open_lags.sql"),
    },
    Migration {
        version: 1007,
        name: "alert_subject_names",
        sql: include_str!("../migrations/1007_alert_subject_names.sql"),
    },
    Migration {
        version: 1008,
        name: "open_lags_apart",
        sql: include_str!("../migrations/1008_open_lags_apart.sql"),
    },
    Migration {
        version: 1009,
        name: "derived_rows_without_keys",
        sql: include_str!("../migrations/1009_derived_rows_without_keys.sql"),
    },
    Migration {
        version: 1010,
        name: "drop_alerts_unit",
        sql: include_str!("../migrations/1010_drop_alerts_unit.sql"),
    },
];

pub use store::evidence::EvidenceLimit;

pub fn ui_part() -> UiPart {
    UiPart {
        templates: pages::TEMPLATES,
        messages_zh: include_str!("../locales/zh.toml"),
        messages_en: include_str!("../locales/en.toml"),
    }
}
