-- Indexes a burst of schedules showed missing (BENCHMARKS.md, the Monday burst across processes).

-- The tick pages through due schedules in slot order (next_run_at, id), a claim page at a time:
-- each page starts where the due ones are and stops after a page, instead of sorting every due
-- schedule for every page.
CREATE INDEX report_schedules_due_order ON report_schedules(next_run_at, id);

-- A template's latest run (its last status, shown on every template read — the list, the run's
-- claim): one step down this index. The (tenant_id, template_id, queued_at) index could not serve
-- it, so each read sorted the template's runs out of a scan that grew with all runs: 24 ms per read
-- at 100 000 runs, 0.13 ms with this index.
CREATE INDEX report_runs_template_latest ON report_runs(template_id, queued_at, id);
