//! `xietong bench`: measures the server on generated data at the scale an issue names, next to
//! a baseline measured in the same run (a static asset of the same server: the ceiling of this
//! machine with the load generator sharing it).

pub mod bulk;
pub mod indicators;
pub mod load;
pub mod registry;
pub mod supervision;

/// The median of some measurements (the upper one of an even count; none gives zero).
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

/// Runs `f` `runs` times in a row and returns the median wall time in milliseconds.
pub async fn median_ms<F, Fut, T>(runs: usize, mut f: F) -> Result<f64, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = std::time::Instant::now();
        f().await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median(ms))
}

/// Where to run: SQLite always; PostgreSQL when an admin URL (a role with CREATEDB) is given.
#[derive(Debug, Clone)]
pub struct Engines {
    pub postgres_admin_url: Option<String>,
}

/// Removes a database [`fresh_database`] made, once its run is over: a full-scale run leaves
/// gigabytes behind otherwise. A failure to remove it is reported, not fatal.
///
/// With `XIETONG_BENCH_KEEP` set, the database is kept (and named on standard error) so that
/// its plans can be examined afterwards.
pub async fn discard_database(postgres_admin_url: Option<&str>, url: &str) {
    if std::env::var_os("XIETONG_BENCH_KEEP").is_some() {
        eprintln!("bench: kept {url}");
        return;
    }
    let outcome = match (url.strip_prefix("sqlite://"), postgres_admin_url) {
        (Some(path), _) => {
            // The journal files exist only while a connection is open.
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
            std::fs::remove_file(path).map_err(|e| e.to_string())
        }
        (None, Some(admin)) => drop_postgres_database(admin, url).await,
        (None, None) => Ok(()),
    };
    if let Err(e) = outcome {
        eprintln!("bench: {url} was not removed: {e}");
    }
}

async fn drop_postgres_database(admin: &str, url: &str) -> Result<(), String> {
    // The name is one this module generated (`xt_bench_…`), so it is safe to list inline.
    let name = url.rsplit('/').next().unwrap_or_default();
    let pool = sqlx::PgPool::connect(admin)
        .await
        .map_err(|e| e.to_string())?;
    // An autovacuum worker busy in the database cannot be terminated by a role that is not a
    // superuser; it finishes or yields within moments, so the drop is tried a few times.
    let mut dropped = Ok(());
    for attempt in 0..10 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&pool)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        if dropped.is_ok() {
            break;
        }
    }
    pool.close().await;
    dropped
}

/// A fresh database URL on SQLite (a new file) or PostgreSQL (a new database).
pub async fn fresh_database(
    postgres_admin_url: Option<&str>,
    label: &str,
) -> Result<String, String> {
    let suffix = format!("{label}_{:08x}", rand::random::<u32>());
    match postgres_admin_url {
        None => {
            let dir = std::env::temp_dir().join("xietong-bench");
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            Ok(format!(
                "sqlite://{}",
                dir.join(format!("{suffix}.db")).display()
            ))
        }
        Some(admin) => {
            let pool = sqlx::PgPool::connect(admin)
                .await
                .map_err(|e| format!("PostgreSQL: {e}"))?;
            let name = format!("xt_bench_{suffix}");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&pool)
                .await
                .map_err(|e| e.to_string())?;
            pool.close().await;
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b)
                .ok_or("the PostgreSQL URL needs a database part")?;
            Ok(format!("{base}/{name}"))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_median_is_the_middle_measurement() {
        assert_eq!(super::median(vec![9.0, 1.0, 5.0]), 5.0);
        assert_eq!(super::median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
        assert_eq!(super::median(vec![]), 0.0);
    }
}
