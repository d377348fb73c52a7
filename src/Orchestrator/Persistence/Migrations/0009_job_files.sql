-- Files a job publishes (evaluation plots, sample grids), by name: the dashboard serves them from the artifact store by
-- (job, name), never from a worker's disk. The artifacts table is keyed by content, so two jobs that publish the same
-- bytes share one stored file but each has its own row here. A name is a plain file name (checked at upload), and a
-- later attempt's file replaces an earlier attempt's of the same name.
CREATE TABLE job_files (
    job_id     uuid NOT NULL REFERENCES jobs (id),
    name       text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    attempt    int NOT NULL,
    sha256     text NOT NULL REFERENCES artifacts (sha256),
    size       bigint NOT NULL CHECK (size >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, name)
);
