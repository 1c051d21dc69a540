//! The Chengdu–Chongqing 2022 project year as the seeds report it, for the report card as of
//! 2023-01-31: the list of 160 major projects, 5 projects added late in the year, 27 annual
//! targets adjusted, and warning letters to 17 units about 28 lagging projects
//! (seed 004: “调整优化2022年160个…重大项目…对17个单位28个推进滞后项目发出提示函，调整优化27个项目
//! 年度目标任务，增补…等5个项目”).
//!
//! Reading taken: the 160 are the list as first drawn up; the 5 additions come on top (165 in
//! all). The seeds name 36 CY projects, 2 of them among the additions; the other 126 + 3 are
//! generated and marked so. History is written in one audited transaction with its real dates.

use std::collections::BTreeMap;

use xietong_core::audit::Change;
use xietong_core::error::{Error, Result};
use xietong_core::permissions::{Actor, Decision};
use xietong_core::Db;

pub const LIST_2022: usize = 160;
pub const ADDED_2022: usize = 5;
pub const ADJUSTED_2022: usize = 27;
pub const LETTER_UNITS_2022: usize = 17;
pub const LAGGING_PROJECTS_2022: usize = 28;

/// Inserts a row and returns its id.
async fn insert_id(conn: &mut sqlx::AnyConnection, sql: &str, binds: Vec<Bind>) -> Result<i64> {
    let mut q = sqlx::query_as::<_, (i64,)>(sql);
    for b in binds {
        q = match b {
            Bind::T(s) => q.bind(s),
            Bind::I(i) => q.bind(i),
            Bind::N => q.bind(None::<i64>),
        };
    }
    Ok(q.fetch_one(conn).await?.0)
}

enum Bind {
    T(String),
    I(i64),
    N,
}

use Bind::{I, N, T};

