//! Black-box tests of the HTTP API and pages: each test starts the whole app on a random port
//! against a fresh database, on SQLite always and on PostgreSQL when one is configured
//! (`XIETONG_TEST_POSTGRES_URL`, set by `scripts/test`). One binary keeps link time down.

mod helpers;

mod accounts;
mod bad_input;
mod calendar;
mod card_rollups;
mod evidence;
mod excel;
mod forms;
mod imports;
mod indicators;
mod letters;
mod openapi;
mod pages;
mod projects;
mod registry;
mod report_card;
mod storage;
mod supervision;
