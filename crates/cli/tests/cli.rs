//! The `xietong` binary as an operator uses it: killing the server with SIGKILL in the middle of
//! a stream of writes loses no acknowledged write and leaves an audit chain that verifies (on
//! SQLite, and on PostgreSQL when configured); `audit verify` names tampered records;
//! `calendar load` refuses a bad file.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_xietong");

async fn database_urls() -> Vec<String> {
    let mut urls = vec![fresh_sqlite("crash")];
    match std::env::var("XIETONG_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("xt_test_{:016x}", rand::random::<u64>());
            let pool = sqlx::PgPool::connect(&admin).await.expect("connect to the test PostgreSQL server");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
            pool.close().await;
            urls.push(format!("{}/{name}", admin.rsplit_once('/').unwrap().0));
        }
        _ => eprintln!("XIETONG_TEST_POSTGRES_URL is not set: the PostgreSQL run of the crash test did not happen (scripts/test sets it)"),
    }
    urls
}

/// Runs `xietong ARGS` against `url` and returns what it printed.
fn runner(url: &str) -> impl Fn(&[&str]) -> std::process::Output + '_ {
    move |args| {
        Command::new(BIN)
            .args(args)
            .env("XIETONG_DATABASE_URL", url)
            .env("XIETONG_LOG", "warn")
            .output()
            .unwrap()
    }
}

/// A new SQLite database file for one test.
fn fresh_sqlite(label: &str) -> String {
    let dir = std::env::temp_dir().join("xietong-tests");
    std::fs::create_dir_all(&dir).unwrap();
    format!(
        "sqlite://{}",
        dir.join(format!("{label}_{:016x}.db", rand::random::<u64>()))
            .display()
    )
}

/// Starts `xietong serve` and returns it with its base URL, read from what it prints.
#[allow(clippy::zombie_processes)] // returned to the caller, which kills and waits for it
fn start(database_url: &str, demo: bool) -> (Child, String) {
    let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
    if demo {
        args.push("--demo");
    }
    let mut child = Command::new(BIN)
        .args(&args)
        .env("XIETONG_DATABASE_URL", database_url)
        .env("XIETONG_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = std::io::BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        let n = std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0);
        if n == 0 {
            let status = child.wait();
            panic!("server exited before serving: {status:?}");
        }
        if let Some(rest) = line.split("serving at ").nth(1) {
            let url = rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_string();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return (child, url);
        }
    }
}

