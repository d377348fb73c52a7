-- When the lease watchdog last ran, by the database clock. A longer gap than its interval means the orchestrator or
-- its database was down: nobody could renew a lease then, so that time is added to every live lease. Starts at the
-- last heartbeat recorded, the last moment the orchestrator is known to have been serving.
CREATE TABLE lease_clock (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),   -- one row
    last_tick timestamptz NOT NULL
);
INSERT INTO lease_clock (last_tick) SELECT coalesce(max(last_heartbeat_at), now()) FROM workers;
