-- Warning letters (提示函): drafted from open alerts, numbered per issuer and year when issued,
-- then acknowledged, answered with a rectification plan, resolved — or escalated onto the
-- agenda of the next coordination-level meeting.

CREATE TABLE letter_counters (
    issuer TEXT NOT NULL,
    year BIGINT NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (issuer, year)
);

CREATE TABLE letters (
    id {{id}},
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    issuer TEXT NOT NULL,
    year BIGINT NOT NULL,
    number BIGINT,
    addressee_org_id BIGINT NOT NULL REFERENCES organisations(id),
    status TEXT NOT NULL,
    subject_zh TEXT NOT NULL,
    body_zh TEXT NOT NULL,
    response_due TEXT NOT NULL,
    drafted_by TEXT NOT NULL,
    issued_at TEXT,
    acknowledged_at TEXT,
    responded_at TEXT,
    response_zh TEXT NOT NULL DEFAULT '',
    resolved_at TEXT,
    escalated_at TEXT,
    agenda_meeting_id BIGINT REFERENCES meetings(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (issuer, year, number)
);
CREATE INDEX letters_addressee ON letters(addressee_org_id, status);
CREATE INDEX letters_framework ON letters(framework_id, status);

-- The lagging items a letter lists, as they stood when it was drafted (a letter never changes).
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
CREATE INDEX letter_items_alert ON letter_items(alert_id);
