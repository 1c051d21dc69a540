//! Storage of supervision: each module owns its tables and goes through core's write path.

pub mod evidence;
pub mod letters;
pub mod meetings;
pub mod projects;
pub mod report_card;
pub mod rollups;
pub mod sweep;
pub mod tasks;

use std::sync::Arc;

use xietong_core::calendar::{Calendar, WorkingDays};
use xietong_core::error::{Error, Result};
use xietong_core::Db;

/// The stored working-day calendar (response deadlines are counted in working days).
pub async fn calendar_now(db: &Db) -> Result<Arc<Calendar>> {
    Ok(Arc::new(xietong_core::calendar::store::load(db).await?))
}

pub fn working_days(n: u32) -> Result<WorkingDays> {
    WorkingDays::new(n).map_err(|e| Error::Internal(e.to_string()))
}
