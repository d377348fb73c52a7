-- The orchestrator term: a takeover advances it while it holds the orchestrator lock, and every transaction of the
-- active orchestrator's loops first reads it under a share lock and goes on only if it is still its own. A takeover's
-- update waits for those share locks, so a former active orchestrator's write commits before the new term or not at all.
CREATE TABLE orchestrator_term (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),   -- one row
    term bigint NOT NULL
);
INSERT INTO orchestrator_term (term) VALUES (0);
