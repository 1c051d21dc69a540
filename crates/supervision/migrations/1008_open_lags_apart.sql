-- Each task's and project's open-lag bits move out of its row into a narrow table of their own,
-- holding a row only while a subject has open alerts. On PostgreSQL a changed bit rewrote the
-- whole task row with an entry in each of its indexes, and left a dead version that every read
-- of the page stepped over until vacuum: a first sweep over a national register rewrote
-- 160,000 tasks for their bits alone. The bits still move with the alerts in one transaction.
CREATE TABLE task_open_lags (
    task_id BIGINT PRIMARY KEY REFERENCES tasks(id),
    bits BIGINT NOT NULL
);
CREATE TABLE project_open_lags (
    project_id BIGINT PRIMARY KEY REFERENCES projects(id),
    bits BIGINT NOT NULL
);
INSERT INTO task_open_lags (task_id, bits) SELECT id, open_lags FROM tasks WHERE open_lags <> 0;
INSERT INTO project_open_lags (project_id, bits) SELECT id, open_lags FROM projects WHERE open_lags <> 0;
ALTER TABLE tasks DROP COLUMN open_lags;
ALTER TABLE projects DROP COLUMN open_lags;
