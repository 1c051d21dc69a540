-- The major-project register (重大项目): stages as dated events, responsible units, annual plans
-- (original and adjusted), monthly completed investment. Money is integer fen.

CREATE TABLE projects (
    id {{id}},
    code TEXT NOT NULL UNIQUE,
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    name_zh TEXT NOT NULL,
    stage TEXT NOT NULL,
    total_investment_fen BIGINT NOT NULL DEFAULT 0,
    leader_zh TEXT NOT NULL DEFAULT '',
    -- The year the project was added to the register mid-year (增补), if it was.
    added_in_year BIGINT,
    source_seed TEXT,
    source_quote TEXT,
    generated BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (total_investment_fen >= 0)
);
CREATE INDEX projects_framework_stage ON projects(framework_id, stage);

CREATE TABLE project_regions (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    region_code TEXT NOT NULL REFERENCES regions(code),
    PRIMARY KEY (project_id, region_code)
);

CREATE TABLE project_units (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    position BIGINT NOT NULL,
    PRIMARY KEY (project_id, org_id)
);
CREATE INDEX project_units_org ON project_units(org_id);

CREATE TABLE stage_events (
    id {{id}},
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    on_date TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX stage_events_project ON stage_events(project_id, on_date);

-- One plan per project and year. completed_fen is the sum of that year's monthly reports, kept
-- current in the transaction that writes a report, so lag checks and report cards never re-sum.
CREATE TABLE project_plans (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    year BIGINT NOT NULL,
    original_fen BIGINT NOT NULL,
    planned_fen BIGINT NOT NULL,
    planned_start_on TEXT,
    planned_completion_on TEXT,
    completed_fen BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, year),
    CHECK (original_fen >= 0 AND planned_fen >= 0 AND completed_fen >= 0)
);

CREATE TABLE plan_adjustments (
    id {{id}},
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    year BIGINT NOT NULL,
    from_fen BIGINT NOT NULL,
    to_fen BIGINT NOT NULL,
    reason_zh TEXT NOT NULL,
    approver_zh TEXT NOT NULL,
    approved_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX plan_adjustments_project ON plan_adjustments(project_id, year);

CREATE TABLE investment_reports (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    completed_fen BIGINT NOT NULL,
    reported_by TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    PRIMARY KEY (project_id, month),
    CHECK (completed_fen >= 0)
);
