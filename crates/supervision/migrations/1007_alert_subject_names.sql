-- Alerts raised by other features name their subject themselves: a letter lists a pairing by
-- its parties' codes and names, which supervision cannot look up.
ALTER TABLE alerts ADD COLUMN subject_code TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN subject_title_zh TEXT NOT NULL DEFAULT '';
