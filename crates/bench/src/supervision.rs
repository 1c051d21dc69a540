//! `xietong bench supervision`: supervision at national scale — 5 frameworks, 200,000 tasks,
//! 1,000,000 progress reports, 50,000 projects, 600,000 monthly investment reports (all scaled
//! by `--scale`) — timing the report card, the full lag sweep, the filtered task list under 16
//! clients, and the import of a 10,000-row investment ledger. The card is shown next to the
//! same card counted from the raw records in the same engine, and DuckDB's full aggregation
//! of CSV copies of the generated tasks, projects and monthly reports.

use std::io::Write as _;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use xietong_core::permissions::Actor;
use xietong_core::Db;
use xietong_server::Settings;

use xietong_supervision::domain::LagRules;
use xietong_supervision::store::tasks::facts_of;

use crate::bulk::{insert, V};
use crate::load;

pub struct Options {
    pub postgres_admin_url: Option<String>,
    pub scale: f64,
}

const AREAS: [&str; 9] = [
    "modern_industry",
    "infrastructure",
    "science_innovation",
    "opening_up",
    "ecology",
    "public_services",
    "urban_rural",
    "reform",
    "other",
];
const STATUSES: [&str; 5] = ["not_started", "on_track", "at_risk", "overdue", "closed"];
const STAGES: [&str; 6] = [
    "reserve",
    "preparatory",
    "started",
    "under_construction",
    "completed",
    "in_operation",
];

/// The status the application derives on `today` for a generated task of `year` whose latest
/// report is `latest` (percent, period).
fn derived_status(
    closed: bool,
    year: i32,
    latest: Option<&(i64, String)>,
    today: time::Date,
    lags: &LagRules,
) -> Result<&'static str, String> {
    let (start, deadline) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let facts = facts_of(
        &start,
        &deadline,
        closed.then_some("closed"),
        latest.map(|(p, period)| (*p, period.as_str())),
        0,
    )
    .map_err(|e| e.to_string())?;
    Ok(xietong_supervision::domain::status(&facts, today, lags).as_str())
}

struct Sizes {
    tasks: usize,
    reports_per_task: usize,
    projects: usize,
}

