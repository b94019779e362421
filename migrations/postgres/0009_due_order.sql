-- The tick pages through due schedules in slot order (next_run_at, id), a claim page at a time:
-- this index lets each page start where the due ones are and stop after a page, instead of
-- sorting every due schedule for every page of a large burst.
CREATE INDEX report_schedules_due_order ON report_schedules(next_run_at, id);
