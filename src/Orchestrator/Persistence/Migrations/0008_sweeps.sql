-- Sweeps: one submission expanded into jobs (arms × seeds). A job of a sweep knows its sweep, arm and seed.
CREATE TABLE sweeps (
    id            uuid PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,   -- list order
    name          text NOT NULL,
    spec          bytea NOT NULL,              -- the SweepSpec protobuf, exactly as accepted
    spec_json     jsonb NOT NULL,
    arms          text[] NOT NULL,             -- arm names in spec order
    created_at    timestamptz NOT NULL DEFAULT now(),
    cancelled_at  timestamptz,
    cancel_reason text NOT NULL DEFAULT ''
);

ALTER TABLE jobs ADD COLUMN sweep_id uuid REFERENCES sweeps (id);
ALTER TABLE jobs ADD COLUMN sweep_arm text;
ALTER TABLE jobs ADD COLUMN sweep_seed bigint;
ALTER TABLE jobs ADD CONSTRAINT jobs_sweep_member CHECK ((sweep_id IS NULL) = (sweep_arm IS NULL) AND (sweep_id IS NULL) = (sweep_seed IS NULL));
CREATE UNIQUE INDEX jobs_sweep_arm_seed ON jobs (sweep_id, sweep_arm, sweep_seed) WHERE sweep_id IS NOT NULL;
