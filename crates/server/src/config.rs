//! Settings, layered: built-in defaults → `xietong.toml` (or the file named by `XIETONG_CONFIG`)
//! → `XIETONG_*` environment variables → command-line flags (applied by the CLI).

use std::fmt;
use std::net::SocketAddr;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// `sqlite://PATH` (default, embedded) or `postgres://USER:PASS@HOST/DB`.
    pub database_url: String,
    /// Size of the database connection pool.
    pub max_connections: u32,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest evidence file accepted with a progress report, in bytes (uploads of evidence
    /// may exceed `max_body_bytes` by this much).
    pub evidence_max_bytes: usize,
    /// Hour (Asia/Shanghai) of the daily lag sweep; every instance may run the scheduler,
    /// the database lets one of them do each day's sweep.
    pub sweep_hour: u8,
    /// Run the daily sweep in this process (turn off for instances that should only serve).
    pub scheduler: bool,
    /// Thresholds of the supervision lag rules (`[lags]` in the file, `XIETONG_LAGS__…` in the
    /// environment); a value outside its range stops start-up with a message naming it.
    pub lags: xietong_supervision::domain::LagRules,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://data/xietong.db".into(),
            max_connections: 16,
            secure_cookies: false,
            max_body_bytes: 2 * 1024 * 1024,
            evidence_max_bytes: 10 * 1024 * 1024,
            sweep_hour: 2,
            scheduler: true,
            lags: Default::default(),
        }
    }
}

// The database URL may hold a password: never print it.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field(
                "database_url",
                &xietong_core::db::redact_url(&self.database_url),
            )
            .field("max_connections", &self.max_connections)
            .field("secure_cookies", &self.secure_cookies)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("evidence_max_bytes", &self.evidence_max_bytes)
            .field("sweep_hour", &self.sweep_hour)
            .field("scheduler", &self.scheduler)
            .field("lags", &self.lags)
            .finish()
    }
}

impl Settings {
    /// Reads defaults, then the config file, then `XIETONG_` variables.
    pub fn load() -> Result<Settings, String> {
        let file = std::env::var("XIETONG_CONFIG").unwrap_or_else(|_| "xietong.toml".into());
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("XIETONG_").ignore(&["CONFIG"]).split("__"))
            .extract()
            .map_err(|e| format!("configuration: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_database_password() {
        let s = Settings {
            database_url: "postgres://xt:hunter2@db/x".into(),
            ..Settings::default()
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
    fn environment_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("XIETONG_BIND", "127.0.0.1:9999");
            jail.create_file("xietong.toml", "max_connections = 3")?;
            let s = Settings::load().map_err(figment::Error::from)?;
            assert_eq!(s.bind.port(), 9999);
            assert_eq!(s.max_connections, 3);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn lag_thresholds_come_from_the_file_and_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "xietong.toml",
                "[lags]\nreport_grace_days = 5\nmin_investment_share_percent = 70",
            )?;
            jail.set_env("XIETONG_LAGS__BEHIND_POINTS", "40");
            let s = Settings::load().map_err(figment::Error::from)?;
            let t = xietong_supervision::domain::LagThresholds::from(s.lags);
            assert_eq!(t.report_grace_days, 5);
            assert_eq!(t.behind_points, 40);
            assert_eq!(t.min_investment_share_percent, 70);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn a_threshold_out_of_range_stops_start_up_naming_it() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("xietong.toml", "[lags]\nmin_investment_share_percent = 180")?;
            let e = Settings::load().expect_err("180 % is refused");
            assert!(e.contains("min_investment_share_percent"), "{e}");
            jail.create_file("xietong.toml", "[lags]\nbehind_point = 30")?;
            let e = Settings::load().expect_err("a misspelt threshold is refused");
            assert!(e.contains("behind_point"), "{e}");
            Ok(())
        });
    }
}
