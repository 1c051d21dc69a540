//! `xietong bench registry`: a national-scale registry (every county, 5,000 organisations,
//! 2,000 pairings in 5 frameworks, 200 users) served under 32 concurrent clients.

use std::collections::HashSet;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use xietong_core::Db;
use xietong_server::Settings;

use crate::load::{self, Figures};

pub struct Options {
    pub postgres_admin_url: Option<String>,
    pub clients: usize,
    pub seconds: u64,
    /// Runs per scenario; the median run is reported.
    pub runs: usize,
}

pub const ORGANISATIONS: usize = 5_000;
pub const PAIRINGS: usize = 2_000;
pub const USERS: usize = 200;
pub const FRAMEWORKS: usize = 5;

/// Generated data: what the load generator picks its requests from.
pub struct Dataset {
    pub pairing_ids: Vec<i64>,
    pub framework_ids: Vec<i64>,
    pub county_names: Vec<String>,
}

async fn exec_batch(
    tx: &mut sqlx::AnyConnection,
    head: &str,
    columns: usize,
    rows: &[Vec<String>],
) -> Result<(), String> {
    for chunk in rows.chunks(400) {
        let mut sql = String::from(head);
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { " (" } else { ", (" });
            for c in 0..columns {
                n += 1;
                sql.push_str(&format!("{}${n}", if c == 0 { "" } else { ", " }));
            }
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for v in row {
                q = q.bind(v.clone());
            }
        }
        q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Generates the registry in bulk (one transaction; bench data, so not audited record by record).
