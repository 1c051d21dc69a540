//! Xietong core: what every feature shares — the cooperation registry (regions, organisations,
//! frameworks, pairings), accounts and permissions, the audit trail and the one write path,
//! the database pool and migrations, the working-day calendar, errors, and the web kit
//! (state, extractors, templates, messages, problem responses) that feature crates build on.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod audit;
pub mod cache;
pub mod calendar;
pub mod clock;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod lags;
pub mod permissions;
pub mod progress;
pub mod registry;
pub mod web;
pub mod write;

pub use db::{Backend, Db};
pub use error::{Error, Result};
