//! `xietong bench indicators`: 1,000 pairings in 5 frameworks, 40 indicators, 60 months —
//! 2,400,000 values and 5,000,000 activity records at full scale (times `--scale`) — timing the
//! report card of one framework (next to a plain full-scan roll-up in the same engine and
//! DuckDB's full aggregation of the same data), a pairing's page under 16 clients, and the
//! import of a 1,000-row × 40-column sheet (into each framework in turn, the median reported).

use std::io::Write as _;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use xietong_core::permissions::Actor;
use xietong_core::Db;
use xietong_indicators::store::values::ValueInput;
use xietong_server::Settings;

use crate::bulk::{insert, V};
use crate::load;

pub struct Options {
    pub postgres_admin_url: Option<String>,
    pub scale: f64,
}

const FRAMEWORKS: usize = 5;
const PAIRINGS_PER_FRAMEWORK: usize = 200;
const INDICATORS: usize = 40;
const MONTHS: usize = 60;
const KINDS: [(&str, &str); 6] = [
    ("visit", ""),
    ("exchange", "medical"),
    ("purchase", "consumption"),
    ("park", ""),
    ("project", ""),
    ("training", ""),
];

struct Generated {
    frameworks: Vec<i64>,
    pairings: Vec<Vec<i64>>,
    values: usize,
    activities: usize,
    agreements: usize,
    targets: usize,
}

fn month_of(k: usize) -> (i32, u32) {
    (2020 + (k / 12) as i32, (k % 12) as u32 + 1)
}

