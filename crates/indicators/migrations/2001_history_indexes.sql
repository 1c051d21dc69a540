-- A pairing's page lists its newest values and activities: read them by index, newest first.
CREATE INDEX indicator_values_pairing_end ON indicator_values (pairing_id, period_end);
CREATE INDEX activities_pairing_day ON activities (pairing_id, occurred_on);
