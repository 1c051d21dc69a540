-- The roll-ups lose their foreign keys and the (framework, indicator, month) index. Their keys
-- are copied from values and activities, whose own foreign keys hold them (and keep a pairing
-- with figures from being deleted); checking them again on every roll-up row written cost more
-- on PostgreSQL than writing the row. A framework's monthly chart of one indicator reads the
-- covering snapshot index instead. Neither engine drops a foreign key in place, so the table is
-- rebuilt (through a plain copy, so that the new table's key keeps its usual name).
CREATE TABLE indicator_rollups_copy AS
    SELECT pairing_id, indicator_id, month, framework_id, own_amount, cum_amount FROM indicator_rollups;
DROP TABLE indicator_rollups;
CREATE TABLE indicator_rollups (
    pairing_id BIGINT NOT NULL,
    indicator_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    framework_id BIGINT NOT NULL,
    own_amount BIGINT NOT NULL,
    cum_amount BIGINT NOT NULL,
    PRIMARY KEY (pairing_id, indicator_id, month)
);
INSERT INTO indicator_rollups (pairing_id, indicator_id, month, framework_id, own_amount, cum_amount)
    SELECT pairing_id, indicator_id, month, framework_id, own_amount, cum_amount FROM indicator_rollups_copy;
DROP TABLE indicator_rollups_copy;
CREATE INDEX indicator_rollups_snapshot ON indicator_rollups (framework_id, month, pairing_id, indicator_id, cum_amount);
