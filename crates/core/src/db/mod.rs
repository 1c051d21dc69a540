//! The storage seam: one pool over SQLite or PostgreSQL, picked once from the URL.
//!
//! Every query in Xietong is written once, in the SQL both engines accept, with `$1`-style
//! parameters (SQLite reads `$N` as positional). What differs between the engines — the
//! transaction mode for writes, the column type of generated keys — lives here and in
//! [`migrate`], nowhere else.

pub mod filter;
pub mod migrate;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::error::{Error, Result};

/// The two database engines Xietong runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::Config(format!(
                "unsupported database URL scheme in {:?}: use sqlite://PATH or postgres://…",
                redact_url(url)
            )))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A handle on the database: cheap to clone, shared by every request.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

/// Bound parameters per statement in multi-row writes and `IN (…)` lists. Binding through the
/// pool costs more than linearly in a statement's parameter count on SQLite (measured: 40,000
/// rows of 13 columns take 0.6 s at 8–50 rows a statement, 2.2 s at 300 and 6.9 s at 1,000),
/// so statements stay small; a few hundred parameters keep the round trips few on PostgreSQL too.
pub const PARAMS_PER_STATEMENT: usize = 400;

/// How many rows of `params_per_row` bound parameters one statement should carry.
pub fn rows_per_statement(params_per_row: usize) -> usize {
    (PARAMS_PER_STATEMENT / params_per_row.max(1)).max(1)
}

/// Bound parameters per statement on PostgreSQL, whose binding cost is linear: larger statements
/// mean fewer round trips (a 40,000-row import spent most of its time in them at 400).
pub const PARAMS_PER_STATEMENT_POSTGRES: usize = 4000;

/// [`rows_per_statement`] for the engine behind `conn`.
pub fn rows_per_statement_on(conn: &sqlx::AnyConnection, params_per_row: usize) -> usize {
    let budget = if conn.backend_name() == "PostgreSQL" {
        PARAMS_PER_STATEMENT_POSTGRES
    } else {
        PARAMS_PER_STATEMENT
    };
    (budget / params_per_row.max(1)).max(1)
}

/// The bound texts of one multi-row statement whose other values are listed inline: the
/// shared texts come first (`$1`, …), then each distinct row text once, however many rows use
/// it (a bulk write repeats the same few wordings thousands of times).
pub struct TextParams<'a> {
    texts: Vec<&'a str>,
    numbers: std::collections::HashMap<&'a str, usize>,
}

impl<'a> TextParams<'a> {
    pub fn new(shared: &[&'a str]) -> Self {
        TextParams {
            texts: shared.to_vec(),
            numbers: std::collections::HashMap::new(),
        }
    }

    /// How many parameters the statement has so far.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// How many of `texts` a row would add (to keep a statement within its parameters).
    pub fn unseen(&self, texts: &[&str]) -> usize {
        texts
            .iter()
            .filter(|t| !self.numbers.contains_key(**t))
            .count()
    }

    /// The parameter number (`$n`) of `text`, added when new.
    pub fn number(&mut self, text: &'a str) -> usize {
        *self.numbers.entry(text).or_insert_with(|| {
            self.texts.push(text);
            self.texts.len()
        })
    }

    /// The texts to bind, in parameter order.
    pub fn texts(&self) -> &[&'a str] {
        &self.texts
    }
}

/// Hides the password of a database URL, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***{}", &url[..scheme_end], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

impl Db {
    /// Connects to the database named by `url`, creating a SQLite file (and its folder) if absent.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| Error::Config(format!("invalid database URL: {e}")))?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; the busy timeout makes
                        // writers queue instead of failing; foreign keys are off by default in SQLite.
                        // Reads map the file instead of copying each page through a system call.
                        // A bulk write (a first sweep, an import) dirties tens of megabytes of
                        // index pages: with the default 2 MiB page cache they are spilled and
                        // written again; 64 MiB keeps them until commit (filled only by writes,
                        // since mapped reads bypass it).
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -65536;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| Error::Config(format!("cannot connect to {}: {e}", redact_url(&url))))?;
        Ok(Db { pool, backend })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock up front,
    /// so a transaction that reads before it writes cannot fail to upgrade later.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// Runs a trivial query; used by `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Makes sure the folder of a SQLite file exists and that the file is created when absent.
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(Error::Config(
            "in-memory SQLite is not supported: each pooled connection would see its own database"
                .into(),
        ));
    }
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Config(format!("cannot create folder {}: {e}", dir.display()))
            })?;
        }
    }
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    Ok(format!("sqlite://{path}?{}", params.join("&")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_get_their_settings() {
        let dir = std::env::temp_dir().join(format!("xietong-pragmas-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("p.db").display());
        let db = Db::connect(&url, 2).await.unwrap();
        let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        for (pragma, expected) in [
            ("foreign_keys", 1),
            ("mmap_size", 1_073_741_824),
            ("cache_size", -65_536),
        ] {
            let (v,): (i64,) = sqlx::query_as(&format!("PRAGMA {pragma}"))
                .fetch_one(db.pool())
                .await
                .unwrap();
            assert_eq!(v, expected, "{pragma}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn each_distinct_text_is_bound_once_after_the_shared_ones() {
        let mut p = TextParams::new(&["2026-12-07T02:00:00Z"]);
        assert_eq!(p.unseen(&["甲", "乙", "甲"]), 3);
        assert_eq!(p.number("甲"), 2);
        assert_eq!(p.number("乙"), 3);
        assert_eq!(p.number("甲"), 2, "a repeated text keeps its number");
        assert_eq!(p.unseen(&["甲", "丙"]), 1);
        assert_eq!(p.texts(), &["2026-12-07T02:00:00Z", "甲", "乙"]);
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(Backend::from_url("mysql://x").is_err());
        assert_eq!(
            Backend::from_url("sqlite://data/x.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact_url("postgres://xt:secret@127.0.0.1:5432/db"),
            "postgres://xt:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn sqlite_urls_create_the_file() {
        let url = prepare_sqlite_url("sqlite://target/test-tmp/a.db").unwrap();
        assert_eq!(url, "sqlite://target/test-tmp/a.db?mode=rwc");
        assert!(prepare_sqlite_url("sqlite::memory:").is_err());
    }
}
