-- Templates gain a page setup and a send condition (issue 16); a run whose condition did not
-- hold finishes as `skipped`, with its reason in `error`, and is as immutable as any finished run.
ALTER TABLE report_templates ADD COLUMN page TEXT NOT NULL DEFAULT '{}';
ALTER TABLE report_templates ADD COLUMN send_when TEXT NOT NULL DEFAULT '{}';

ALTER TABLE report_runs DROP CONSTRAINT report_runs_status_check;
ALTER TABLE report_runs ADD CONSTRAINT report_runs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed', 'skipped'));

CREATE OR REPLACE FUNCTION report_runs_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.status IN ('succeeded', 'partial', 'failed', 'skipped') THEN
        RAISE EXCEPTION 'report run is finished and immutable';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
