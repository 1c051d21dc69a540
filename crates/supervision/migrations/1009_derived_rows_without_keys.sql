-- The sweep's own rows carry no foreign keys, like the indicators' roll-ups: an alert copies its
-- framework and unit, and an open-lag row its subject, from task, project and pairing rows read
-- in the same transaction, and those rows carry the keys. No framework, organisation, task or
-- project is ever deleted (tasks and projects close or are dropped), so the keys guarded nothing
-- the writer does not already ensure. Their price was a check per written row, which PostgreSQL
-- makes by locking the referenced row: a first sweep over a national register spent 1.4 of its
-- 3.6 s checking 148,000 alerts and 115,000 open-lag rows. `sweep::dangling_references` finds
-- any row naming a missing record; the tests run it after every kind of write.
-- Neither engine drops a foreign key in place, so the tables are rebuilt through a plain copy and
-- keep their ids. A letter's items, which point at alerts and keep that key, are rebuilt with them.
CREATE TABLE letter_items_copy AS SELECT * FROM letter_items;
CREATE TABLE alerts_copy AS SELECT * FROM alerts;
DROP TABLE letter_items;
DROP TABLE alerts;

CREATE TABLE alerts (
    id {{id}},
    rule TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    framework_id BIGINT NOT NULL,
    unit_org_id BIGINT,
    details_zh TEXT NOT NULL,
    details_en TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    subject_code TEXT NOT NULL DEFAULT '',
    subject_title_zh TEXT NOT NULL DEFAULT ''
);
INSERT INTO alerts (id, rule, subject_kind, subject_id, framework_id, unit_org_id, details_zh, details_en,
                    opened_at, closed_at, subject_code, subject_title_zh)
    SELECT id, rule, subject_kind, subject_id, framework_id, unit_org_id, details_zh, details_en,
           opened_at, closed_at, subject_code, subject_title_zh
      FROM alerts_copy ORDER BY id;
DROP TABLE alerts_copy;
-- The indexes lead with the subject's id: an integer compares at once where the rule's text took
-- a locale call on PostgreSQL, and a task's or project's page reads its alerts, open or closed,
-- from the second index instead of scanning every alert.
CREATE UNIQUE INDEX alerts_one_open ON alerts(subject_id, subject_kind, rule) WHERE closed_at IS NULL;
CREATE INDEX alerts_subject ON alerts(subject_id, subject_kind);
CREATE INDEX alerts_unit ON alerts(unit_org_id, closed_at);
{{resume_ids:alerts}};

CREATE TABLE letter_items (
    letter_id BIGINT NOT NULL REFERENCES letters(id) ON DELETE CASCADE,
    alert_id BIGINT NOT NULL REFERENCES alerts(id),
    subject_kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    subject_code TEXT NOT NULL,
    subject_title_zh TEXT NOT NULL,
    details_zh TEXT NOT NULL,
    PRIMARY KEY (letter_id, alert_id)
);
INSERT INTO letter_items (letter_id, alert_id, subject_kind, subject_id, subject_code, subject_title_zh, details_zh)
    SELECT letter_id, alert_id, subject_kind, subject_id, subject_code, subject_title_zh, details_zh
      FROM letter_items_copy;
DROP TABLE letter_items_copy;
CREATE INDEX letter_items_alert ON letter_items(alert_id);

CREATE TABLE task_open_lags_copy AS SELECT * FROM task_open_lags;
DROP TABLE task_open_lags;
CREATE TABLE task_open_lags (
    task_id BIGINT PRIMARY KEY,
    bits BIGINT NOT NULL
);
INSERT INTO task_open_lags (task_id, bits) SELECT task_id, bits FROM task_open_lags_copy;
DROP TABLE task_open_lags_copy;

CREATE TABLE project_open_lags_copy AS SELECT * FROM project_open_lags;
DROP TABLE project_open_lags;
CREATE TABLE project_open_lags (
    project_id BIGINT PRIMARY KEY,
    bits BIGINT NOT NULL
);
INSERT INTO project_open_lags (project_id, bits) SELECT project_id, bits FROM project_open_lags_copy;
DROP TABLE project_open_lags_copy;
