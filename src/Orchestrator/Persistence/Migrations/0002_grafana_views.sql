-- Views a Grafana PostgreSQL data source charts (deploy/grafana/dashboards/spectral.json).

-- One row per job with its duration and the last value of its main losses.
CREATE VIEW runs AS
SELECT j.id AS job_id,
       j.name,
       lower(j.type) AS type,
       lower(j.state) AS state,
       j.preset,
       j.teacher_preset,
       j.world_size,
       j.attempt AS attempts,
       j.progress_step AS steps,
       (j.progress_metrics ->> 'loss')::double precision AS final_loss,
       j.created_at,
       j.started_at,
       j.finished_at,
       extract(epoch FROM coalesce(j.finished_at, now()) - coalesce(j.started_at, j.created_at)) AS duration_seconds,
       j.labels,
       j.failure_reason,
       j.result_artifact
FROM jobs j;

-- Loss curves: every loss-like metric of rank 0, against step and wall time.
CREATE VIEW loss_curves AS
SELECT m.recorded_at AS "time",
       m.job_id,
       j.name AS job_name,
       j.preset,
       m.attempt,
       m.step,
       m.name AS metric,
       m.value
FROM metrics m
JOIN jobs j ON j.id = m.job_id
WHERE m.rank = 0 AND m.name LIKE 'loss%';

-- FID and frequency errors by preset: the latest, best and mean over evaluations.
CREATE VIEW fid_by_preset AS
SELECT e.preset,
       count(*) AS evaluations,
       min(e.fid) AS best_fid,
       avg(e.fid) AS mean_fid,
       (array_agg(e.fid ORDER BY e.created_at DESC))[1] AS latest_fid,
       avg(e.low_frequency_error) AS mean_low_frequency_error,
       avg(e.high_frequency_error) AS mean_high_frequency_error,
       max(e.created_at) AS last_evaluated_at
FROM evaluations e
GROUP BY e.preset;
