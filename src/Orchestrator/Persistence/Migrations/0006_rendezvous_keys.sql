-- The rendezvous of live attempts (PyTorch's TCPStore role), kept here so that an orchestrator restart loses nothing a
-- rank put. The keys of an attempt are deleted in the transaction that ends it.
CREATE TABLE rendezvous_keys (
    rendezvous_id uuid NOT NULL REFERENCES attempts (rendezvous_id),
    key           text NOT NULL,
    value         bytea NOT NULL,
    put_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rendezvous_id, key)
);
