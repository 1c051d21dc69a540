//! Pairing report cards (成绩单): agreements, the indicator catalogue, targets and reported
//! values, cooperation activities from which indicators derive, and roll-ups per pairing, side
//! and framework kept current on every write.

#![forbid(unsafe_code)]

pub mod api;
pub mod demo;
pub mod excel;
pub mod pages;
pub mod periods;
pub mod permissions;
pub mod rules;
pub mod store;
pub mod units;

use xietong_core::db::migrate::Migration;
use xietong_core::web::UiPart;

/// Indicators' migrations (versions 2000–2999).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 2000,
        name: "indicators",
        sql: include_str!("../migrations/2000_indicators.sql"),
    },
    Migration {
        version: 2001,
        name: "history_indexes",
        sql: include_str!("../migrations/2001_history_indexes.sql"),
    },
    Migration {
        version: 2002,
        name: "dense_rollups",
        sql: include_str!("../migrations/2002_dense_rollups.sql"),
    },
    Migration {
        version: 2003,
        name: "lean_rollups",
        sql: include_str!("../migrations/2003_lean_rollups.sql"),
    },
    Migration {
        version: 2004,
        name: "pairing_framework_keys",
        sql: include_str!("../migrations/2004_pairing_framework_keys.sql"),
    },
];

/// Today in Asia/Shanghai: periods and activity dates are China's calendar days.
pub fn today() -> time::Date {
    xietong_core::calendar::shanghai_date(xietong_core::clock::now())
}

pub fn ui_part() -> UiPart {
    UiPart {
        templates: pages::TEMPLATES,
        messages_zh: include_str!("../locales/zh.toml"),
        messages_en: include_str!("../locales/en.toml"),
    }
}
