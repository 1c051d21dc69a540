//! The cooperation registry: who cooperates with whom, under which programme, through which bodies.

pub mod frameworks;
pub mod organisations;
pub mod pairings;
pub mod regions;
