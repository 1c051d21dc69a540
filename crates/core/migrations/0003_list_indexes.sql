-- Indexes for the filtered lists: pairings by framework (and status), in list order.
CREATE INDEX pairings_framework_status ON pairings(framework_id, status, id);
