-- Checkpoint manifests are written whole. Shards arrive one upload at a time into checkpoint_uploads; the upload that
-- brings the last of world_size shards writes the manifest (a complete checkpoints row) and its checkpoint_shards, and
-- clears the uploads, in one transaction. Shards of a checkpoint that never completed (a rank died, the database went
-- away) stay in checkpoint_uploads and are never a checkpoint, so never resumed from.
CREATE TABLE checkpoint_uploads (
    job_id     uuid NOT NULL REFERENCES jobs (id),
    attempt    int NOT NULL,
    step       bigint NOT NULL CHECK (step >= 0),
    world_size int NOT NULL CHECK (world_size > 0),
    rank       int NOT NULL CHECK (rank >= 0 AND rank < world_size),
    sha256     text NOT NULL REFERENCES artifacts (sha256),
    size       bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, attempt, step, rank)
);

-- Manifests left incomplete by earlier versions become uploads.
INSERT INTO checkpoint_uploads (job_id, attempt, step, world_size, rank, sha256, size, created_at)
SELECT c.job_id, c.attempt, c.step, c.world_size, s.rank, s.sha256, s.size, s.created_at
FROM checkpoints c JOIN checkpoint_shards s ON s.checkpoint_id = c.id
WHERE NOT c.complete;
DELETE FROM checkpoint_shards s USING checkpoints c WHERE s.checkpoint_id = c.id AND NOT c.complete;
DELETE FROM checkpoints WHERE NOT complete;

ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_written_whole CHECK (complete AND completed_at IS NOT NULL);
