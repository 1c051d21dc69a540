//! `xietong`: the one binary. Thin by design: parse flags, build settings, call the server crate.

#![forbid(unsafe_code)]

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use xietong_core::accounts::users::{self, NewUser};
use xietong_core::permissions::{Actor, Grant, Role};
use xietong_core::registry::frameworks;
use xietong_server::Settings;

/// mimalloc rather than the system allocator: the server's requests allocate and free many
/// small buffers from several threads, where glibc's allocator showed as a sixth of a busy
/// page's CPU (its locks and `malloc_consolidate`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "xietong", version, about = "协同 Xietong — a platform for cooperation between Chinese regions (区域协作)", long_about = None)]
struct Cli {
    /// Database URL: sqlite://PATH (embedded, the default) or postgres://USER:PASS@HOST:PORT/DB.
    #[arg(long, global = true, env = "XIETONG_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and the JSON API (HTTP).
    Serve {
        /// Address and port to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "XIETONG_BIND")]
        bind: Option<SocketAddr>,
        /// Load the demo data from the seed articles when the database is empty (演示数据).
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo data (frameworks, bodies, organisations, pairings, demo users) into an empty database.
    Demo,
    /// Manage user accounts (用户).
    #[command(subcommand)]
    User(UserCommand),
    /// The audit trail (审计日志).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Measure performance on generated data (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// China's working-day calendar (工作日历).
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Closed-loop supervision (督办).
    #[command(subcommand)]
    Supervision(SupervisionCommand),
    /// Pairing report cards (结对成绩单).
    #[command(subcommand)]
    Indicators(IndicatorsCommand),
    /// Write a consistent copy of a live SQLite database to FILE (for PostgreSQL use pg_dump).
    Backup {
        /// Where to write the copy; must not exist yet.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input (one line) or generated and printed.
    Add(AddUser),
    /// Set a user's password (read from standard input, one line). Ends their sessions.
    Passwd { username: String },
    /// List users with their roles.
    List,
    /// Disable a user: ends their sessions and revokes their API tokens.
    Disable { username: String },
}

#[derive(Args)]
struct AddUser {
    username: String,
    /// Name shown in the UI.
    #[arg(long)]
    name: String,
    /// admin, coordinator, staff or viewer.
    #[arg(long)]
    role: String,
    /// Framework keys the role applies to (e.g. CY, LY, YQLQ); repeat for several.
    #[arg(long = "framework")]
    frameworks: Vec<String>,
    /// Organisation id the user belongs to.
    #[arg(long)]
    org: Option<i64>,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Supervision at national scale (200,000 tasks, 1,000,000 progress reports, 50,000
    /// projects, 600,000 monthly reports, times --scale): report card, sweep, task list, import.
    Supervision {
        /// Also run on PostgreSQL: a URL of a role that may create databases.
        #[arg(long, env = "XIETONG_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
        /// Fraction of the scale to generate (1.0 = full).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Pairing report cards at scale (1,000 pairings in 5 frameworks, 40 indicators, 60 months:
    /// 2,400,000 values and 5,000,000 activities, times --scale): card, pairing page, import.
    Indicators {
        /// Also run on PostgreSQL: a URL of a role that may create databases.
        #[arg(long, env = "XIETONG_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
        /// Fraction of the history to generate (1.0 = 60 months).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// National-scale registry (every county, 5,000 organisations, 2,000 pairings, 200 users):
    /// detail, filtered list and search under concurrent clients, next to a static asset.
    Registry {
        /// Also run on PostgreSQL: a URL of a role that may create databases.
        #[arg(long, env = "XIETONG_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Seconds per run of a scenario.
        #[arg(long, default_value_t = 4)]
        seconds: u64,
        /// Runs per scenario; the run with the median throughput is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
}

#[derive(Subcommand)]
enum SupervisionCommand {
    /// Run the lag sweep now: raise alerts for lagging tasks, settle those that caught up,
    /// escalate letters whose answer is overdue. Safe to run any number of times.
    Sweep,
    /// Import a filled-in project-ledger template (.xlsx) as the operator: every row is checked
    /// first and nothing is stored if any fails; the same file twice changes nothing.
    ImportLedger {
        /// The .xlsx file (the template from /projects/template.xlsx).
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum IndicatorsCommand {
    /// Import a framework's filled-in reporting template (.xlsx) as the operator, all or nothing.
    Import {
        /// The framework's key, e.g. YQLQ.
        #[arg(long)]
        framework: String,
        /// The .xlsx file (the template from the card page or the API).
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Load (or replace) whole years from a CSV file `date,kind,name_zh,name_en`
    /// (kind: holiday = day off, workday = adjusted working day on a weekend).
    Load { file: std::path::PathBuf },
    /// List the years whose official calendar is loaded.
    Years,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exits non-zero and names every edited, inserted or deleted record.
    Verify,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("XIETONG_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    let mut settings = Settings::load()?;
    if let Some(url) = cli.database_url {
        settings.database_url = url;
    }
    match cli.command {
        Command::Serve { bind, demo } => {
            if let Some(b) = bind {
                settings.bind = b;
            }
            serve(settings, demo).await
        }
        Command::Migrate => {
            let db = xietong_core::Db::connect(&settings.database_url, 2)
                .await
                .map_err(|e| e.to_string())?;
            let n = xietong_server::migrate(&db)
                .await
                .map_err(|e| e.to_string())?;
            println!("{n} migration(s) applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => {
            let db = xietong_server::prepare_database(&settings)
                .await
                .map_err(|e| e.to_string())?;
            if xietong_server::load_demo(&db)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("demo data loaded");
                print_demo_logins();
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("the database already holds data; demo data was not loaded");
                Ok(ExitCode::from(2))
            }
        }
        Command::User(cmd) => user(settings, cmd).await,
        Command::Audit(AuditCommand::Verify) => {
            let db = xietong_server::prepare_database(&settings)
                .await
                .map_err(|e| e.to_string())?;
            let (n, breaches) = xietong_core::audit::verify(&db)
                .await
                .map_err(|e| e.to_string())?;
            if breaches.is_empty() {
                println!("audit chain intact: {n} records");
                Ok(ExitCode::SUCCESS)
            } else {
                for b in &breaches {
                    println!("BROKEN {b:?}");
                }
                println!(
                    "audit chain broken: {} problem(s) in {n} records",
                    breaches.len()
                );
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Backup { file } => backup(settings, file).await,
        Command::Calendar(cmd) => calendar(settings, cmd).await,
        Command::Supervision(SupervisionCommand::ImportLedger { file }) => {
            let db = xietong_server::prepare_database(&settings)
                .await
                .map_err(|e| e.to_string())?;
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let rows = xietong_supervision::excel::read_rows(
                &bytes,
                &xietong_supervision::excel::PROJECT_HEADERS,
            )
            .map_err(describe)?;
            let bar = Bar::new();
            let today = xietong_core::calendar::shanghai_date(xietong_core::clock::now());
            let outcome = xietong_supervision::store::projects::import_ledger_reporting(
                &db,
                &Actor::system("cli"),
                &rows,
                today,
                &bar,
            )
            .await;
            bar.finish();
            let outcome = outcome.map_err(describe)?;
            println!(
                "导入完成 · imported: {} rows, {} created, {} updated, {} unchanged",
                outcome.rows, outcome.created, outcome.updated, outcome.unchanged
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Indicators(IndicatorsCommand::Import { framework, file }) => {
            let db = xietong_server::prepare_database(&settings)
                .await
                .map_err(|e| e.to_string())?;
            let fw = xietong_core::registry::frameworks::by_key(&db, &framework)
                .await
                .map_err(describe)?;
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let inputs = xietong_indicators::excel::read_template(&db, fw.id, &bytes)
                .await
                .map_err(describe)?;
            let bar = Bar::new();
            let outcome = xietong_indicators::store::values::write_reporting(
                &db,
                &Actor::system("cli"),
                fw.id,
                &inputs,
                "xlsx",
                &bar,
            )
            .await;
            bar.finish();
            let s = outcome.map_err(describe)?;
            println!(
                "导入完成 · imported: {} created, {} corrected, {} unchanged",
                s.created, s.corrected, s.unchanged
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Supervision(SupervisionCommand::Sweep) => {
            let db = xietong_server::prepare_database(&settings)
                .await
                .map_err(|e| e.to_string())?;
            let actor = Actor::system("cli");
            let today = xietong_core::calendar::shanghai_date(xietong_core::clock::now());
            let outcome = xietong_server::sweep_now(&db, &settings, &actor, today)
                .await
                .map_err(describe)?;
            let escalated =
                xietong_supervision::store::letters::escalate_overdue(&db, &actor, today)
                    .await
                    .map_err(describe)?;
            println!(
                "swept {} open tasks: {} alerts opened, {} closed, {} statuses changed, {} letters escalated",
                outcome.tasks, outcome.opened, outcome.closed, outcome.statuses_changed, escalated
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Supervision {
            postgres_url,
            scale,
        }) => {
            let report = xietong_bench::supervision::run(xietong_bench::supervision::Options {
                postgres_admin_url: postgres_url,
                scale,
            })
            .await?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Indicators {
            postgres_url,
            scale,
        }) => {
            let report = xietong_bench::indicators::run(xietong_bench::indicators::Options {
                postgres_admin_url: postgres_url,
                scale,
            })
            .await?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Registry {
            postgres_url,
            clients,
            seconds,
            runs,
        }) => {
            let report = xietong_bench::registry::run(xietong_bench::registry::Options {
                postgres_admin_url: postgres_url,
                clients,
                seconds,
                runs,
            })
            .await?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_demo_logins() {
    println!(
        "demo logins (password: {}):",
        xietong_core::demo::DEMO_PASSWORD
    );
    for u in xietong_core::demo::DEMO_USERS {
        println!("  {:<16} {:<12} {}", u.username, u.role, u.about);
    }
}

async fn serve(settings: Settings, demo: bool) -> Result<ExitCode, String> {
    let db = xietong_server::prepare_database(&settings)
        .await
        .map_err(|e| e.to_string())?;
    if demo
        && xietong_server::load_demo(&db)
            .await
            .map_err(|e| e.to_string())?
    {
        println!("demo data loaded");
    }
    let app = xietong_server::app(db.clone(), &settings).map_err(|e| e.to_string())?;
    if settings.scheduler {
        tokio::spawn(xietong_supervision::schedule::run_daily(
            db.clone(),
            settings.sweep_hour,
            settings.lags,
            xietong_server::lag_finders(),
        ));
    }
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "Xietong 协同 is serving at http://{addr}/  (database: {})",
        db.backend().name()
    );
    if demo {
        print_demo_logins();
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    xietong_server::run(listener, app, shutdown)
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

fn read_password_line() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn user(settings: Settings, cmd: UserCommand) -> Result<ExitCode, String> {
    let db = xietong_server::prepare_database(&settings)
        .await
        .map_err(|e| e.to_string())?;
    let operator = Actor::system("cli");
    match cmd {
        UserCommand::Add(a) => {
            let role = Role::parse(&a.role).ok_or_else(|| {
                format!(
                    "unknown role {:?}: use admin, coordinator, staff or viewer",
                    a.role
                )
            })?;
            let mut grants = Vec::new();
            for key in &a.frameworks {
                let f = frameworks::by_key(&db, key)
                    .await
                    .map_err(|_| format!("no framework with key {key}"))?;
                grants.push(Grant {
                    role,
                    framework_id: Some(f.id),
                });
            }
            if grants.is_empty() {
                grants.push(Grant {
                    role,
                    framework_id: None,
                });
            }
            let (password, generated) = if a.password_stdin {
                (read_password_line()?, false)
            } else {
                (xietong_core::accounts::new_secret()[..20].to_string(), true)
            };
            let new = NewUser {
                username: a.username,
                display_name: a.name,
                organisation_id: a.org,
                password: password.clone(),
                grants,
            };
            let user = users::create(&db, &operator, &new)
                .await
                .map_err(describe)?;
            println!("user {} created (id {})", user.username, user.id);
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::Passwd { username } => {
            let password = read_password_line()?;
            users::set_password(&db, &operator, &username, &password)
                .await
                .map_err(describe)?;
            println!("password of {username} changed; their sessions were ended");
        }
        UserCommand::List => {
            for u in users::list(&db).await.map_err(describe)? {
                let roles: Vec<String> = u
                    .grants
                    .iter()
                    .map(|g| match g.framework_id {
                        Some(f) => format!("{}@{f}", g.role.as_str()),
                        None => g.role.as_str().to_string(),
                    })
                    .collect();
                println!(
                    "{:<6} {:<20} {:<24} {}{}",
                    u.id,
                    u.username,
                    u.display_name,
                    roles.join(","),
                    if u.disabled { " (disabled)" } else { "" }
                );
            }
        }
        UserCommand::Disable { username } => {
            users::set_disabled(&db, &operator, &username, true)
                .await
                .map_err(describe)?;
            println!("{username} disabled");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A readable one-line account of an error, with every field problem.
fn describe(e: xietong_core::Error) -> String {
    match &e {
        xietong_core::Error::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message.en))
            .collect::<Vec<_>>()
            .join("; "),
        _ => {
            let p = xietong_core::web::problem::problem_of(&e);
            format!("{} ({})", p.message_en, p.code)
        }
    }
}

async fn calendar(settings: Settings, cmd: CalendarCommand) -> Result<ExitCode, String> {
    let db = xietong_server::prepare_database(&settings)
        .await
        .map_err(|e| e.to_string())?;
    match cmd {
        CalendarCommand::Load { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let source = format!(
                "file {}",
                file.file_name().and_then(|n| n.to_str()).unwrap_or("?")
            );
            let years = xietong_core::calendar::store::import_csv(
                &db,
                &Actor::system("cli"),
                &text,
                &source,
            )
            .await
            .map_err(describe)?;
            println!("calendar loaded for {years:?}");
        }
        CalendarCommand::Years => {
            for (year, source, loaded_at) in xietong_core::calendar::store::years(&db)
                .await
                .map_err(describe)?
            {
                println!("{year}  {loaded_at}  {source}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn backup(settings: Settings, file: std::path::PathBuf) -> Result<ExitCode, String> {
    if file.exists() {
        return Err(format!(
            "{} already exists; choose a new file",
            file.display()
        ));
    }
    let db = xietong_core::Db::connect(&settings.database_url, 1)
        .await
        .map_err(|e| e.to_string())?;
    match db.backend() {
        xietong_core::Backend::Sqlite => {
            // VACUUM INTO writes a consistent snapshot while other connections keep working.
            let path = file.to_str().ok_or("the backup path is not valid UTF-8")?;
            sqlx::query("VACUUM INTO $1")
                .bind(path)
                .execute(db.pool())
                .await
                .map_err(|e| e.to_string())?;
            println!("backup written to {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        xietong_core::Backend::Postgres => {
            eprintln!("for PostgreSQL, back up with pg_dump, e.g.: pg_dump --format=custom --file={} \"$XIETONG_DATABASE_URL\"", file.display());
            Ok(ExitCode::from(2))
        }
    }
}

/// A progress bar on standard error for long imports: checking the rows, then writing them.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new() -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg:8} [{bar:40}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Bar(bar)
    }

    fn finish(&self) {
        self.0.finish();
    }
}

impl xietong_core::progress::Progress for Bar {
    fn step(&self, stage: &'static str, done: usize, total: usize) {
        let label = match stage {
            "check" => "检查 check",
            "write" => "写入 write",
            other => other,
        };
        self.0.set_message(label);
        self.0.set_length(total as u64);
        self.0.set_position(done as u64);
    }
}
