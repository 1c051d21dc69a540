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

/// Where a long write's time went, phase by phase, for the debug log.
pub struct Phases(String, std::time::Instant);

impl Phases {
    pub fn new() -> Phases {
        Phases(String::new(), std::time::Instant::now())
    }

    /// Closes the phase that ran since the previous mark.
    pub fn mark(&mut self, what: &str) {
        let now = std::time::Instant::now();
        self.0.push_str(&format!(
            "{what} {:.0} ms; ",
            (now - self.1).as_secs_f64() * 1000.0
        ));
        self.1 = now;
    }

    pub fn summary(&self) -> &str {
        &self.0
    }
}

impl Default for Phases {
    fn default() -> Phases {
        Phases::new()
    }
}