async fn admin_token(http: &reqwest::Client, url: &str) -> String {
    let session: Value = http
        .post(format!("{url}/api/v1/session"))
        .json(&json!({"username": "admin", "password": "xietong-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = session["csrf_token"].as_str().unwrap();
    let issued: Value = http
        .post(format!("{url}/api/v1/tokens"))
        .header("x-csrf-token", csrf)
        .json(&json!({"name": "crash test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    issued["secret"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    for database_url in database_urls().await {
        let (mut server, url) = start(&database_url, true);
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let token = admin_token(&http, &url).await;

        // Four writers, each creating organisations until the server dies under them.
        let mut writers = Vec::new();
        for w in 0..4 {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            writers.push(tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for i in 0..10_000 {
                    let body = json!({"name_zh": format!("压力测试单位{w}-{i}"), "kind": "other", "region_code": "500236"});
                    match http.post(format!("{url}/api/v1/organisations")).bearer_auth(&token).json(&body).send().await {
                        Ok(r) if r.status() == 201 => {
                            let v: Value = match r.json().await {
                                Ok(v) => v,
                                Err(_) => break,
                            };
                            acknowledged.push(v["id"].as_i64().unwrap());
                        }
                        _ => break,
                    }
                }
                acknowledged
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        server.kill().unwrap(); // SIGKILL: no shutdown, no flush
        server.wait().unwrap();
        let mut acknowledged = Vec::new();
        for w in writers {
            acknowledged.extend(w.await.unwrap());
        }
        assert!(
            acknowledged.len() >= 10,
            "the stream was running: {} writes",
            acknowledged.len()
        );

        let (mut server, url) = start(&database_url, false);
        let token = admin_token(
            &reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            &url,
        )
        .await;
        for id in &acknowledged {
            let r = http
                .get(format!("{url}/api/v1/organisations/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                200,
                "acknowledged organisation {id} lost on {}",
                database_url.split(':').next().unwrap()
            );
        }
        server.kill().unwrap();
        server.wait().unwrap();
        let verify = Command::new(BIN)
            .args(["audit", "verify"])
            .env("XIETONG_DATABASE_URL", &database_url)
            .env("XIETONG_LOG", "warn")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&verify.stdout);
        assert!(verify.status.success() && out.contains("intact"), "{out}");
    }
}

#[tokio::test]
async fn audit_verify_names_tampered_records_and_fails() {
    let url = fresh_sqlite("verify");
    let run = runner(&url);
    assert!(run(&["demo"]).status.success());
    let ok = run(&["audit", "verify"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let db = xietong_core::Db::connect(&url, 1).await.unwrap();
    sqlx::query("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 5")
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    let bad = run(&["audit", "verify"]);
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(!bad.status.success());
    assert!(out.contains("Altered { seq: 5 }"), "{out}");
}

#[test]
fn the_calendar_is_loaded_from_a_file_and_bad_files_are_refused() {
    let url = fresh_sqlite("calendar");
    let dir = std::env::temp_dir().join("xietong-tests");
    let good = dir.join(format!("cal_{:016x}.csv", rand::random::<u64>()));
    std::fs::write(
        &good,
        "date,kind,name_zh,name_en\n2027-01-01,holiday,元旦,New Year's Day\n",
    )
    .unwrap();
    let bad = dir.join(format!("cal_{:016x}.csv", rand::random::<u64>()));
    std::fs::write(
        &bad,
        "date,kind,name_zh,name_en\n2027-13-01,holiday,元旦,New Year's Day\n",
    )
    .unwrap();
    let run = runner(&url);
    let refused = run(&["calendar", "load", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("line 2"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(run(&["calendar", "load", good.to_str().unwrap()])
        .status
        .success());
    let years = String::from_utf8_lossy(&run(&["calendar", "years"]).stdout).to_string();
    assert!(years.contains("2027") && years.contains("2023"), "{years}");
}

#[test]
fn the_sweep_command_is_idempotent() {
    let url = fresh_sqlite("sweep");
    let run = runner(&url);
    assert!(run(&["demo"]).status.success());
    let first = run(&["supervision", "sweep"]);
    let second = run(&["supervision", "sweep"]);
    assert!(first.status.success() && second.status.success());
    let second = String::from_utf8_lossy(&second.stdout).to_string();
    assert!(second.contains("0 alerts opened, 0 closed"), "{second}");
}

#[tokio::test]
async fn a_sweep_killed_midway_leaves_nothing_half_done() {
    let url = fresh_sqlite("killed_sweep");
    let run = runner(&url);
    assert!(run(&["demo"]).status.success());
    // Enough lagging tasks that the sweep takes a while.
    let db = xietong_core::Db::connect(&url, 1).await.unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
         INSERT INTO tasks (code, framework_id, title_zh, area, year, lead_org_id, start_on, deadline, source_kind, status, created_at, updated_at)
         SELECT 'KILL-' || i, (SELECT id FROM frameworks WHERE key = 'CY'), '滞后任务', 'other', 2026, (SELECT MIN(id) FROM organisations),
                '2026-01-01', '2026-12-31', 'annual_plan', 'not_started', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' FROM n",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_as::<_, (i64,)>(sql)
                .fetch_one(db.pool())
                .await
                .unwrap()
                .0
        }
    };
    let alerts_before = count("SELECT COUNT(*) FROM alerts").await;
    let audit_before = count("SELECT COUNT(*) FROM audit_log").await;

    let mut sweep = Command::new(BIN)
        .args(["supervision", "sweep"])
        .env("XIETONG_DATABASE_URL", &url)
        .env("XIETONG_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let finished_early = sweep.try_wait().unwrap().is_some();
    sweep.kill().ok();
    sweep.wait().unwrap();
    eprintln!("sweep finished before the kill: {finished_early}");
    if !finished_early {
        // Killed inside its transaction: not one alert or audit record of it remains.
        assert_eq!(
            count("SELECT COUNT(*) FROM alerts").await,
            alerts_before,
            "no half-made alerts"
        );
        assert_eq!(count("SELECT COUNT(*) FROM audit_log").await, audit_before);
    }
    assert!(run(&["supervision", "sweep"]).status.success());
    let duplicates = count("SELECT COUNT(*) FROM (SELECT rule, subject_kind, subject_id FROM alerts WHERE closed_at IS NULL GROUP BY rule, subject_kind, subject_id HAVING COUNT(*) > 1) d").await;
    assert_eq!(duplicates, 0);
    assert!(count("SELECT COUNT(*) FROM alerts WHERE closed_at IS NULL AND subject_id IN (SELECT id FROM tasks WHERE code LIKE 'KILL-%')").await >= 30000);
    let verify = run(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    db.close().await;
}

/// A reporting sheet for the district pairing: one row per (pairing id, period, funds in 万元).
fn reporting_sheet(path: &std::path::Path, rows: &[(&str, &str, &str)]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in ["结对编号", "结对", "报送期", "帮扶资金（万元）"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (id, period, wan)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_string(r, 0, *id).unwrap();
        ws.write_string(r, 2, *period).unwrap();
        ws.write_string(r, 3, *wan).unwrap();
    }
    book.save(path).unwrap();
}

#[tokio::test]
async fn indicators_import_from_the_command_line_is_all_or_nothing_and_idempotent() {
    let url = fresh_sqlite("indicators_import");
    let run = runner(&url);
    assert!(run(&["demo"]).status.success());
    let db = xietong_core::Db::connect(&url, 1).await.unwrap();
    let ids: Vec<(i64,)> = sqlx::query_as("SELECT p.id FROM pairings p JOIN frameworks f ON f.id = p.framework_id WHERE f.key = 'YQLQ' ORDER BY p.id LIMIT 2")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let (a, b) = (ids[0].0.to_string(), ids[1].0.to_string());
    let count = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM indicator_values")
            .fetch_one(db.pool())
            .await
            .unwrap();
        n
    };
    let before = count().await;
    let dir = std::env::temp_dir().join("xietong-tests");
    let bad = dir.join(format!("bad_{:08x}.xlsx", rand::random::<u32>()));
    reporting_sheet(&bad, &[(&a, "2022-09", "12"), (&b, "2022-09", "十二")]);
    let refused = run(&[
        "indicators",
        "import",
        "--framework",
        "YQLQ",
        bad.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("第3行 帮扶资金（万元）"), "{said}");
    assert_eq!(count().await, before, "nothing stored from a failing file");

    let good = dir.join(format!("good_{:08x}.xlsx", rand::random::<u32>()));
    reporting_sheet(&good, &[(&a, "2022-09", "12"), (&b, "2022-09", "0.5")]);
    let first = run(&[
        "indicators",
        "import",
        "--framework",
        "YQLQ",
        good.to_str().unwrap(),
    ]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("2 created"));
    let again = run(&[
        "indicators",
        "import",
        "--framework",
        "YQLQ",
        good.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("2 unchanged"));
    assert_eq!(count().await, before + 2);
    db.close().await;
}
