-- The first stage of each latent job (first_stage.config of its spec; empty rows are not listed), for run history
-- dashboards: join on job_id with the runs view.
CREATE VIEW run_first_stages AS
SELECT j.id AS job_id,
       j.spec_json -> 'firstStage' ->> 'config' AS first_stage,
       j.spec_json -> 'firstStage' ->> 'checkpoint' AS first_stage_checkpoint,
       (j.spec_json -> 'firstStage' ->> 'scaleFactor')::double precision AS scale_factor
FROM jobs j
WHERE j.spec_json ? 'firstStage';
