-- The SHA-256 of a checkpoint consolidated into one file (its shards merged into a single shard of world size 1), so a
-- listing shows it without reading every shard again. Written once, by the first listing or download that computes it;
-- null until then. The consolidated bytes follow from the shards alone, and a checkpoint's shards never change.
ALTER TABLE checkpoints ADD COLUMN consolidated_sha256 text CHECK (consolidated_sha256 ~ '^[0-9a-f]{64}$');
