-- What rank 0 of each attempt resolved for its run (docs/method.md, "Schedules and scale factors"): the noise schedule,
-- the latent scale factor and where it came from, the CompVis configs used, the gate initialisation. One row per
-- attempt; a report sent again replaces it.
CREATE TABLE run_settings (
    job_id              uuid NOT NULL,
    attempt             int NOT NULL,
    beta_start          double precision NOT NULL,
    beta_end            double precision NOT NULL,
    timesteps           int NOT NULL,
    parameterization    text NOT NULL,
    schedule_source     text NOT NULL,
    scale_factor        double precision,
    scale_factor_source text NOT NULL DEFAULT '',
    first_stage         text NOT NULL DEFAULT '',
    model_config        text NOT NULL DEFAULT '',
    teacher_config      text NOT NULL DEFAULT '',
    gate_init           text NOT NULL DEFAULT '',
    reported_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, attempt),
    FOREIGN KEY (job_id, attempt) REFERENCES attempts (job_id, attempt)
);
