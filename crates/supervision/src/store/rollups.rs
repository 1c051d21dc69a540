//! The report card's roll-ups: counters and sums per framework and year (tasks by area and
//! status, by deadline, per unit; projects by stage; adjusted targets by day; investment by
//! month; letters by day and the first day each unit, task and project appeared in one). Every
//! write that changes what they count moves them in its own transaction, through [`Deltas`]:
//! read a record's [`TaskKey`] or [`ProjectKey`] before and after the change, and the
//! difference is added to the roll-ups. [`recompute_sql`] derives them from the raw records
//! (the migration fills them the same way, [`rebuild`] refills them after a bulk load) and
//! [`differences`] compares both, which the tests check after every kind of write.

use std::collections::{BTreeMap, HashMap};

use sqlx::AnyConnection;
use xietong_core::error::Result;

/// What a task contributes to the card.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskKey {
    pub framework_id: i64,
    pub year: i64,
    pub area: String,
    pub status: String,
    pub lead_org_id: i64,
    pub deadline: String,
    /// 1 when closed no later than its deadline.
    pub on_time: i64,
}

const TASK_KEY: &str = "SELECT framework_id, year, area, status, lead_org_id, deadline,
        CASE WHEN resolution = 'closed' AND SUBSTR(resolved_at, 1, 10) <= deadline THEN 1 ELSE 0 END AS on_time
   FROM tasks";

