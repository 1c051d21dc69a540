-- A value's or an activity's framework is its pairing's. One composite foreign key,
-- (pairing_id, framework_id) → pairings (id, framework_id), now says so, where two separate keys
-- (pairing → pairings, framework → frameworks) let the two disagree. It also makes each written
-- row one key check cheaper: a 40,000-figure import checked 160,000 keys on PostgreSQL, and the
-- checks cost more than writing the rows. A pairing with figures or activities can no longer be
-- moved to another framework, which would have left them counted under the old one.
-- Neither engine changes a table's foreign keys in place, so both tables are rebuilt through a
-- plain copy, their rows keep their ids, and new ids continue after the largest.
CREATE UNIQUE INDEX pairings_id_framework ON pairings (id, framework_id);

CREATE TABLE indicator_values_copy AS SELECT * FROM indicator_values;
DROP TABLE indicator_values;
CREATE TABLE indicator_values (
    id {{id}},
    framework_id BIGINT NOT NULL,
    pairing_id BIGINT NOT NULL,
    indicator_id BIGINT NOT NULL REFERENCES indicators(id),
    period TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    month TEXT NOT NULL,
    amount BIGINT NOT NULL,
    entered TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '',
    reporter TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    status TEXT NOT NULL,
    supersedes BIGINT REFERENCES indicator_values(id),
    generated BIGINT NOT NULL DEFAULT 0,
    FOREIGN KEY (pairing_id, framework_id) REFERENCES pairings (id, framework_id)
);
INSERT INTO indicator_values (id, framework_id, pairing_id, indicator_id, period, period_start, period_end, month,
                              amount, entered, evidence, reporter, reported_at, status, supersedes, generated)
    SELECT id, framework_id, pairing_id, indicator_id, period, period_start, period_end, month,
           amount, entered, evidence, reporter, reported_at, status, supersedes, generated
      FROM indicator_values_copy ORDER BY id;
DROP TABLE indicator_values_copy;
CREATE UNIQUE INDEX indicator_values_current ON indicator_values (pairing_id, indicator_id, period) WHERE status = 'current';
CREATE INDEX indicator_values_framework_end ON indicator_values (framework_id, period_end);
CREATE INDEX indicator_values_pairing_end ON indicator_values (pairing_id, period_end);
{{resume_ids:indicator_values}};

CREATE TABLE activities_copy AS SELECT * FROM activities;
DROP TABLE activities;
CREATE TABLE activities (
    id {{id}},
    framework_id BIGINT NOT NULL,
    pairing_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    occurred_on TEXT NOT NULL,
    ended_on TEXT,
    month TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    direction TEXT NOT NULL DEFAULT '',
    headcount BIGINT NOT NULL DEFAULT 0,
    amount BIGINT NOT NULL DEFAULT 0,
    area_mu BIGINT NOT NULL DEFAULT 0,
    weight_kg BIGINT NOT NULL DEFAULT 0,
    batch BIGINT,
    from_org_id BIGINT REFERENCES organisations(id),
    to_org_id BIGINT REFERENCES organisations(id),
    post TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    generated BIGINT NOT NULL DEFAULT 0,
    source_quote TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    FOREIGN KEY (pairing_id, framework_id) REFERENCES pairings (id, framework_id)
);
INSERT INTO activities (id, framework_id, pairing_id, kind, category, occurred_on, ended_on, month, title_zh,
                        direction, headcount, amount, area_mu, weight_kg, batch, from_org_id, to_org_id, post,
                        note, generated, source_quote, created_by, created_at)
    SELECT id, framework_id, pairing_id, kind, category, occurred_on, ended_on, month, title_zh,
           direction, headcount, amount, area_mu, weight_kg, batch, from_org_id, to_org_id, post,
           note, generated, source_quote, created_by, created_at
      FROM activities_copy ORDER BY id;
DROP TABLE activities_copy;
CREATE INDEX activities_pairing ON activities (pairing_id, kind, occurred_on);
CREATE INDEX activities_pairing_day ON activities (pairing_id, occurred_on);
CREATE INDEX activities_framework_day ON activities (framework_id, occurred_on, pairing_id, kind, category, headcount, amount, area_mu, weight_kg);
{{resume_ids:activities}};
