-- Each registration's secret, as its SHA-256: a worker may act only as itself (RegisterWorkerResponse.worker_secret).
-- Rows registered before this migration have none; those workers must register again.
ALTER TABLE workers ADD COLUMN secret_hash bytea;
