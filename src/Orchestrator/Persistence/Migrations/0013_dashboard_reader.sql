-- Dashboards (Grafana) read with the role spectral_reader: SELECT on the run-history views, nothing else (no table, no
-- write). It cannot log in; a login is made a member of it:
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE spectral_reader;
-- Roles belong to the whole PostgreSQL server. Where the orchestrator's own role may not create roles (a managed
-- database), this creates none and grants nothing; an administrator creates spectral_reader and repeats the grants.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spectral_reader')
       AND (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
        CREATE ROLE spectral_reader NOLOGIN;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'spectral_reader') THEN
        GRANT SELECT ON runs, loss_curves, fid_by_preset, run_first_stages TO spectral_reader;
    END IF;
END
$$;