async fn generate(db: &Db, scale: f64, dir: &std::path::Path) -> Result<Generated, String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut rng = StdRng::seed_from_u64(5);
    let now = xietong_core::clock::now_rfc3339();
    let mut tx = db.begin_write().await.map_err(|e| e.to_string())?;
    // 33 generated indicators beside the 7 typed ones of the catalogue make 40.
    let bench_codes: Vec<String> = (1..=INDICATORS - 7)
        .map(|i| format!("BENCH_{i:02}"))
        .collect();
    let rows: Vec<Vec<V>> = bench_codes
        .iter()
        .map(|c| {
            vec![
                V::T(c.clone()),
                V::T(format!("基准指标{c}")),
                V::T(c.clone()),
                V::T("个".into()),
                V::T("sum".into()),
                V::T(now.clone()),
                V::T(now.clone()),
            ]
        })
        .collect();
    insert(&mut tx, "INSERT INTO indicators (code, name_zh, name_en, unit, combine, created_at, updated_at) VALUES", &rows).await?;
    let typed: Vec<(i64,)> = sqlx::query_as("SELECT id FROM indicators WHERE code LIKE 'BENCH_%' OR code IN ('FUNDS', 'JOBS_OFFERED', 'HIRED', 'CHILDREN_HELPED', 'VOLUNTEERS', 'STUDY_TOURS', 'TOURISTS') ORDER BY id")
        .fetch_all(&mut *tx).await.map_err(e)?;
    let typed: Vec<i64> = typed.into_iter().map(|r| r.0).collect();
    let regions: Vec<(String,)> =
        sqlx::query_as("SELECT code FROM regions WHERE level = 'county' ORDER BY code")
            .fetch_all(&mut *tx)
            .await
            .map_err(e)?;
    if regions.len() < 2 * PAIRINGS_PER_FRAMEWORK {
        return Err("bench indicators needs the county regions".into());
    }
    let mut frameworks = Vec::new();
    let mut pairings = Vec::new();
    for f in 0..FRAMEWORKS {
        let (fid,): (i64,) = sqlx::query_as("INSERT INTO frameworks (key, name_zh, kind, created_at, updated_at) VALUES ($1, $2, 'district_pairing', $3, $3) RETURNING id")
            .bind(format!("IB{f}")).bind(format!("基准框架{f}")).bind(&now).fetch_one(&mut *tx).await.map_err(e)?;
        let fi: Vec<Vec<V>> = typed
            .iter()
            .enumerate()
            .map(|(k, i)| vec![V::I(fid), V::I(*i), V::I(k as i64)])
            .collect();
        insert(
            &mut tx,
            "INSERT INTO framework_indicators (framework_id, indicator_id, position) VALUES",
            &fi,
        )
        .await?;
        let mut ids = Vec::new();
        for p in 0..PAIRINGS_PER_FRAMEWORK {
            let a = &regions[(2 * p + f * 7) % regions.len()].0;
            let b = &regions[(2 * p + 1 + f * 7) % regions.len()].0;
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            let (id,): (i64,) = sqlx::query_as("INSERT INTO pairings (framework_id, party_a, party_b, party_lo, party_hi, status, started_on, generated, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'active', '2020-01-01', 1, $6, $6) RETURNING id")
                .bind(fid).bind(a).bind(b).bind(lo).bind(hi).bind(&now).fetch_one(&mut *tx).await.map_err(e)?;
            ids.push(id);
        }
        frameworks.push(fid);
        pairings.push(ids);
    }
    // Each pairing's annual agreements for the five years, signed in March, each setting
    // targets for five indicators: what a pairing's page lists and measures against.
    let mut agreements = Vec::new();
    let mut targets = Vec::new();
    for (f, fid) in frameworks.iter().enumerate() {
        for p in &pairings[f] {
            for year in 2020..2020 + (MONTHS / 12) as i64 {
                agreements.push(vec![
                    V::I(*fid),
                    V::I(*p),
                    V::T("annual".into()),
                    V::I(year),
                    V::T(format!("{year}年度结对协议")),
                    V::T(format!("{year}-03-15")),
                    V::I(1),
                    V::T(now.clone()),
                ]);
                for i in typed.iter().take(5) {
                    targets.push(vec![
                        V::I(*p),
                        V::I(year),
                        V::I(*i),
                        V::I(rng.gen_range(5_000..15_000)),
                    ]);
                }
            }
        }
    }
    insert(&mut tx, "INSERT INTO agreements (framework_id, pairing_id, kind, year, title_zh, signed_on, generated, created_at) VALUES", &agreements).await?;
    insert(
        &mut tx,
        "INSERT INTO indicator_targets (pairing_id, year, indicator_id, amount) VALUES",
        &targets,
    )
    .await?;
    let months = ((MONTHS as f64 * scale).round() as usize).clamp(1, MONTHS);
    let kinds_ids: Vec<(String, i64)> = sqlx::query_as("SELECT code, id FROM indicators")
        .fetch_all(&mut *tx)
        .await
        .map_err(e)?;
    let id_of = |code: &str| {
        kinds_ids
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, i)| *i)
            .unwrap_or(0)
    };
    let mut values_csv = std::io::BufWriter::new(
        std::fs::File::create(dir.join("values.csv")).map_err(|e| e.to_string())?,
    );
    let mut acts_csv = std::io::BufWriter::new(
        std::fs::File::create(dir.join("activities.csv")).map_err(|e| e.to_string())?,
    );
    writeln!(values_csv, "pairing_id,indicator_id,period_end,amount").map_err(|e| e.to_string())?;
    writeln!(acts_csv, "pairing_id,indicator_id,occurred_on,amount").map_err(|e| e.to_string())?;
    let mut n_values = 0;
    let mut n_acts = 0;
    let activities_per_pairing_month = 5_000_000 / (FRAMEWORKS * PAIRINGS_PER_FRAMEWORK * MONTHS);
    for (f, fid) in frameworks.iter().enumerate() {
        let mut rows = Vec::new();
        let mut acts = Vec::new();
        for p in &pairings[f] {
            for k in 0..months {
                let (y, m) = month_of(MONTHS - months + k);
                let last = time::Month::try_from(m as u8)
                    .map_err(|e| e.to_string())?
                    .length(y);
                let period = format!("{y}-{m:02}");
                let (start, end) = (format!("{period}-01"), format!("{period}-{last:02}"));
                for i in &typed {
                    let amount: i64 = rng.gen_range(0..1_000);
                    rows.push(vec![
                        V::I(*fid),
                        V::I(*p),
                        V::I(*i),
                        V::T(period.clone()),
                        V::T(start.clone()),
                        V::T(end.clone()),
                        V::T(period.clone()),
                        V::I(amount),
                        V::T(amount.to_string()),
                        V::T("bench".into()),
                        V::T(now.clone()),
                        V::T("current".into()),
                    ]);
                    writeln!(values_csv, "{p},{i},{end},{amount}").map_err(|e| e.to_string())?;
                }
                for j in 0..activities_per_pairing_month {
                    let (kind, category) = KINDS[j % KINDS.len()];
                    let day = format!("{period}-{:02}", 1 + j % 28);
                    let headcount: i64 = rng.gen_range(1..20);
                    let amount: i64 = rng.gen_range(1..10_000) * 100;
                    acts.push(vec![
                        V::I(*fid),
                        V::I(*p),
                        V::T(kind.into()),
                        V::T(category.into()),
                        V::T(day.clone()),
                        V::T(period.clone()),
                        V::T("基准活动".into()),
                        V::I(headcount),
                        V::I(amount),
                        V::T("bench".into()),
                        V::T(now.clone()),
                    ]);
                    let m = xietong_indicators::rules::Measures {
                        events: 1,
                        headcount,
                        amount,
                        ..Default::default()
                    };
                    for (code, a) in xietong_indicators::rules::contributions(
                        xietong_indicators::rules::ActivityKind::parse(kind)
                            .unwrap_or(xietong_indicators::rules::ActivityKind::Visit),
                        category,
                        &m,
                    ) {
                        writeln!(acts_csv, "{p},{},{day},{a}", id_of(code))
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
        }
        n_values += rows.len();
        n_acts += acts.len();
        let t = Instant::now();
        insert(&mut tx, "INSERT INTO indicator_values (framework_id, pairing_id, indicator_id, period, period_start, period_end, month, amount, entered, reporter, reported_at, status) VALUES", &rows).await?;
        insert(&mut tx, "INSERT INTO activities (framework_id, pairing_id, kind, category, occurred_on, month, title_zh, headcount, amount, created_by, created_at) VALUES", &acts).await?;
        eprintln!(
            "framework {f}: {} values and {} activities stored in {:.1} s",
            rows.len(),
            acts.len(),
            t.elapsed().as_secs_f64()
        );
    }
    values_csv.flush().map_err(|e| e.to_string())?;
    acts_csv.flush().map_err(|e| e.to_string())?;
    tx.commit().await.map_err(e)?;
    // The roll-ups of bulk-loaded history, built once from scratch (as a repair would).
    for fid in &frameworks {
        let t = Instant::now();
        let rows = xietong_indicators::store::rollups::rebuild(db, *fid)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!(
            "roll-ups of framework {fid} rebuilt ({rows} rows) in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    Ok(Generated {
        frameworks,
        pairings,
        values: n_values,
        activities: n_acts,
        agreements: agreements.len(),
        targets: targets.len(),
    })
}

async fn run_engine(database_url: &str, opts: &Options) -> Result<Vec<(String, String)>, String> {
    let settings = Settings {
        database_url: database_url.to_string(),
        ..Settings::default()
    };
    let db = xietong_server::prepare_database(&settings)
        .await
        .map_err(|e| e.to_string())?;
    xietong_server::load_demo(&db)
        .await
        .map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!(
        "xietong-bench-indicators-{:08x}",
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let g = generate(&db, opts.scale, &dir).await?;
    // PostgreSQL's autovacuum would gather planner statistics and mark the freshly loaded pages
    // all-visible (so index-only scans need not visit the table) after such a load; SQLite
    // gathers no statistics unless asked, and the server never asks, so it is left as it runs.
    if db.backend() == xietong_core::db::Backend::Postgres {
        sqlx::query("VACUUM ANALYZE")
            .execute(db.pool())
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut out = vec![(
        "generated".to_string(),
        format!(
            "{} values, {} activities, {} annual agreements with {} targets over {} pairings in {:.1} s",
            g.values,
            g.activities,
            g.agreements,
            g.targets,
            FRAMEWORKS * PAIRINGS_PER_FRAMEWORK,
            t.elapsed().as_secs_f64()
        ),
    )];
    let as_of = time::macros::date!(2024 - 12 - 15);
    let fid = g.frameworks[0];

    let card = crate::median_ms(5, || async {
        xietong_indicators::store::card::build(&db, fid, as_of)
            .await
            .map_err(|e| e.to_string())
    })
    .await?;
    out.push((
        "report card, one framework as of a day (median of 5)".into(),
        format!("{card:.1} ms"),
    ));

    // The plain full-scan roll-up of the same framework in the same engine, for comparison.
    let scan = crate::median_ms(3, || async {
        let _: Vec<(i64, i64, i64)> = sqlx::query_as("SELECT pairing_id, indicator_id, CAST(SUM(amount) AS BIGINT) FROM indicator_values WHERE framework_id = $1 AND status = 'current' AND period_end <= $2 GROUP BY pairing_id, indicator_id")
            .bind(fid).bind(as_of.to_string()).fetch_all(db.pool()).await.map_err(|e| e.to_string())?;
        Ok(())
    })
    .await?;
    out.push((
        "plain full-scan roll-up of that framework's values, same engine (median of 3)".into(),
        format!("{scan:.1} ms ({:.1}× the card)", scan / card),
    ));

    let reference = std::process::Command::new("python3")
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../scripts/duckdb_reference.py"),
        )
        .arg(dir.join("values.csv"))
        .arg(dir.join("activities.csv"))
        .arg(as_of.to_string())
        .output();
    match reference {
        Ok(o) if o.status.success() => {
            let ms: f64 = String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse()
                .unwrap_or(f64::NAN);
            out.push((
                "DuckDB full aggregation of all generated values and activities (median of 5)"
                    .into(),
                format!("{ms:.1} ms (card is {:.1}× faster)", ms / card),
            ));
        }
        Ok(o) => out.push((
            "DuckDB reference".into(),
            format!(
                "not run: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
        )),
        Err(e) => out.push(("DuckDB reference".into(), format!("not run: {e}"))),
    }
    let _ = std::fs::remove_dir_all(&dir);

    let app = xietong_server::app(db.clone(), &settings).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = tokio::spawn(xietong_server::run(listener, app, std::future::pending()));
    let ceiling = load::median_of(3, &base, "static", 16, Duration::from_secs(3), |_| {
        "/static/app.css".to_string()
    })
    .await;
    let ids = g.pairings.concat();
    let page = load::median_of(3, &base, "pairing", 16, Duration::from_secs(3), move |i| {
        format!(
            "/api/v1/pairings/{}/figures?as_of=2024-12-15",
            ids[(i * 37) % ids.len()]
        )
    })
    .await;
    server.abort();
    out.push((
        "a pairing's figures, 16 clients".into(),
        format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} errors; static ceiling {:.0} req/s)",
            page.per_second, page.p50_ms, page.p99_ms, page.errors, ceiling.per_second
        ),
    ));

    // A 1,000-row × 40-column sheet: 200 pairings × 5 new months, every indicator filled. Every
    // framework has the same shape, so the sheet is imported into each in turn: five
    // measurements of one import on a noisy machine, of which the median is reported.
    let mut import_s = Vec::new();
    let mut sheet = (0, 0);
    for (f, fid) in g.frameworks.iter().enumerate() {
        let (inputs, columns) = import_sheet(&db, *fid, &g.pairings[f]).await?;
        let t = Instant::now();
        let s = xietong_indicators::store::values::write(
            &db,
            &Actor::system("bench"),
            *fid,
            &inputs,
            "bench",
        )
        .await
        .map_err(|e| e.to_string())?;
        import_s.push(t.elapsed().as_secs_f64());
        if s.created != inputs.len() {
            return Err(format!(
                "the import created {} of {} figures",
                s.created,
                inputs.len()
            ));
        }
        sheet = (columns, inputs.len());
    }
    let (fastest, slowest) = (
        import_s.iter().copied().fold(f64::INFINITY, f64::min),
        import_s.iter().copied().fold(0.0, f64::max),
    );
    let runs = import_s.len();
    out.push((
        format!(
            "import of a 1,000-row × {}-column sheet ({} figures), median of {runs} frameworks",
            sheet.0, sheet.1
        ),
        format!(
            "{:.2} s (range {fastest:.2}–{slowest:.2} s)",
            crate::median(import_s)
        ),
    ));
    db.close().await;
    Ok(out)
}

/// The sheet of the import: 200 pairings × 5 months after the generated history, every indicator
/// the framework reports filled. Returns the figures and the number of columns.
async fn import_sheet(
    db: &Db,
    fid: i64,
    pairings: &[i64],
) -> Result<(Vec<ValueInput>, usize), String> {
    let codes: Vec<(String,)> = sqlx::query_as("SELECT i.code FROM indicators i JOIN framework_indicators fi ON fi.indicator_id = i.id WHERE fi.framework_id = $1 ORDER BY fi.position")
        .bind(fid).fetch_all(db.pool()).await.map_err(|e| e.to_string())?;
    let mut inputs = Vec::new();
    for m in 1..=5 {
        for p in pairings {
            for (code,) in &codes {
                inputs.push(ValueInput {
                    at: format!("r{}", inputs.len()),
                    pairing_id: *p,
                    indicator: code.clone(),
                    period: format!("2025-{m:02}"),
                    amount: "12".into(),
                    evidence: String::new(),
                });
            }
        }
    }
    Ok((inputs, codes.len()))
}

pub async fn run(opts: Options) -> Result<String, String> {
    let mut engines = vec![("SQLite", crate::fresh_database(None, "indicators").await?)];
    if let Some(admin) = &opts.postgres_admin_url {
        engines.push((
            "PostgreSQL",
            crate::fresh_database(Some(admin), "indicators").await?,
        ));
    }
    let mut report = format!(
        "indicators at scale {}\n\n| engine | measure | figure |\n|---|---|---|\n",
        opts.scale
    );
    for (engine, url) in engines {
        eprintln!("bench indicators: {engine} …");
        let figures = run_engine(&url, &opts).await;
        crate::discard_database(opts.postgres_admin_url.as_deref(), &url).await;
        for (what, figure) in figures? {
            report.push_str(&format!("| {engine} | {what} | {figure} |\n"));
        }
    }
    Ok(report)
}
