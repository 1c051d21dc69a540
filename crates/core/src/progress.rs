//! Progress of a long job (an import, a bulk write), reported by the feature that does the work
//! and shown by whoever started it: a progress bar on the command line, nothing on the web.

/// Receives `done` of `total` units of a named stage (`check`, `write`…).
pub trait Progress: Send + Sync {
    fn step(&self, stage: &'static str, done: usize, total: usize);
}

/// Reports nowhere.
pub struct Silent;

impl Progress for Silent {
    fn step(&self, _: &'static str, _: usize, _: usize) {}
}

/// How often a loop over `total` items reports: about a hundred times in all.
pub fn every(total: usize) -> usize {
    (total / 100).max(1)
}
