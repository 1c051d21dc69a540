//! Domain values that cannot hold invalid data: parse at the edge, trust inside.

pub mod money;
pub mod region_code;
pub mod text;

pub use money::Money;
pub use region_code::{RegionCode, RegionLevel};
