-- Closed-loop supervision: meetings and their decisions, task books with owners, milestones and
-- progress reports, and the alerts the lag sweep raises.

CREATE TABLE areas (
    key TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    position BIGINT NOT NULL
);
INSERT INTO areas (key, name_zh, name_en, position) VALUES
    ('modern_industry', '现代产业体系', 'Modern industry', 1),
    ('infrastructure', '基础设施', 'Infrastructure', 2),
    ('science_innovation', '科技创新', 'Science and innovation', 3),
    ('opening_up', '对外开放', 'Opening-up', 4),
    ('ecology', '生态环境', 'Ecology', 5),
    ('public_services', '公共服务', 'Public services', 6),
    ('urban_rural', '城乡融合', 'Urban–rural integration', 7),
    ('reform', '体制机制改革', 'Institutional reform', 8),
    ('other', '其他', 'Other', 9);

CREATE TABLE meetings (
    id {{id}},
    key TEXT UNIQUE,
    body_id BIGINT NOT NULL REFERENCES bodies(id),
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    ordinal BIGINT,
    held_on TEXT,
    place_zh TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL DEFAULT 'unknown',
    host_region TEXT REFERENCES regions(code),
    title_zh TEXT NOT NULL,
    summary_zh TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    source_seed TEXT,
    source_quote TEXT,
    generated BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX meetings_framework ON meetings(framework_id, held_on);

CREATE TABLE meeting_documents (
    id {{id}},
    meeting_id BIGINT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    title_zh TEXT NOT NULL,
    kind TEXT NOT NULL,
    source_seed TEXT,
    source_quote TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE decisions (
    id {{id}},
    key TEXT UNIQUE,
    meeting_id BIGINT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    text_zh TEXT NOT NULL,
    source_seed TEXT,
    source_quote TEXT,
    created_at TEXT NOT NULL
);

-- Items put on a future meeting's agenda (escalations land here).
CREATE TABLE agenda_items (
    id {{id}},
    meeting_id BIGINT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject_kind TEXT,
    subject_id BIGINT,
    text_zh TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE tasks (
    id {{id}},
    code TEXT NOT NULL UNIQUE,
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL DEFAULT '',
    area TEXT NOT NULL REFERENCES areas(key),
    year BIGINT NOT NULL,
    lead_org_id BIGINT NOT NULL REFERENCES organisations(id),
    start_on TEXT NOT NULL,
    deadline TEXT NOT NULL,
    deliverable_zh TEXT NOT NULL DEFAULT '',
    source_kind TEXT NOT NULL,
    decision_id BIGINT REFERENCES decisions(id),
    -- Derived by the rules in domain.rs on every report, resolution and sweep; never typed.
    status TEXT NOT NULL,
    -- Set by a coordinator only: closed (verified) or dropped (with a reason).
    resolution TEXT,
    resolution_reason TEXT NOT NULL DEFAULT '',
    resolved_by TEXT,
    resolved_at TEXT,
    latest_percent BIGINT,
    latest_period TEXT,
    source_seed TEXT,
    source_quote TEXT,
    generated BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (deadline >= start_on)
);
CREATE INDEX tasks_framework_year ON tasks(framework_id, year, area);
CREATE INDEX tasks_framework_status ON tasks(framework_id, status);
CREATE INDEX tasks_lead ON tasks(lead_org_id);
CREATE INDEX tasks_deadline ON tasks(deadline);

CREATE TABLE task_owners (
    task_id BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    role TEXT NOT NULL,
    PRIMARY KEY (task_id, org_id)
);
CREATE INDEX task_owners_org ON task_owners(org_id);

CREATE TABLE milestones (
    id {{id}},
    task_id BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    title_zh TEXT NOT NULL,
    due_on TEXT NOT NULL,
    done_on TEXT
);
CREATE INDEX milestones_task ON milestones(task_id);

-- One report per task and period; a later report for the same period replaces the figures
-- (the audit trail keeps the earlier one).
CREATE TABLE progress_reports (
    id {{id}},
    task_id BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    percent BIGINT NOT NULL,
    narrative_zh TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    CHECK (percent >= 0 AND percent <= 100),
    UNIQUE (task_id, period)
);

CREATE TABLE evidence_files (
    id {{id}},
    report_id BIGINT NOT NULL REFERENCES progress_reports(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content {{blob}} NOT NULL,
    created_at TEXT NOT NULL
);

-- Alerts raised by the lag sweep. At most one open alert per rule and subject; an alert closes
-- by itself when its subject catches up.
CREATE TABLE alerts (
    id {{id}},
    rule TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    unit_org_id BIGINT REFERENCES organisations(id),
    details_zh TEXT NOT NULL,
    details_en TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE UNIQUE INDEX alerts_one_open ON alerts(rule, subject_kind, subject_id) WHERE closed_at IS NULL;
CREATE INDEX alerts_unit ON alerts(unit_org_id, closed_at);

-- Which sweep ran for which scheduled slot: the unique key makes a slot run once across instances.
CREATE TABLE sweep_runs (
    slot TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    opened BIGINT NOT NULL DEFAULT 0,
    closed BIGINT NOT NULL DEFAULT 0
);
