-- The orchestrator's source of truth. States are upper-case proto names without the prefix.

CREATE TABLE jobs (
    id               uuid PRIMARY KEY,
    seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,   -- FIFO order and list paging
    name             text NOT NULL,
    type             text NOT NULL CHECK (type IN ('TRAIN', 'DISTILL', 'EVALUATE')),
    state            text NOT NULL CHECK (state IN ('QUEUED', 'SCHEDULED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    spec             bytea NOT NULL,              -- the JobSpec protobuf, exactly as accepted
    spec_json        jsonb NOT NULL,              -- the same, readable by SQL and Grafana
    preset           text NOT NULL,
    teacher_preset   text NOT NULL DEFAULT '',
    device           text NOT NULL CHECK (device IN ('cpu', 'cuda')),
    world_size       int NOT NULL CHECK (world_size > 0),
    priority         int NOT NULL DEFAULT 0,
    max_restarts     int NOT NULL CHECK (max_restarts >= 0),
    labels           jsonb NOT NULL DEFAULT '{}',
    depends_on       uuid[] NOT NULL DEFAULT '{}', -- jobs whose final model this one needs (ModelSpec.checkpoint = job:<id>)
    attempt          int NOT NULL DEFAULT 0,
    restarts         int NOT NULL DEFAULT 0,
    failure_reason   text NOT NULL DEFAULT '',
    resume_step      bigint NOT NULL DEFAULT 0,
    result_artifact  text NOT NULL DEFAULT '',
    progress_step    bigint NOT NULL DEFAULT 0,
    progress_total   bigint NOT NULL DEFAULT 0,
    progress_phase   text NOT NULL DEFAULT '',
    steps_per_second double precision NOT NULL DEFAULT 0,
    progress_metrics jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_queue ON jobs (priority DESC, seq) WHERE state = 'QUEUED';
CREATE INDEX jobs_state ON jobs (state);

-- One row per scheduling of a job. At most one live (scheduled or running) attempt per job.
CREATE TABLE attempts (
    job_id               uuid NOT NULL REFERENCES jobs (id),
    attempt              int NOT NULL,
    state                text NOT NULL CHECK (state IN ('scheduled', 'running', 'succeeded', 'aborted', 'cancelled')),
    world_size           int NOT NULL,
    rendezvous_id        uuid NOT NULL UNIQUE,
    resume_checkpoint_id uuid,
    started_at           timestamptz NOT NULL DEFAULT now(),
    ended_at             timestamptz,
    end_reason           text NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, attempt)
);
CREATE UNIQUE INDEX attempts_one_live_per_job ON attempts (job_id) WHERE state IN ('scheduled', 'running');

CREATE TABLE workers (
    id                uuid PRIMARY KEY,
    name              text NOT NULL,
    node              text NOT NULL,
    device            text NOT NULL CHECK (device IN ('cpu', 'cuda')),
    device_index      int NOT NULL DEFAULT 0,
    address           text NOT NULL DEFAULT '',
    labels            jsonb NOT NULL DEFAULT '{}',
    version           text NOT NULL DEFAULT '',
    state             text NOT NULL CHECK (state IN ('idle', 'busy', 'lost', 'gone')),
    job_id            uuid,
    attempt           int,
    rank              int,
    registered_at     timestamptz NOT NULL DEFAULT now(),
    last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
    lease_expires_at  timestamptz NOT NULL,
    ended_reason      text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX workers_live_name ON workers (name) WHERE state IN ('idle', 'busy');
CREATE INDEX workers_free ON workers (device, registered_at) WHERE state = 'idle';

-- The ranks of an attempt, the worker that runs each and what it reported at the end.
CREATE TABLE attempt_ranks (
    job_id         uuid NOT NULL,
    attempt        int NOT NULL,
    rank           int NOT NULL,
    worker_id      uuid NOT NULL REFERENCES workers (id),
    completed      boolean NOT NULL DEFAULT false,
    succeeded      boolean NOT NULL DEFAULT false,
    error          text NOT NULL DEFAULT '',
    final_artifact text NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, attempt, rank),
    FOREIGN KEY (job_id, attempt) REFERENCES attempts (job_id, attempt)
);

CREATE TABLE metrics (
    job_id      uuid NOT NULL REFERENCES jobs (id),
    attempt     int NOT NULL,
    rank        int NOT NULL,
    step        bigint NOT NULL,
    name        text NOT NULL,
    value       double precision NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX metrics_series ON metrics (job_id, name, step);

-- Content-addressed files under Orchestrator:ArtifactRoot.
CREATE TABLE artifacts (
    sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size       bigint NOT NULL CHECK (size >= 0),
    kind       text NOT NULL CHECK (kind IN ('checkpoint_shard', 'model', 'file')),
    name       text NOT NULL DEFAULT '',
    job_id     uuid REFERENCES jobs (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A checkpoint manifest: complete only once every one of world_size shards is stored.
CREATE TABLE checkpoints (
    id           uuid PRIMARY KEY,
    job_id       uuid NOT NULL REFERENCES jobs (id),
    attempt      int NOT NULL,
    step         bigint NOT NULL CHECK (step >= 0),
    world_size   int NOT NULL CHECK (world_size > 0),
    complete     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    UNIQUE (job_id, attempt, step)
);

CREATE TABLE checkpoint_shards (
    checkpoint_id uuid NOT NULL REFERENCES checkpoints (id),
    rank          int NOT NULL CHECK (rank >= 0),
    sha256        text NOT NULL REFERENCES artifacts (sha256),
    size          bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (checkpoint_id, rank)
);

CREATE TABLE evaluations (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id               uuid NOT NULL REFERENCES jobs (id),
    attempt              int NOT NULL,
    preset               text NOT NULL,
    num_samples          int NOT NULL,
    fid                  double precision,
    low_frequency_error  double precision NOT NULL,
    high_frequency_error double precision NOT NULL,
    extra                jsonb NOT NULL DEFAULT '{}',
    samples_artifact     text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evaluations_preset ON evaluations (preset, created_at);
