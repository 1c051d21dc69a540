-- The cooperation registry: regions, organisations, frameworks, their governance bodies, pairings.
-- Timestamps are RFC 3339 UTC text with milliseconds (sortable); dates are ISO text; flags are 0/1.

CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    parent_code TEXT REFERENCES regions(code),
    level TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    official BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX regions_parent ON regions(parent_code);
CREATE INDEX regions_name_zh ON regions(name_zh);

CREATE TABLE organisations (
    id {{id}},
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    parent_id BIGINT REFERENCES organisations(id),
    source_seed TEXT,
    source_quote TEXT,
    generated BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX organisations_region ON organisations(region_code);
CREATE INDEX organisations_kind ON organisations(kind);
CREATE UNIQUE INDEX organisations_name_region ON organisations(name_zh, region_code);

CREATE TABLE frameworks (
    id {{id}},
    key TEXT NOT NULL UNIQUE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    description_zh TEXT NOT NULL DEFAULT '',
    description_en TEXT NOT NULL DEFAULT '',
    started_on TEXT,
    owner_org_id BIGINT REFERENCES organisations(id),
    public BIGINT NOT NULL DEFAULT 1,
    source_seed TEXT,
    source_quote TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE framework_parties (
    framework_id BIGINT NOT NULL REFERENCES frameworks(id) ON DELETE CASCADE,
    region_code TEXT NOT NULL REFERENCES regions(code),
    PRIMARY KEY (framework_id, region_code)
);

CREATE TABLE bodies (
    id {{id}},
    key TEXT NOT NULL UNIQUE,
    framework_id BIGINT NOT NULL REFERENCES frameworks(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    kind TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    meets_per_year BIGINT,
    organisation_id BIGINT REFERENCES organisations(id),
    source_seed TEXT,
    source_quote TEXT,
    generated BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX bodies_framework ON bodies(framework_id);

-- party_lo/party_hi hold the two parties in sorted order so that A–B and B–A are one pairing.
CREATE TABLE pairings (
    id {{id}},
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    party_a TEXT NOT NULL REFERENCES regions(code),
    party_b TEXT NOT NULL REFERENCES regions(code),
    party_lo TEXT NOT NULL,
    party_hi TEXT NOT NULL,
    started_on TEXT,
    status TEXT NOT NULL,
    note_zh TEXT NOT NULL DEFAULT '',
    note_en TEXT NOT NULL DEFAULT '',
    owner_org_id BIGINT REFERENCES organisations(id),
    source_seed TEXT,
    source_quote TEXT,
    generated BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (party_a <> party_b)
);
CREATE UNIQUE INDEX pairings_unique_pair ON pairings(framework_id, party_lo, party_hi);
CREATE INDEX pairings_party_a ON pairings(party_a);
CREATE INDEX pairings_party_b ON pairings(party_b);
