-- The task list filters by framework and status and pages in deadline order: read it in that
-- order from the index instead of sorting every matching task.
CREATE INDEX tasks_framework_status_deadline ON tasks (framework_id, status, deadline, id);
