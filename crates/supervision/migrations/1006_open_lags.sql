-- Each subject's open lags on its own row, as a bitmask of rules: a set bit means an open alert
-- of that rule. Tasks: 1 past_deadline, 2 report_missing, 4 milestone_overdue, 8 behind.
-- Projects: 1 behind_plan, 2 not_started. The sweep and closing a task move the bits in the
-- transaction that opens or closes the alerts, so the sweep reads one row per subject and
-- never the whole alerts table. The alerts stay the record letters and pages read.
ALTER TABLE tasks ADD COLUMN open_lags BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN open_lags BIGINT NOT NULL DEFAULT 0;

UPDATE tasks SET open_lags = (
    SELECT CAST(COALESCE(SUM(CASE a.rule
        WHEN 'past_deadline' THEN 1
        WHEN 'report_missing' THEN 2
        WHEN 'milestone_overdue' THEN 4
        WHEN 'behind' THEN 8
        ELSE 0 END), 0) AS BIGINT)
      FROM alerts a
     WHERE a.closed_at IS NULL AND a.subject_kind = 'task' AND a.subject_id = tasks.id)
 WHERE id IN (SELECT subject_id FROM alerts WHERE closed_at IS NULL AND subject_kind = 'task');

UPDATE projects SET open_lags = (
    SELECT CAST(COALESCE(SUM(CASE a.rule
        WHEN 'behind_plan' THEN 1
        WHEN 'not_started' THEN 2
        ELSE 0 END), 0) AS BIGINT)
      FROM alerts a
     WHERE a.closed_at IS NULL AND a.subject_kind = 'project' AND a.subject_id = projects.id)
 WHERE id IN (SELECT subject_id FROM alerts WHERE closed_at IS NULL AND subject_kind = 'project');

-- (framework_id, status, deadline, id) serves every query this one did, and each status the
-- sweep changes no longer has to move an entry in both.
DROP INDEX tasks_framework_status;
