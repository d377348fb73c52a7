-- The scheduler's queries stay proportional to the jobs they can act on, not to the whole queue: a backlog of
-- thousands of queued jobs that no live worker can take (for example CUDA jobs on a CPU-only cluster) must not slow
-- the assignment of the others.
-- Queued jobs that wait on an input job (the few the blocked-input check has to look at).
CREATE INDEX jobs_queued_dependent ON jobs (seq) WHERE state = 'QUEUED' AND depends_on <> '{}';
-- Queued jobs per device kind in priority/FIFO order (the candidates of one device kind).
CREATE INDEX jobs_queue_device ON jobs (device, priority DESC, seq) WHERE state = 'QUEUED';