/// A task's contribution as stored now (none before it exists).
pub async fn task_key(conn: &mut AnyConnection, id: i64) -> Result<Option<TaskKey>> {
    Ok(sqlx::query_as(&format!("{TASK_KEY} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// What a project contributes to the card: one entry per year it has a plan for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectKey {
    pub framework_id: i64,
    /// (year, stage, added that year, planned fen)
    pub plans: Vec<(i64, String, i64, i64)>,
    pub units: Vec<i64>,
}

/// Several projects' contributions as stored now, by id (read in a few set queries).
pub async fn project_keys(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<HashMap<i64, ProjectKey>> {
    let mut out: HashMap<i64, ProjectKey> = HashMap::new();
    for chunk in ids.chunks(500) {
        // Ids are integers this database produced, so they are listed inline.
        let list = chunk
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let plans: Vec<(i64, i64, i64, String, i64, i64)> = sqlx::query_as(&format!(
            "SELECT p.id, p.framework_id, pl.year, p.stage, CASE WHEN p.added_in_year = pl.year THEN 1 ELSE 0 END, pl.planned_fen
               FROM projects p JOIN project_plans pl ON pl.project_id = p.id WHERE p.id IN ({list}) ORDER BY p.id, pl.year"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for (id, framework_id, year, stage, added, planned) in plans {
            let k = out.entry(id).or_default();
            k.framework_id = framework_id;
            k.plans.push((year, stage, added, planned));
        }
        let units: Vec<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT project_id, org_id FROM project_units WHERE project_id IN ({list}) ORDER BY project_id, org_id"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for (id, org) in units {
            // Units count only with a plan; a project without one contributes nothing.
            if let Some(k) = out.get_mut(&id) {
                k.units.push(org);
            }
        }
    }
    Ok(out)
}

/// A letter's contribution: who, and the days from which it counts as issued, resolved, escalated.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LetterKey {
    framework_id: i64,
    year: i64,
    org_id: i64,
    issued: String,
    resolved: Option<String>,
    escalated: Option<String>,
}

/// framework, year, addressee, days of issue, resolution and escalation.
type LetterRow = (
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn letter_key(conn: &mut AnyConnection, id: i64) -> Result<Option<LetterKey>> {
    let row: Option<LetterRow> =
        sqlx::query_as(
            "SELECT framework_id, year, addressee_org_id, SUBSTR(issued_at, 1, 10), SUBSTR(resolved_at, 1, 10), SUBSTR(escalated_at, 1, 10)
               FROM letters WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.and_then(
        |(framework_id, year, org_id, issued, resolved, escalated)| {
            let issued = issued?;
            let later = |d: Option<String>| d.map(|d| if d > issued { d } else { issued.clone() });
            Some(LetterKey {
                framework_id,
                year,
                org_id,
                resolved: later(resolved),
                escalated: later(escalated),
                issued,
            })
        },
    ))
}

/// Reads a letter before a change; [`LetterMove::finish`] adds the difference once it is made.
pub struct LetterMove {
    id: i64,
    before: Option<LetterKey>,
}

impl LetterMove {
    pub async fn start(conn: &mut AnyConnection, id: i64) -> Result<LetterMove> {
        Ok(LetterMove {
            id,
            before: letter_key(conn, id).await?,
        })
    }

    pub async fn finish(self, conn: &mut AnyConnection) -> Result<()> {
        let after = letter_key(conn, self.id).await?;
        if after == self.before {
            return Ok(());
        }
        let mut d = Deltas::default();
        for (k, sign) in [(&self.before, -1), (&after, 1)] {
            let Some(k) = k else { continue };
            let at = |day: &str| (k.framework_id, k.year, k.org_id, day.to_string());
            d.letters.entry(at(&k.issued)).or_default().0 += sign;
            if let Some(day) = &k.resolved {
                d.letters.entry(at(day)).or_default().1 += sign;
            }
            if let Some(day) = &k.escalated {
                d.letters.entry(at(day)).or_default().2 += sign;
            }
        }
        d.apply(&mut *conn).await?;
        // Once issued, a letter stays issued: its addressee and items are first seen no later
        // than its day of issue.
        if let Some(k) = &after {
            first_seen(conn, k, "unit", k.org_id).await?;
            let items: Vec<(String, i64)> = sqlx::query_as(
                "SELECT DISTINCT subject_kind, subject_id FROM letter_items WHERE letter_id = $1",
            )
            .bind(self.id)
            .fetch_all(&mut *conn)
            .await?;
            for (kind, subject) in items {
                first_seen(conn, k, &kind, subject).await?;
            }
        }
        Ok(())
    }
}

async fn first_seen(
    conn: &mut AnyConnection,
    k: &LetterKey,
    kind: &str,
    subject: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO card_letter_firsts (framework_id, year, kind, subject_id, first_day) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (framework_id, year, kind, subject_id) DO UPDATE
            SET first_day = CASE WHEN excluded.first_day < card_letter_firsts.first_day THEN excluded.first_day ELSE card_letter_firsts.first_day END",
    )
    .bind(k.framework_id)
    .bind(k.year)
    .bind(kind)
    .bind(subject)
    .bind(&k.issued)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Changes to the roll-ups gathered in memory and added in one go before the write commits.
#[derive(Debug, Default)]
pub struct Deltas {
    tasks: HashMap<(i64, i64, String, String), i64>,
    deadlines: HashMap<(i64, i64, String), (i64, i64)>,
    units: HashMap<(i64, i64, i64), (i64, i64)>,
    projects: HashMap<(i64, i64, String, i64), (i64, i64)>,
    adjusted: HashMap<(i64, i64, String), i64>,
    investment: HashMap<(i64, String), i64>,
    letters: LetterCounts,
}

/// Letters issued, resolved and escalated by framework, year, addressee and day.
type LetterCounts = HashMap<(i64, i64, i64, String), (i64, i64, i64)>;

impl Deltas {
    /// A task moved from `before` to `after` (either absent: created, or gone).
    pub fn task(&mut self, before: Option<&TaskKey>, after: Option<&TaskKey>) {
        if before == after {
            return;
        }
        for (k, sign) in [(before, -1), (after, 1)] {
            let Some(k) = k else { continue };
            *self
                .tasks
                .entry((k.framework_id, k.year, k.area.clone(), k.status.clone()))
                .or_default() += sign;
            let d = self
                .deadlines
                .entry((k.framework_id, k.year, k.deadline.clone()))
                .or_default();
            d.0 += sign;
            d.1 += sign * k.on_time;
            self.units
                .entry((k.framework_id, k.year, k.lead_org_id))
                .or_default()
                .0 += sign;
        }
    }

    /// A task's status alone changed (the sweep).
    pub fn task_status(&mut self, framework: i64, year: i64, area: &str, from: &str, to: &str) {
        *self
            .tasks
            .entry((framework, year, area.to_string(), from.to_string()))
            .or_default() -= 1;
        *self
            .tasks
            .entry((framework, year, area.to_string(), to.to_string()))
            .or_default() += 1;
    }

    /// A project moved from `before` to `after`.
    pub fn project(&mut self, before: Option<&ProjectKey>, after: Option<&ProjectKey>) {
        if before == after {
            return;
        }
        for (k, sign) in [(before, -1), (after, 1)] {
            let Some(k) = k else { continue };
            for (year, stage, added, planned) in &k.plans {
                let p = self
                    .projects
                    .entry((k.framework_id, *year, stage.clone(), *added))
                    .or_default();
                p.0 += sign;
                p.1 += sign * planned;
                for org in &k.units {
                    self.units
                        .entry((k.framework_id, *year, *org))
                        .or_default()
                        .1 += sign;
                }
            }
        }
    }

    /// A month's completed investment of a project of `framework` moved by `fen`.
    pub fn investment(&mut self, framework: i64, month: &str, fen: i64) {
        *self
            .investment
            .entry((framework, month.to_string()))
            .or_default() += fen;
    }

    /// A project's first adjustment of a year moved from `before` to `after` (a day).
    pub fn first_adjusted(
        &mut self,
        framework: i64,
        year: i64,
        before: Option<&str>,
        after: Option<&str>,
    ) {
        if before == after {
            return;
        }
        if let Some(day) = before {
            *self
                .adjusted
                .entry((framework, year, day.to_string()))
                .or_default() -= 1;
        }
        if let Some(day) = after {
            *self
                .adjusted
                .entry((framework, year, day.to_string()))
                .or_default() += 1;
        }
    }

    /// Adds the gathered changes to the roll-ups, inside the caller's transaction.
    pub async fn apply(self, conn: &mut AnyConnection) -> Result<()> {
        for ((f, y, area, status), n) in self.tasks {
            if n == 0 {
                continue;
            }
            sqlx::query(
                "INSERT INTO card_task_counts (framework_id, year, area, status, n) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (framework_id, year, area, status) DO UPDATE SET n = card_task_counts.n + excluded.n",
            )
            .bind(f).bind(y).bind(area).bind(status).bind(n)
            .execute(&mut *conn)
            .await?;
        }
        for ((f, y, deadline), (due, on_time)) in self.deadlines {
            if (due, on_time) == (0, 0) {
                continue;
            }
            sqlx::query(
                "INSERT INTO card_task_deadlines (framework_id, year, deadline, due, closed_on_time) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (framework_id, year, deadline) DO UPDATE
                    SET due = card_task_deadlines.due + excluded.due, closed_on_time = card_task_deadlines.closed_on_time + excluded.closed_on_time",
            )
            .bind(f).bind(y).bind(deadline).bind(due).bind(on_time)
            .execute(&mut *conn)
            .await?;
        }
        for ((f, y, org), (tasks, projects)) in self.units {
            if (tasks, projects) == (0, 0) {
                continue;
            }
            sqlx::query(
                "INSERT INTO card_units (framework_id, year, org_id, tasks, projects) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (framework_id, year, org_id) DO UPDATE
                    SET tasks = card_units.tasks + excluded.tasks, projects = card_units.projects + excluded.projects",
            )
            .bind(f).bind(y).bind(org).bind(tasks).bind(projects)
            .execute(&mut *conn)
            .await?;
        }
        for ((f, y, stage, added), (n, planned)) in self.projects {
            if (n, planned) == (0, 0) {
                continue;
            }
            sqlx::query(
                "INSERT INTO card_projects (framework_id, year, stage, added, n, planned_fen) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (framework_id, year, stage, added) DO UPDATE
                    SET n = card_projects.n + excluded.n, planned_fen = card_projects.planned_fen + excluded.planned_fen",
            )
            .bind(f).bind(y).bind(stage).bind(added).bind(n).bind(planned)
            .execute(&mut *conn)
            .await?;
        }
        for ((f, y, day), n) in self.adjusted {
            if n == 0 {
                continue;
            }
            sqlx::query(
                "INSERT INTO card_adjusted (framework_id, year, day, n) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (framework_id, year, day) DO UPDATE SET n = card_adjusted.n + excluded.n",
            )
            .bind(f).bind(y).bind(day).bind(n)
            .execute(&mut *conn)
            .await?;
        }
        for ((f, month), fen) in self.investment {
            if fen == 0 {
                continue;
            }
            sqlx::query(
                "INSERT INTO card_investment (framework_id, month, completed_fen) VALUES ($1, $2, $3)
                 ON CONFLICT (framework_id, month) DO UPDATE SET completed_fen = card_investment.completed_fen + excluded.completed_fen",
            )
            .bind(f).bind(month).bind(fen)
            .execute(&mut *conn)
            .await?;
        }
        for ((f, y, org, day), (issued, resolved, escalated)) in self.letters {
            if (issued, resolved, escalated) == (0, 0, 0) {
                continue;
            }
            sqlx::query(
                "INSERT INTO card_letters (framework_id, year, org_id, day, issued, resolved, escalated) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (framework_id, year, org_id, day) DO UPDATE
                    SET issued = card_letters.issued + excluded.issued, resolved = card_letters.resolved + excluded.resolved,
                        escalated = card_letters.escalated + excluded.escalated",
            )
            .bind(f).bind(y).bind(org).bind(day).bind(issued).bind(resolved).bind(escalated)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// A task's change, measured around the write that makes it.
pub struct TaskMove {
    id: i64,
    before: Option<TaskKey>,
}

impl TaskMove {
    pub async fn start(conn: &mut AnyConnection, id: i64) -> Result<TaskMove> {
        Ok(TaskMove {
            id,
            before: task_key(conn, id).await?,
        })
    }

    /// A task about to be created.
    pub fn new_task(id: i64) -> TaskMove {
        TaskMove { id, before: None }
    }

    pub async fn finish(self, conn: &mut AnyConnection) -> Result<()> {
        let after = task_key(conn, self.id).await?;
        let mut d = Deltas::default();
        d.task(self.before.as_ref(), after.as_ref());
        d.apply(conn).await
    }
}

/// Projects' changes, measured around the write that makes them.
pub struct ProjectMove {
    ids: Vec<i64>,
    before: HashMap<i64, ProjectKey>,
}

impl ProjectMove {
    pub async fn start(conn: &mut AnyConnection, ids: &[i64]) -> Result<ProjectMove> {
        Ok(ProjectMove {
            ids: ids.to_vec(),
            before: project_keys(conn, ids).await?,
        })
    }

    pub async fn finish(self, conn: &mut AnyConnection) -> Result<()> {
        let after = project_keys(conn, &self.ids).await?;
        let mut d = Deltas::default();
        for id in &self.ids {
            d.project(self.before.get(id), after.get(id));
        }
        d.apply(conn).await
    }
}

/// The first day a project's target for `year` was adjusted, as stored now.
pub async fn first_adjustment(
    conn: &mut AnyConnection,
    project: i64,
    year: i64,
) -> Result<Option<String>> {
    let (day,): (Option<String>,) = sqlx::query_as(
        "SELECT MIN(approved_on) FROM plan_adjustments WHERE project_id = $1 AND year = $2",
    )
    .bind(project)
    .bind(year)
    .fetch_one(&mut *conn)
    .await?;
    Ok(day)
}

/// One roll-up table: its columns, which of its rows count (a row whose figures are all zero
/// is the same as no row), and how its rows follow from the raw records.
struct Table {
    name: &'static str,
    columns: &'static str,
    counts: &'static str,
    recompute: &'static str,
}

const TABLES: &[Table] = &[
    Table {
        name: "card_task_counts",
        columns: "framework_id, year, area, status, n",
        counts: "n <> 0",
        recompute: "SELECT framework_id, year, area, status, CAST(COUNT(*) AS BIGINT) FROM tasks GROUP BY framework_id, year, area, status",
    },
    Table {
        name: "card_task_deadlines",
        columns: "framework_id, year, deadline, due, closed_on_time",
        counts: "due <> 0 OR closed_on_time <> 0",
        recompute: "SELECT framework_id, year, deadline, CAST(COUNT(*) AS BIGINT),
                    CAST(SUM(CASE WHEN resolution = 'closed' AND SUBSTR(resolved_at, 1, 10) <= deadline THEN 1 ELSE 0 END) AS BIGINT)
               FROM tasks GROUP BY framework_id, year, deadline",
    },
    Table {
        name: "card_units",
        columns: "framework_id, year, org_id, tasks, projects",
        counts: "tasks <> 0 OR projects <> 0",
        recompute: "SELECT framework_id, year, org_id, CAST(SUM(t) AS BIGINT), CAST(SUM(p) AS BIGINT) FROM (
                SELECT framework_id, year, lead_org_id AS org_id, 1 AS t, 0 AS p FROM tasks
                UNION ALL
                SELECT pr.framework_id, pl.year, u.org_id, 0, 1
                  FROM project_units u JOIN projects pr ON pr.id = u.project_id JOIN project_plans pl ON pl.project_id = pr.id
            ) x GROUP BY framework_id, year, org_id",
    },
    Table {
        name: "card_projects",
        columns: "framework_id, year, stage, added, n, planned_fen",
        counts: "n <> 0 OR planned_fen <> 0",
        recompute: "SELECT framework_id, year, stage, added, CAST(COUNT(*) AS BIGINT), CAST(SUM(planned_fen) AS BIGINT) FROM (
                SELECT pr.framework_id, pl.year, pr.stage,
                       CASE WHEN pr.added_in_year = pl.year THEN 1 ELSE 0 END AS added, pl.planned_fen
                  FROM projects pr JOIN project_plans pl ON pl.project_id = pr.id
            ) x GROUP BY framework_id, year, stage, added",
    },
    Table {
        name: "card_adjusted",
        columns: "framework_id, year, day, n",
        counts: "n <> 0",
        recompute: "SELECT pr.framework_id, a.year, a.first_day, CAST(COUNT(*) AS BIGINT)
              FROM (SELECT project_id, year, MIN(approved_on) AS first_day FROM plan_adjustments GROUP BY project_id, year) a
              JOIN projects pr ON pr.id = a.project_id
             GROUP BY pr.framework_id, a.year, a.first_day",
    },
    Table {
        name: "card_investment",
        columns: "framework_id, month, completed_fen",
        counts: "completed_fen <> 0",
        recompute: "SELECT pr.framework_id, r.month, CAST(SUM(r.completed_fen) AS BIGINT)
              FROM investment_reports r JOIN projects pr ON pr.id = r.project_id
             GROUP BY pr.framework_id, r.month",
    },
    Table {
        name: "card_letters",
        columns: "framework_id, year, org_id, day, issued, resolved, escalated",
        counts: "issued <> 0 OR resolved <> 0 OR escalated <> 0",
        recompute: "SELECT framework_id, year, org_id, day, CAST(SUM(issued) AS BIGINT), CAST(SUM(resolved) AS BIGINT), CAST(SUM(escalated) AS BIGINT) FROM (
                SELECT framework_id, year, addressee_org_id AS org_id, SUBSTR(issued_at, 1, 10) AS day, 1 AS issued, 0 AS resolved, 0 AS escalated
                  FROM letters WHERE issued_at IS NOT NULL
                UNION ALL
                SELECT framework_id, year, addressee_org_id,
                       CASE WHEN SUBSTR(resolved_at, 1, 10) > SUBSTR(issued_at, 1, 10) THEN SUBSTR(resolved_at, 1, 10) ELSE SUBSTR(issued_at, 1, 10) END, 0, 1, 0
                  FROM letters WHERE issued_at IS NOT NULL AND resolved_at IS NOT NULL
                UNION ALL
                SELECT framework_id, year, addressee_org_id,
                       CASE WHEN SUBSTR(escalated_at, 1, 10) > SUBSTR(issued_at, 1, 10) THEN SUBSTR(escalated_at, 1, 10) ELSE SUBSTR(issued_at, 1, 10) END, 0, 0, 1
                  FROM letters WHERE issued_at IS NOT NULL AND escalated_at IS NOT NULL
            ) x GROUP BY framework_id, year, org_id, day",
    },
    Table {
        name: "card_letter_firsts",
        columns: "framework_id, year, kind, subject_id, first_day",
        counts: "first_day IS NOT NULL",
        recompute: "SELECT framework_id, year, 'unit', addressee_org_id, MIN(SUBSTR(issued_at, 1, 10))
              FROM letters WHERE issued_at IS NOT NULL GROUP BY framework_id, year, addressee_org_id
            UNION ALL
            SELECT l.framework_id, l.year, i.subject_kind, i.subject_id, MIN(SUBSTR(l.issued_at, 1, 10))
              FROM letter_items i JOIN letters l ON l.id = i.letter_id
             WHERE l.issued_at IS NOT NULL
             GROUP BY l.framework_id, l.year, i.subject_kind, i.subject_id",
    },
];

/// Every roll-up table with the from-scratch query of its rows.
pub fn recompute_sql() -> Vec<(&'static str, &'static str)> {
    TABLES.iter().map(|t| (t.name, t.recompute)).collect()
}

/// Refills every roll-up from the raw records (after a bulk load, or as a repair), inside the
/// caller's transaction.
pub async fn rebuild(conn: &mut AnyConnection) -> Result<()> {
    for t in TABLES {
        sqlx::query(&format!("DELETE FROM {}", t.name))
            .execute(&mut *conn)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO {} ({}) {}",
            t.name, t.columns, t.recompute
        ))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Per roll-up table, how many rows differ between what is stored and a from-scratch
/// recomputation (both ways); empty when they agree.
pub async fn differences(conn: &mut AnyConnection) -> Result<BTreeMap<&'static str, i64>> {
    let mut out = BTreeMap::new();
    for t in TABLES {
        let (n,): (i64,) = sqlx::query_as(&format!(
            "WITH fresh ({cols}) AS ({recompute}),
                  s AS (SELECT {cols} FROM {name} WHERE {counts}),
                  f AS (SELECT {cols} FROM fresh WHERE {counts})
             SELECT CAST((SELECT COUNT(*) FROM (SELECT * FROM s EXCEPT SELECT * FROM f) AS a)
                       + (SELECT COUNT(*) FROM (SELECT * FROM f EXCEPT SELECT * FROM s) AS b) AS BIGINT)",
            cols = t.columns,
            recompute = t.recompute,
            name = t.name,
            counts = t.counts,
        ))
        .fetch_one(&mut *conn)
        .await?;
        if n != 0 {
            out.insert(t.name, n);
        }
    }
    Ok(out)
}
