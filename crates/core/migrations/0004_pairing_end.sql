-- A pairing's life has an end: figures for periods after it are refused, those before stay
-- open to correction.
ALTER TABLE pairings ADD COLUMN ended_on TEXT;