pub async fn generate(db: &Db) -> Result<Dataset, String> {
    let mut rng = StdRng::seed_from_u64(2260);
    let counties: Vec<(String, String)> =
        sqlx::query_as("SELECT code, name_zh FROM regions WHERE level = 'county' ORDER BY code")
            .fetch_all(db.pool())
            .await
            .map_err(|e| e.to_string())?;
    let provinces: Vec<(String,)> =
        sqlx::query_as("SELECT code FROM regions WHERE level = 'province' ORDER BY code")
            .fetch_all(db.pool())
            .await
            .map_err(|e| e.to_string())?;
    let now = xietong_core::clock::now_rfc3339();
    let mut tx = db.begin_write().await.map_err(|e| e.to_string())?;

    let mut framework_ids = Vec::new();
    let mut framework_parties: Vec<Vec<String>> = Vec::new();
    for f in 0..FRAMEWORKS {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO frameworks (key, name_zh, name_en, kind, public, created_at, updated_at) VALUES ($1, $2, $3, 'east_west', 1, $4, $4) RETURNING id",
        )
        .bind(format!("BENCH{f}"))
        .bind(format!("基准协作机制{f}"))
        .bind(format!("Benchmark framework {f}"))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
        let mut parties = Vec::new();
        while parties.len() < 4 {
            let p = provinces[rng.gen_range(0..provinces.len())].0.clone();
            if !parties.contains(&p) {
                parties.push(p);
            }
        }
        let rows: Vec<Vec<String>> = parties
            .iter()
            .map(|p| vec![id.to_string(), p.clone()])
            .collect();
        // framework_id is BIGINT: bind through a cast-free path by inserting ids as integers.
        for r in &rows {
            sqlx::query(
                "INSERT INTO framework_parties (framework_id, region_code) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(&r[1])
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        }
        framework_ids.push(id);
        framework_parties.push(parties);
    }

    let org_rows: Vec<Vec<String>> = (0..ORGANISATIONS)
        .map(|i| {
            let (code, name) = &counties[rng.gen_range(0..counties.len())];
            vec![
                format!("{name}基准单位{i}"),
                format!("Benchmark unit {i}"),
                "other".into(),
                code.clone(),
                now.clone(),
                now.clone(),
            ]
        })
        .collect();
    exec_batch(&mut tx, "INSERT INTO organisations (name_zh, name_en, kind, region_code, created_at, updated_at) VALUES", 6, &org_rows).await?;

    let mut seen = HashSet::new();
    let mut pair_rows = Vec::new();
    let mut pair_frameworks = Vec::new();
    while pair_rows.len() < PAIRINGS {
        let f = rng.gen_range(0..FRAMEWORKS);
        let inside: Vec<&(String, String)> = counties
            .iter()
            .filter(|(c, _)| framework_parties[f].iter().any(|p| c[..2] == p[..2]))
            .collect();
        let a = &inside[rng.gen_range(0..inside.len())].0;
        let b = &inside[rng.gen_range(0..inside.len())].0;
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        if a == b || !seen.insert((f, lo.clone(), hi.clone())) {
            continue;
        }
        pair_frameworks.push(framework_ids[f]);
        pair_rows.push(vec![
            a.clone(),
            b.clone(),
            lo.clone(),
            hi.clone(),
            if rng.gen_bool(0.9) { "active" } else { "ended" }.to_string(),
            now.clone(),
            now.clone(),
        ]);
    }
    for (chunk_rows, chunk_fw) in pair_rows.chunks(400).zip(pair_frameworks.chunks(400)) {
        let mut sql = String::from("INSERT INTO pairings (framework_id, party_a, party_b, party_lo, party_hi, status, created_at, updated_at) VALUES");
        let mut n = 0;
        for i in 0..chunk_rows.len() {
            sql.push_str(if i == 0 { " (" } else { ", (" });
            for c in 0..8 {
                n += 1;
                sql.push_str(&format!("{}${n}", if c == 0 { "" } else { ", " }));
            }
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for (row, fw) in chunk_rows.iter().zip(chunk_fw) {
            q = q.bind(*fw);
            for v in row {
                q = q.bind(v.clone());
            }
        }
        q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
    }

    let hash =
        xietong_core::accounts::password::hash("bench-password-1").map_err(|e| e.to_string())?;
    let user_rows: Vec<Vec<String>> = (0..USERS)
        .map(|i| {
            vec![
                format!("bench.user{i}"),
                format!("基准用户{i}"),
                hash.clone(),
                now.clone(),
                now.clone(),
            ]
        })
        .collect();
    exec_batch(
        &mut tx,
        "INSERT INTO users (username, display_name, password_hash, created_at, updated_at) VALUES",
        5,
        &user_rows,
    )
    .await?;
    tx.commit().await.map_err(|e| e.to_string())?;

    let pairing_ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM pairings ORDER BY id")
        .fetch_all(db.pool())
        .await
        .map_err(|e| e.to_string())?;
    Ok(Dataset {
        pairing_ids: pairing_ids.into_iter().map(|(i,)| i).collect(),
        framework_ids,
        county_names: counties
            .into_iter()
            .map(|(_, n)| n.chars().take(2).collect())
            .collect(),
    })
}

/// Runs the four scenarios against one engine and returns their figures.
pub async fn run_engine(database_url: &str, opts: &Options) -> Result<Vec<Figures>, String> {
    // The server as users run it: default settings, only the database differs.
    let settings = Settings {
        database_url: database_url.to_string(),
        ..Settings::default()
    };
    let db = xietong_server::prepare_database(&settings)
        .await
        .map_err(|e| e.to_string())?;
    let data = generate(&db).await?;
    let app = xietong_server::app(db.clone(), &settings).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = tokio::spawn(xietong_server::run(listener, app, std::future::pending()));
    let duration = Duration::from_secs(opts.seconds);
    let mut figures = Vec::new();

    figures.push(
        load::run(
            &base,
            "static asset (ceiling)",
            opts.clients,
            duration,
            |_| "/static/app.css".to_string(),
        )
        .await,
    );
    let ids = data.pairing_ids.clone();
    figures.push(
        load::median_of(
            opts.runs,
            &base,
            "pairing detail",
            opts.clients,
            duration,
            move |i| format!("/api/v1/pairings/{}", ids[i * 7919 % ids.len()]),
        )
        .await,
    );
    let fws = data.framework_ids.clone();
    figures.push(
        load::run(
            &base,
            "pairing list, filtered (50 rows)",
            opts.clients,
            duration,
            move |i| {
                format!(
                    "/api/v1/pairings?framework={}&status=active&limit=50&offset={}",
                    fws[i % fws.len()],
                    (i * 31) % 300
                )
            },
        )
        .await,
    );
    let names = data.county_names.clone();
    figures.push(
        load::run(
            &base,
            "region search by name",
            opts.clients,
            duration,
            move |i| {
                format!(
                    "/api/v1/regions?q={}&limit=20",
                    names[i * 104729 % names.len()]
                )
            },
        )
        .await,
    );
    server.abort();
    db.close().await;
    Ok(figures)
}

/// Runs the benchmark on SQLite, and on PostgreSQL when configured, and prints a table.
pub async fn run(opts: Options) -> Result<String, String> {
    let mut report = String::new();
    let mut engines = vec![("SQLite", crate::fresh_database(None, "registry").await?)];
    if let Some(admin) = &opts.postgres_admin_url {
        engines.push((
            "PostgreSQL",
            crate::fresh_database(Some(admin), "registry").await?,
        ));
    }
    report.push_str(&format!(
        "registry: {ORGANISATIONS} organisations, {PAIRINGS} pairings, {FRAMEWORKS} frameworks, {USERS} users, every county; {} clients; median of {} runs of {} s per scenario\n\n",
        opts.clients, opts.runs, opts.seconds
    ));
    report.push_str("| engine | scenario | requests/s | p50 ms | p99 ms | errors | vs ceiling |\n|---|---|---:|---:|---:|---:|---:|\n");
    for (engine, url) in engines {
        eprintln!("bench registry: {engine} …");
        let figures = run_engine(&url, &opts).await;
        crate::discard_database(opts.postgres_admin_url.as_deref(), &url).await;
        let figures = figures?;
        let ceiling = figures[0].per_second.max(1.0);
        for f in &figures {
            report.push_str(&format!(
                "| {engine} | {} | {:.0} | {:.2} | {:.2} | {} | {:.2} |\n",
                f.name,
                f.per_second,
                f.p50_ms,
                f.p99_ms,
                f.errors,
                f.per_second / ceiling
            ));
        }
    }
    Ok(report)
}
