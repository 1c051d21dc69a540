-- Indicators: the catalogue, which indicators each framework reports, agreements and targets,
-- reported values (with corrections), activities, and the roll-ups kept current on every write.

CREATE TABLE indicators (
    id {{id}},
    code TEXT NOT NULL UNIQUE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    unit TEXT NOT NULL,
    combine TEXT NOT NULL,
    basis_code TEXT,
    higher_is_better BIGINT NOT NULL DEFAULT 1,
    plausible_max BIGINT,
    source_quote TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE framework_indicators (
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    indicator_id BIGINT NOT NULL REFERENCES indicators(id),
    position BIGINT NOT NULL,
    PRIMARY KEY (framework_id, indicator_id)
);

CREATE TABLE agreements (
    id {{id}},
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    pairing_id BIGINT REFERENCES pairings(id),
    kind TEXT NOT NULL,
    year BIGINT NOT NULL,
    title_zh TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    text_zh TEXT NOT NULL DEFAULT '',
    generated BIGINT NOT NULL DEFAULT 0,
    source_quote TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX agreements_framework ON agreements (framework_id, year);
CREATE UNIQUE INDEX agreements_one_annual ON agreements (pairing_id, year, kind);

CREATE TABLE indicator_targets (
    pairing_id BIGINT NOT NULL REFERENCES pairings(id),
    year BIGINT NOT NULL,
    indicator_id BIGINT NOT NULL REFERENCES indicators(id),
    amount BIGINT NOT NULL,
    agreement_id BIGINT REFERENCES agreements(id),
    PRIMARY KEY (pairing_id, year, indicator_id)
);

CREATE TABLE indicator_values (
    id {{id}},
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    pairing_id BIGINT NOT NULL REFERENCES pairings(id),
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
    generated BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX indicator_values_current ON indicator_values (pairing_id, indicator_id, period) WHERE status = 'current';
CREATE INDEX indicator_values_framework_end ON indicator_values (framework_id, period_end);

CREATE TABLE activities (
    id {{id}},
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    pairing_id BIGINT NOT NULL REFERENCES pairings(id),
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
    created_at TEXT NOT NULL
);
CREATE INDEX activities_pairing ON activities (pairing_id, kind, occurred_on);
CREATE INDEX activities_framework_day ON activities (framework_id, occurred_on);

-- One row per pairing, indicator and month with anything in it: that month's own amount and the
-- running total through it (for stocks: the month's latest value). Kept in the writing transaction.
CREATE TABLE indicator_rollups (
    pairing_id BIGINT NOT NULL REFERENCES pairings(id),
    indicator_id BIGINT NOT NULL REFERENCES indicators(id),
    month TEXT NOT NULL,
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    own_amount BIGINT NOT NULL,
    cum_amount BIGINT NOT NULL,
    PRIMARY KEY (pairing_id, indicator_id, month)
);
CREATE INDEX indicator_rollups_framework ON indicator_rollups (framework_id, indicator_id, month);

CREATE TABLE report_card_publications (
    id {{id}},
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    as_of TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published_at TEXT NOT NULL,
    UNIQUE (framework_id, as_of)
);
