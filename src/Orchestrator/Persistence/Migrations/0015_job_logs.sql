-- Job logs: the lines each rank of an attempt shipped, kept per (job, attempt, rank) with a cap that keeps the head and
-- the tail. A stream counts every line it received (`received`); line n is kept while n <= head or n > received - tail,
-- so the omitted middle is received - head - tail lines when positive. `dropped` counts lines the worker's bounded
-- queue lost before shipping.
CREATE TABLE job_log_streams (
    job_id    uuid NOT NULL REFERENCES jobs (id),
    attempt   int NOT NULL,
    rank      int NOT NULL,
    received  bigint NOT NULL DEFAULT 0 CHECK (received >= 0),
    dropped   bigint NOT NULL DEFAULT 0 CHECK (dropped >= 0),
    PRIMARY KEY (job_id, attempt, rank)
);

-- `id` is arrival order across ranks (readers follow it); `sequence` is the line's place in its stream.
CREATE TABLE job_log_lines (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id    uuid NOT NULL,
    attempt   int NOT NULL,
    rank      int NOT NULL,
    sequence  bigint NOT NULL CHECK (sequence >= 1),
    logged_at timestamptz NOT NULL,
    level     text NOT NULL,
    text      text NOT NULL,
    FOREIGN KEY (job_id, attempt, rank) REFERENCES job_log_streams (job_id, attempt, rank),
    UNIQUE (job_id, attempt, rank, sequence)
);
CREATE INDEX job_log_lines_job ON job_log_lines (job_id, id);
