-- Roll-ups become dense: every pairing–indicator series has a row for each month from its first
-- figure through its framework's horizon, so a card as of any month reads one index range.
CREATE TABLE indicator_rollup_horizons (
    framework_id BIGINT PRIMARY KEY REFERENCES frameworks(id),
    month TEXT NOT NULL
);
CREATE INDEX indicator_rollups_snapshot ON indicator_rollups (framework_id, month, pairing_id, indicator_id, cum_amount);
-- The records of a card's as-of month so far are grouped straight from the index, without
-- visiting the table's rows.
DROP INDEX activities_framework_day;
CREATE INDEX activities_framework_day ON activities (framework_id, occurred_on, pairing_id, kind, category, headcount, amount, area_mu, weight_kg);
