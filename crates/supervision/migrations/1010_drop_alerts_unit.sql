-- No query reads alerts by unit: letters are drafted from a framework's open alerts, pages read
-- a subject's alerts, and the inbox reads letters. The index on (unit_org_id, closed_at) was
-- never used (PostgreSQL counted no scan of it) and every alert a sweep opens paid for an entry.
DROP INDEX alerts_unit;
