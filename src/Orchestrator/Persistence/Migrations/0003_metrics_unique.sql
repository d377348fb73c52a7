-- A metric point is recorded once per (job, attempt, step, name): a report sent again because its answer was lost
-- (an orchestrator killed after it committed) changes nothing. Duplicates stored before this migration are removed,
-- keeping the first row of each point.
DELETE FROM metrics m USING metrics d
WHERE m.job_id = d.job_id AND m.attempt = d.attempt AND m.step = d.step AND m.name = d.name AND m.ctid > d.ctid;

CREATE UNIQUE INDEX metrics_point ON metrics (job_id, attempt, step, name);
