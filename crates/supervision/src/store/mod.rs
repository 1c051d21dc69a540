//! Storage of supervision: each module owns its tables and goes through core's write path.

pub mod meetings;
pub mod sweep;
pub mod tasks;
