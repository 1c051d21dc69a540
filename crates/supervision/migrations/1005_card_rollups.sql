-- The report card's roll-ups (store/rollups.rs): small counters and sums per framework and year,
-- moved in the transaction of every write that changes what they count, so a card reads a few
-- dozen rows instead of re-aggregating the year's records. Figures that are read "as of" a day
-- are kept by day (or month), and the card sums the rows up to that day. Filled here from what
-- is already stored; `rollups::rebuild` does the same after a bulk load.

-- Tasks by area and current status.
CREATE TABLE card_task_counts (
    framework_id BIGINT NOT NULL,
    year BIGINT NOT NULL,
    area TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (framework_id, year, area, status)
);

-- Tasks by deadline, and of those the ones closed no later than their deadline.
CREATE TABLE card_task_deadlines (
    framework_id BIGINT NOT NULL,
    year BIGINT NOT NULL,
    deadline TEXT NOT NULL,
    due BIGINT NOT NULL,
    closed_on_time BIGINT NOT NULL,
    PRIMARY KEY (framework_id, year, deadline)
);

-- The per-unit table: tasks a unit leads, projects (with a plan that year) it is responsible for.
CREATE TABLE card_units (
    framework_id BIGINT NOT NULL,
    year BIGINT NOT NULL,
    org_id BIGINT NOT NULL,
    tasks BIGINT NOT NULL,
    projects BIGINT NOT NULL,
    PRIMARY KEY (framework_id, year, org_id)
);

-- Projects with a plan for the year, by current stage and whether added that year (增补).
CREATE TABLE card_projects (
    framework_id BIGINT NOT NULL,
    year BIGINT NOT NULL,
    stage TEXT NOT NULL,
    added BIGINT NOT NULL,
    n BIGINT NOT NULL,
    planned_fen BIGINT NOT NULL,
    PRIMARY KEY (framework_id, year, stage, added)
);

-- Projects whose year's target was first adjusted on a day.
CREATE TABLE card_adjusted (
    framework_id BIGINT NOT NULL,
    year BIGINT NOT NULL,
    day TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (framework_id, year, day)
);

-- Completed investment of the framework's projects by month.
CREATE TABLE card_investment (
    framework_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    completed_fen BIGINT NOT NULL,
    PRIMARY KEY (framework_id, month)
);

-- Letters by addressee and the day (UTC, as their timestamps) from which each counts: issued on
-- the day of issue; resolved and escalated from the later of that day and the day of issue.
CREATE TABLE card_letters (
    framework_id BIGINT NOT NULL,
    year BIGINT NOT NULL,
    org_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    issued BIGINT NOT NULL,
    resolved BIGINT NOT NULL,
    escalated BIGINT NOT NULL,
    PRIMARY KEY (framework_id, year, org_id, day)
);

-- The first day each unit received an issued letter, and each task and project was first listed
-- in one: the distinct counts as of a day are the rows up to that day.
CREATE TABLE card_letter_firsts (
    framework_id BIGINT NOT NULL,
    year BIGINT NOT NULL,
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    first_day TEXT NOT NULL,
    PRIMARY KEY (framework_id, year, kind, subject_id)
);
CREATE INDEX card_letter_firsts_day ON card_letter_firsts (framework_id, year, kind, first_day);

INSERT INTO card_task_counts (framework_id, year, area, status, n)
SELECT framework_id, year, area, status, COUNT(*) FROM tasks GROUP BY framework_id, year, area, status;

INSERT INTO card_task_deadlines (framework_id, year, deadline, due, closed_on_time)
SELECT framework_id, year, deadline, COUNT(*),
       SUM(CASE WHEN resolution = 'closed' AND SUBSTR(resolved_at, 1, 10) <= deadline THEN 1 ELSE 0 END)
  FROM tasks GROUP BY framework_id, year, deadline;

INSERT INTO card_units (framework_id, year, org_id, tasks, projects)
SELECT framework_id, year, org_id, SUM(t), SUM(p) FROM (
    SELECT framework_id, year, lead_org_id AS org_id, 1 AS t, 0 AS p FROM tasks
    UNION ALL
    SELECT pr.framework_id, pl.year, u.org_id, 0, 1
      FROM project_units u JOIN projects pr ON pr.id = u.project_id JOIN project_plans pl ON pl.project_id = pr.id
) x GROUP BY framework_id, year, org_id;

INSERT INTO card_projects (framework_id, year, stage, added, n, planned_fen)
SELECT framework_id, year, stage, added, COUNT(*), SUM(planned_fen) FROM (
    SELECT pr.framework_id, pl.year, pr.stage,
           CASE WHEN pr.added_in_year = pl.year THEN 1 ELSE 0 END AS added, pl.planned_fen
      FROM projects pr JOIN project_plans pl ON pl.project_id = pr.id
) x GROUP BY framework_id, year, stage, added;

INSERT INTO card_adjusted (framework_id, year, day, n)
SELECT pr.framework_id, a.year, a.first_day, COUNT(*)
  FROM (SELECT project_id, year, MIN(approved_on) AS first_day FROM plan_adjustments GROUP BY project_id, year) a
  JOIN projects pr ON pr.id = a.project_id
 GROUP BY pr.framework_id, a.year, a.first_day;

INSERT INTO card_investment (framework_id, month, completed_fen)
SELECT pr.framework_id, r.month, SUM(r.completed_fen)
  FROM investment_reports r JOIN projects pr ON pr.id = r.project_id
 GROUP BY pr.framework_id, r.month;

INSERT INTO card_letters (framework_id, year, org_id, day, issued, resolved, escalated)
SELECT framework_id, year, org_id, day, SUM(issued), SUM(resolved), SUM(escalated) FROM (
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
) x GROUP BY framework_id, year, org_id, day;

INSERT INTO card_letter_firsts (framework_id, year, kind, subject_id, first_day)
SELECT framework_id, year, 'unit', addressee_org_id, MIN(SUBSTR(issued_at, 1, 10))
  FROM letters WHERE issued_at IS NOT NULL GROUP BY framework_id, year, addressee_org_id;

INSERT INTO card_letter_firsts (framework_id, year, kind, subject_id, first_day)
SELECT l.framework_id, l.year, i.subject_kind, i.subject_id, MIN(SUBSTR(l.issued_at, 1, 10))
  FROM letter_items i JOIN letters l ON l.id = i.letter_id
 WHERE l.issued_at IS NOT NULL
 GROUP BY l.framework_id, l.year, i.subject_kind, i.subject_id;