/// Writes the generated rows to CSV files in `dir` too, for the DuckDB reference.
async fn generate(
    db: &Db,
    sizes: &Sizes,
    today: time::Date,
    lags: &LagRules,
    dir: &std::path::Path,
) -> Result<(Vec<i64>, usize), String> {
    let year = today.year();
    let csv = |name: &str, header: &str| -> Result<std::io::BufWriter<std::fs::File>, String> {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(dir.join(name)).map_err(|e| e.to_string())?,
        );
        writeln!(f, "{header}").map_err(|e| e.to_string())?;
        Ok(f)
    };
    let mut tasks_csv = csv(
        "tasks.csv",
        "framework_id,year,area,status,lead_org_id,deadline,resolution",
    )?;
    let mut projects_csv = csv(
        "projects.csv",
        "id,framework_id,stage,added_in_year,plan_year,planned_fen,org_id",
    )?;
    let mut monthly_csv = csv("monthly.csv", "project_id,month,completed_fen")?;
    let mut rng = StdRng::seed_from_u64(4);
    let now = xietong_core::clock::now_rfc3339();
    let mut tx = db.begin_write().await.map_err(|e| e.to_string())?;
    let orgs: Vec<(i64,)> = sqlx::query_as("SELECT id FROM organisations ORDER BY id")
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    let orgs: Vec<i64> = orgs.into_iter().map(|(i,)| i).collect();
    if orgs.is_empty() {
        return Err("bench supervision needs organisations (it loads the demo first)".into());
    }
    let mut frameworks = Vec::new();
    for f in 0..5 {
        let (id,): (i64,) = sqlx::query_as("INSERT INTO frameworks (key, name_zh, kind, created_at, updated_at) VALUES ($1, $2, 'east_west', $3, $3) RETURNING id")
            .bind(format!("SVB{f}"))
            .bind(format!("督办基准{f}"))
            .bind(&now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        frameworks.push(id);
    }
    let (first_task,): (i64,) =
        sqlx::query_as("SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM tasks")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
    let mut tasks = Vec::with_capacity(sizes.tasks);
    let mut owners = Vec::with_capacity(sizes.tasks);
    let mut reports = Vec::with_capacity(sizes.tasks * sizes.reports_per_task);
    for i in 0..sizes.tasks {
        let id = first_task + i as i64;
        // Next year's tasks (one in ten) have not started; this and the two past years' tasks
        // reported monthly up to a month of their own, reaching a percent of their own.
        let y = if rng.gen_range(0..10) == 0 {
            year + 1
        } else {
            year - rng.gen_range(0..3)
        };
        let lead = orgs[rng.gen_range(0..orgs.len())];
        let last_month = match y.cmp(&year) {
            std::cmp::Ordering::Greater => 0,
            std::cmp::Ordering::Equal => (today.month() as usize)
                .saturating_sub(rng.gen_range(1..4))
                .max(1),
            std::cmp::Ordering::Less => 12,
        };
        let percent = rng.gen_range(3..=10) * 10;
        let latest = (last_month > 0).then(|| (percent, format!("{y}-{last_month:02}")));
        // A fifth of the tasks are closed; the others carry the status the application derives
        // (as its write paths keep it), not a random one it would never hold.
        let closed = rng.gen_range(0..5) == 0;
        let status = derived_status(closed, y, latest.as_ref(), today, lags)?;
        tasks.push(vec![
            V::I(id),
            V::T(format!("SVB-T{i:07}")),
            V::I(frameworks[i % frameworks.len()]),
            V::T(format!("基准任务{i}")),
            V::T(AREAS[i % AREAS.len()].into()),
            V::I(y as i64),
            V::I(lead),
            V::T(format!("{y}-01-01")),
            V::T(format!("{y}-12-31")),
            V::T("annual_plan".into()),
            V::T(status.into()),
            if closed { V::T("closed".into()) } else { V::N },
            latest.as_ref().map_or(V::N, |(p, _)| V::I(*p)),
            latest
                .as_ref()
                .map_or(V::N, |(_, period)| V::T(period.clone())),
            V::T(now.clone()),
            V::T(now.clone()),
        ]);
        writeln!(
            tasks_csv,
            "{},{y},{},{status},{lead},{y}-12-31,{}",
            frameworks[i % frameworks.len()],
            AREAS[i % AREAS.len()],
            if closed { "closed" } else { "" }
        )
        .map_err(|e| e.to_string())?;
        owners.push(vec![V::I(id), V::I(lead), V::T("lead".into())]);
        let first_month = last_month.saturating_sub(sizes.reports_per_task - 1).max(1);
        for m in (first_month..=last_month).filter(|_| last_month > 0) {
            reports.push(vec![
                V::I(id),
                V::T(format!("{y}-{m:02}")),
                V::I(percent * m as i64 / last_month as i64),
                V::T("进展".into()),
                V::T("bench".into()),
                V::T(now.clone()),
            ]);
        }
    }
    let report_count = reports.len();
    insert(
        &mut tx,
        "INSERT INTO tasks (id, code, framework_id, title_zh, area, year, lead_org_id, start_on, deadline, source_kind, status, resolution, latest_percent, latest_period, created_at, updated_at) VALUES",
        &tasks,
    )
    .await?;
    insert(
        &mut tx,
        "INSERT INTO task_owners (task_id, org_id, role) VALUES",
        &owners,
    )
    .await?;
    insert(&mut tx, "INSERT INTO progress_reports (task_id, period, percent, narrative_zh, reported_by, reported_at) VALUES", &reports).await?;
    drop((tasks, owners, reports));

    let (first_project,): (i64,) =
        sqlx::query_as("SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM projects")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
    let mut projects = Vec::with_capacity(sizes.projects);
    let mut units = Vec::with_capacity(sizes.projects);
    let mut plans = Vec::with_capacity(sizes.projects);
    let mut monthly = Vec::with_capacity(sizes.projects * 12);
    for i in 0..sizes.projects {
        let id = first_project + i as i64;
        let planned: i64 = rng.gen_range(1..50) * 10_000_000_000;
        projects.push(vec![
            V::I(id),
            V::T(format!("SVB-P{i:06}")),
            V::I(frameworks[i % frameworks.len()]),
            V::T(format!("基准项目{i}")),
            V::T(STAGES[i % STAGES.len()].into()),
            V::I(planned * 3),
            V::T(now.clone()),
            V::T(now.clone()),
        ]);
        let unit = orgs[rng.gen_range(0..orgs.len())];
        units.push(vec![V::I(id), V::I(unit), V::I(0)]);
        writeln!(
            projects_csv,
            "{id},{},{},,{year},{planned},{unit}",
            frameworks[i % frameworks.len()],
            STAGES[i % STAGES.len()]
        )
        .map_err(|e| e.to_string())?;
        let per_month = planned / 12 * rng.gen_range(5..11) / 10;
        plans.push(vec![
            V::I(id),
            V::I(year as i64),
            V::I(planned),
            V::I(planned),
            V::I(per_month * 12),
        ]);
        for m in 1..=12 {
            writeln!(monthly_csv, "{id},{year}-{m:02},{per_month}").map_err(|e| e.to_string())?;
            monthly.push(vec![
                V::I(id),
                V::T(format!("{year}-{m:02}")),
                V::I(per_month),
                V::T("bench".into()),
                V::T(now.clone()),
            ]);
        }
    }
    insert(&mut tx, "INSERT INTO projects (id, code, framework_id, name_zh, stage, total_investment_fen, created_at, updated_at) VALUES", &projects).await?;
    insert(
        &mut tx,
        "INSERT INTO project_units (project_id, org_id, position) VALUES",
        &units,
    )
    .await?;
    insert(&mut tx, "INSERT INTO project_plans (project_id, year, original_fen, planned_fen, completed_fen) VALUES", &plans).await?;
    insert(&mut tx, "INSERT INTO investment_reports (project_id, month, completed_fen, reported_by, reported_at) VALUES", &monthly).await?;
    // Bulk-loaded rows bypass the write paths: the report card's roll-ups are refilled from
    // them once (as a repair would).
    xietong_supervision::store::rollups::rebuild(&mut tx)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    for f in [&mut tasks_csv, &mut projects_csv, &mut monthly_csv] {
        f.flush().map_err(|e| e.to_string())?;
    }
    // Rows above carry their ids; PostgreSQL's sequences must move past them so that later
    // inserts (the import below) get fresh ones. SQLite takes the next id after the largest.
    if db.backend() == xietong_core::db::Backend::Postgres {
        for table in ["tasks", "projects"] {
            sqlx::query(&format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
                .execute(db.pool())
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok((frameworks, report_count))
}

/// Runs the sweep for `day`, with its time in seconds.
async fn timed_sweep(
    db: &Db,
    settings: &Settings,
    actor: &Actor,
    day: time::Date,
) -> Result<(f64, xietong_supervision::store::sweep::SweepOutcome), String> {
    let t = Instant::now();
    let outcome = xietong_server::sweep_now(db, settings, actor, day)
        .await
        .map_err(|e| e.to_string())?;
    Ok((t.elapsed().as_secs_f64(), outcome))
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
    let sizes = Sizes {
        tasks: (200_000.0 * opts.scale) as usize,
        reports_per_task: 5,
        projects: (50_000.0 * opts.scale) as usize,
    };
    let today = xietong_core::calendar::shanghai_date(xietong_core::clock::now());
    let dir = std::env::temp_dir().join(format!(
        "xietong-bench-supervision-{:08x}",
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let (frameworks, report_count) = generate(&db, &sizes, today, &settings.lags, &dir).await?;
    // PostgreSQL's autovacuum would gather planner statistics after such a load; SQLite gathers
    // none unless asked, and the server never asks, so it is left as it runs.
    if db.backend() == xietong_core::db::Backend::Postgres {
        sqlx::query("ANALYZE")
            .execute(db.pool())
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut out = vec![(
        "generated".to_string(),
        format!(
            "{} tasks, {} progress reports, {} projects, {} monthly reports in {:.1} s",
            sizes.tasks,
            report_count,
            sizes.projects,
            sizes.projects * 12,
            t.elapsed().as_secs_f64()
        ),
    )];

    let year = today.year() as i64;
    let card = crate::median_ms(5, || async {
        xietong_supervision::store::report_card::compute(&db, frameworks[0], year, today)
            .await
            .map_err(|e| e.to_string())
    })
    .await?;
    out.push((
        "report card, one framework-year (median of 5)".into(),
        format!("{card:.1} ms"),
    ));
    // The same card counted from the raw records, as it was before the roll-ups.
    let scan = crate::median_ms(3, || async {
        xietong_supervision::store::report_card::scan(&db, frameworks[0], year, today)
            .await
            .map_err(|e| e.to_string())
    })
    .await?;
    out.push((
        "the same card counted from the raw records, same engine (median of 3)".into(),
        format!("{scan:.0} ms ({:.0}× the card)", scan / card),
    ));
    let reference = std::process::Command::new("python3")
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../scripts/duckdb_supervision.py"),
        )
        .arg(&dir)
        .arg(today.to_string())
        .output();
    out.push(match reference {
        Ok(o) if o.status.success() => {
            let ms: f64 = String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse()
                .unwrap_or(f64::NAN);
            (
                "DuckDB full aggregation of the generated tasks, projects and monthly reports (median of 5)".into(),
                format!("{ms:.1} ms (the card is {:.1}× faster)", ms / card),
            )
        }
        Ok(o) => (
            "DuckDB reference".into(),
            format!(
                "not run: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
        ),
        Err(e) => ("DuckDB reference".into(), format!("not run: {e}")),
    });
    let _ = std::fs::remove_dir_all(&dir);

    let actor = Actor::system("bench");
    let (secs, outcome) = timed_sweep(&db, &settings, &actor, today).await?;
    out.push((
        "full lag sweep, first run".into(),
        format!(
            "{secs:.2} s ({} tasks, {} projects, {} alerts opened, {} statuses changed)",
            outcome.tasks, outcome.projects, outcome.opened, outcome.statuses_changed
        ),
    ));
    let (secs, _) = timed_sweep(&db, &settings, &actor, today).await?;
    out.push((
        "full lag sweep, again (nothing changes)".into(),
        format!("{secs:.2} s"),
    ));
    // The scheduled daily sweep: the next day's lags over everything the last one left.
    let tomorrow = today.next_day().ok_or("no next day")?;
    let (secs, outcome) = timed_sweep(&db, &settings, &actor, tomorrow).await?;
    out.push((
        "full lag sweep, the next day".into(),
        format!(
            "{secs:.2} s ({} alerts opened, {} closed, {} statuses changed)",
            outcome.opened, outcome.closed, outcome.statuses_changed
        ),
    ));

    let app = xietong_server::app(db.clone(), &settings).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = tokio::spawn(xietong_server::run(listener, app, std::future::pending()));
    let fws = frameworks.clone();
    let ceiling = load::median_of(3, &base, "static", 16, Duration::from_secs(3), |_| {
        "/static/app.css".to_string()
    })
    .await;
    let list = |fws: Vec<i64>| {
        load::median_of(3, &base, "tasks", 16, Duration::from_secs(3), move |i| {
            format!(
                "/api/v1/tasks?framework={}&status={}&limit=50&offset={}",
                fws[i % fws.len()],
                STATUSES[i % 4],
                (i * 50) % 2000
            )
        })
    };
    let describe = |list: &load::Figures| {
        format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} errors; static ceiling {:.0} req/s)",
            list.per_second, list.p50_ms, list.p99_ms, list.errors, ceiling.per_second
        )
    };
    if db.backend() == xietong_core::db::Backend::Postgres {
        // Right after a bulk load the table's pages are not yet marked all-visible, so each
        // index-only scan of the list also fetches the rows it passes, until a vacuum (autovacuum
        // soon, on a live system) sets the visibility map. The list is measured in that state,
        // and again once `VACUUM` has done autovacuum's work.
        let before = list(fws.clone()).await;
        out.push((
            "filtered task list, 16 clients, right after the first sweep".into(),
            describe(&before),
        ));
        sqlx::query("VACUUM (ANALYZE) tasks")
            .execute(db.pool())
            .await
            .map_err(|e| e.to_string())?;
    }
    let after = list(fws).await;
    server.abort();
    out.push(("filtered task list, 16 clients".into(), describe(&after)));

    // A 10,000-row ledger: ten months of 1,000 projects, imported by an admin.
    let codes: Vec<(String,)> =
        sqlx::query_as("SELECT code FROM projects WHERE code LIKE 'SVB-P%' ORDER BY id LIMIT 1000")
            .fetch_all(db.pool())
            .await
            .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for m in 1..=10u8.min(today.month() as u8) {
        for (code,) in &codes {
            rows.push(xietong_supervision::excel::InvestmentRow {
                row: rows.len() + 2,
                code: code.clone(),
                month: format!("{:04}-{m:02}", today.year()),
                amount_wan: "123.45".into(),
            });
        }
    }
    let t = Instant::now();
    let outcome = xietong_supervision::store::projects::import_investment(
        &db,
        &Actor::system("bench"),
        &rows,
        today,
    )
    .await
    .map_err(|e| e.to_string())?;
    out.push((
        format!("import of a {}-row ledger", rows.len()),
        format!(
            "{:.2} s ({} rows changed)",
            t.elapsed().as_secs_f64(),
            outcome.changed
        ),
    ));
    // A 10,000-row project ledger of new projects, imported by an admin (as `xietong supervision
    // import-ledger` does).
    let ledger: Vec<xietong_supervision::excel::SheetRow> = (0..10_000)
        .map(|i| xietong_supervision::excel::SheetRow {
            row: i + 2,
            cells: vec![
                format!("LEDGER-{i:05}"),
                "CY".into(),
                format!("基准台账项目{i}"),
                "前期".into(),
                format!("{}", 1_000 + i % 5_000),
                "负责人".into(),
                "500118".into(),
                "永川区人民政府".into(),
                String::new(),
            ],
        })
        .collect();
    let t = Instant::now();
    let outcome = xietong_supervision::store::projects::import_ledger(
        &db,
        &Actor::system("bench"),
        &ledger,
        today,
    )
    .await
    .map_err(|e| e.to_string())?;
    out.push((
        "import of a 10,000-row project ledger".into(),
        format!(
            "{:.2} s ({} created)",
            t.elapsed().as_secs_f64(),
            outcome.created
        ),
    ));
    db.close().await;
    Ok(out)
}

pub async fn run(opts: Options) -> Result<String, String> {
    let mut engines = vec![("SQLite", crate::fresh_database(None, "supervision").await?)];
    if let Some(admin) = &opts.postgres_admin_url {
        engines.push((
            "PostgreSQL",
            crate::fresh_database(Some(admin), "supervision").await?,
        ));
    }
    let mut report = format!(
        "supervision at scale {}\n\n| engine | measure | figure |\n|---|---|---|\n",
        opts.scale
    );
    for (engine, url) in engines {
        eprintln!("bench supervision: {engine} …");
        let figures = run_engine(&url, &opts).await;
        crate::discard_database(opts.postgres_admin_url.as_deref(), &url).await;
        for (what, figure) in figures? {
            report.push_str(&format!("| {engine} | {what} | {figure} |\n"));
        }
    }
    Ok(report)
}