pub async fn load(db: &Db) -> Result<()> {
    let actor = Actor::system("demo");
    let (cy,): (i64,) = sqlx::query_as("SELECT id FROM frameworks WHERE key = 'CY'")
        .fetch_one(db.pool())
        .await?;
    // The units: the governments of Chongqing's and Sichuan's places in the registry.
    let units: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, region_code FROM organisations WHERE kind = 'government' AND (region_code LIKE '50%' OR region_code LIKE '51%') ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    if units.len() < LETTER_UNITS_2022 {
        return Err(Error::Config(format!(
            "demo history needs {LETTER_UNITS_2022} units, the registry has {}",
            units.len()
        )));
    }
    let seeded: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, added_in_year FROM projects WHERE framework_id = $1 ORDER BY code",
    )
    .bind(cy)
    .fetch_all(db.pool())
    .await?;
    let mut w = db.write(&actor).await?;
    w.authorize_decision(Decision::Allow)?;
    let stamp = "2022-01-15T02:00:00.000Z";
    let mut original: Vec<i64> = seeded
        .iter()
        .filter(|(_, a)| *a != Some(2022))
        .map(|(id, _)| *id)
        .collect();
    let mut added: Vec<i64> = seeded
        .iter()
        .filter(|(_, a)| *a == Some(2022))
        .map(|(id, _)| *id)
        .collect();
    let mut generated = 0;
    while original.len() < LIST_2022 || added.len() < ADDED_2022 {
        generated += 1;
        let is_added = original.len() >= LIST_2022;
        let (unit, region) = &units[generated % units.len()];
        let code = if is_added {
            format!("CY-G-2022-A{generated:03}")
        } else {
            format!("CY-G-2022-{generated:03}")
        };
        let name = if is_added {
            format!("（生成）2022年增补重大项目{generated}")
        } else {
            format!("（生成）2022年成渝地区双城经济圈重大项目{generated}")
        };
        let stage = [
            "started",
            "under_construction",
            "under_construction",
            "completed",
            "preparatory",
        ][generated % 5];
        let id = insert_id(
            w.conn(),
            "INSERT INTO projects (code, framework_id, name_zh, stage, total_investment_fen, added_in_year, generated, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id",
            vec![T(code), I(cy), T(name), T(stage.into()), I(((20 + generated % 180) as i64) * 10_000_000_000), if is_added { I(2022) } else { N }, T(stamp.into())],
        )
        .await?;
        sqlx::query("INSERT INTO project_units (project_id, org_id, position) VALUES ($1, $2, 0)")
            .bind(id)
            .bind(unit)
            .execute(w.conn())
            .await?;
        sqlx::query("INSERT INTO project_regions (project_id, region_code) VALUES ($1, $2)")
            .bind(id)
            .bind(region)
            .execute(w.conn())
            .await?;
        if is_added {
            added.push(id);
        } else {
            original.push(id);
        }
    }
    // 2022 plans for the list and the additions; the additions' plans start in November.
    for (n, id) in original.iter().chain(added.iter()).enumerate() {
        let planned = ((3 + n % 17) as i64) * 10_000_000_000;
        sqlx::query(
            "INSERT INTO project_plans (project_id, year, original_fen, planned_fen, planned_start_on, completed_fen) VALUES ($1, 2022, $2, $2, NULL, 0)
             ON CONFLICT (project_id, year) DO NOTHING",
        )
        .bind(id)
        .bind(planned)
        .execute(w.conn())
        .await?;
    }
    // 27 adjusted targets, approved in December 2022.
    for id in original.iter().step_by(5).take(ADJUSTED_2022) {
        let (from,): (i64,) = sqlx::query_as(
            "SELECT planned_fen FROM project_plans WHERE project_id = $1 AND year = 2022",
        )
        .bind(id)
        .fetch_one(w.conn())
        .await?;
        let to = from * 4 / 5;
        sqlx::query(
            "UPDATE project_plans SET planned_fen = $1 WHERE project_id = $2 AND year = 2022",
        )
        .bind(to)
        .bind(id)
        .execute(w.conn())
        .await?;
        sqlx::query(
            "INSERT INTO plan_adjustments (project_id, year, from_fen, to_fen, reason_zh, approver_zh, approved_on, created_at)
             VALUES ($1, 2022, $2, $3, '（演示生成）根据项目推进实际调整年度目标', '推动成渝地区双城经济圈建设联合办公室', '2022-12-10', $4)",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .bind("2022-12-10T08:00:00.000Z")
        .execute(w.conn())
        .await?;
    }
    // 28 lagging projects of 17 units: pick projects until 17 units and 28 projects are covered.
    let owners: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT p.id, u.org_id FROM projects p JOIN project_units u ON u.project_id = p.id AND u.position = 0
          WHERE p.framework_id = {cy} AND (p.added_in_year IS NULL OR p.added_in_year <> 2022) ORDER BY p.id"
    ))
    .fetch_all(w.conn())
    .await?;
    let mut by_unit: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (project, unit) in &owners {
        by_unit.entry(*unit).or_default().push(*project);
    }
    let mut chosen: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (unit, projects) in by_unit.iter().take(LETTER_UNITS_2022) {
        chosen.insert(*unit, vec![projects[0]]);
    }
    'fill: for (unit, projects) in by_unit.iter().take(LETTER_UNITS_2022) {
        for p in projects.iter().skip(1) {
            if chosen.values().map(Vec::len).sum::<usize>() >= LAGGING_PROJECTS_2022 {
                break 'fill;
            }
            chosen.entry(*unit).or_default().push(*p);
        }
    }
    let lagging: usize = chosen.values().map(Vec::len).sum();
    if chosen.len() != LETTER_UNITS_2022 || lagging != LAGGING_PROJECTS_2022 {
        return Err(Error::Config(format!(
            "demo history: {} units, {lagging} projects",
            chosen.len()
        )));
    }
    for (number, (unit, projects)) in chosen.iter().enumerate() {
        let letter = insert_id(
            w.conn(),
            "INSERT INTO letters (framework_id, issuer, year, number, addressee_org_id, status, subject_zh, body_zh, response_due, drafted_by,
                                  issued_at, acknowledged_at, responded_at, response_zh, resolved_at, created_at, updated_at)
             VALUES ($1, '川渝联办提示', 2022, $2, $3, 'resolved', $4, $5, '2022-12-09', 'demo', $6, $6, $7, '（演示生成）已按期整改', $8, $6, $8) RETURNING id",
            vec![
                I(cy),
                I(number as i64 + 1),
                I(*unit),
                T(format!("关于{}项推进滞后项目的提示函", projects.len())),
                T("（演示生成）经调度，你单位负责的以下重大项目推进滞后，请抓紧整改。".into()),
                T("2022-11-25T02:00:00.000Z".into()),
                T("2022-12-08T02:00:00.000Z".into()),
                T("2023-01-20T02:00:00.000Z".into()),
            ],
        )
        .await?;
        for project in projects {
            let (code, name): (String, String) =
                sqlx::query_as("SELECT code, name_zh FROM projects WHERE id = $1")
                    .bind(project)
                    .fetch_one(w.conn())
                    .await?;
            let alert = insert_id(
                w.conn(),
                "INSERT INTO alerts (rule, subject_kind, subject_id, framework_id, unit_org_id, details_zh, details_en, opened_at, closed_at)
                 VALUES ('behind_plan', 'project', $1, $2, $3, '（演示生成）完成投资低于时序计划的80%', '(generated) completed investment under 80% of the prorated plan', $4, $5) RETURNING id",
                vec![I(*project), I(cy), I(*unit), T("2022-11-20T02:00:00.000Z".into()), T("2023-01-15T02:00:00.000Z".into())],
            )
            .await?;
            sqlx::query(
                "INSERT INTO letter_items (letter_id, alert_id, subject_kind, subject_id, subject_code, subject_title_zh, details_zh)
                 VALUES ($1, $2, 'project', $3, $4, $5, '（演示生成）完成投资低于时序计划的80%')",
            )
            .bind(letter)
            .bind(alert)
            .bind(project)
            .bind(code)
            .bind(name)
            .execute(w.conn())
            .await?;
        }
    }
    // Monthly completed investment through 2022: the lagging projects reached about half their
    // target, the others a little over nine tenths.
    let lagging_ids: std::collections::HashSet<i64> = chosen.values().flatten().copied().collect();
    let plans: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT pl.project_id, pl.planned_fen FROM project_plans pl JOIN projects p ON p.id = pl.project_id WHERE pl.year = 2022 AND p.framework_id = {cy}"
    ))
    .fetch_all(w.conn())
    .await?;
    for (project, planned) in plans {
        let share = if lagging_ids.contains(&project) {
            50
        } else {
            92
        };
        let monthly = planned * share / 100 / 12;
        for month in 1..=12 {
            sqlx::query("INSERT INTO investment_reports (project_id, month, completed_fen, reported_by, reported_at) VALUES ($1, $2, $3, 'demo', $4)")
                .bind(project)
                .bind(format!("2022-{month:02}"))
                .bind(monthly)
                .bind(format!("2022-{month:02}-28T02:00:00.000Z"))
                .execute(w.conn())
                .await?;
        }
        sqlx::query(
            "UPDATE project_plans SET completed_fen = $1 WHERE project_id = $2 AND year = 2022",
        )
        .bind(monthly * 12)
        .bind(project)
        .execute(w.conn())
        .await?;
    }
    sqlx::query(
        "INSERT INTO letter_counters (issuer, year, last_number) VALUES ('川渝联办提示', 2022, $1)
         ON CONFLICT (issuer, year) DO UPDATE SET last_number = $1",
    )
    .bind(LETTER_UNITS_2022 as i64)
    .execute(w.conn())
    .await?;
    // The history is stored as records, not through the write paths: the report card's roll-ups
    // are refilled from them in the same transaction.
    crate::store::rollups::rebuild(w.conn()).await?;
    w.record(Change::created(
        "demo_history",
        "CY-2022",
        serde_json::json!({"list": LIST_2022, "added": ADDED_2022, "adjusted": ADJUSTED_2022, "letter_units": LETTER_UNITS_2022, "lagging_projects": LAGGING_PROJECTS_2022, "generated_projects": generated}),
    ))
    .await?;
    w.commit().await
}
