-- PoolAI on PostgreSQL, schema 1 of 4: the query catalogue of Orleans' ADO.NET providers.
--
-- Target: Microsoft.Orleans.{Clustering,Persistence,Reminders}.AdoNet 10.4.x with the ADO.NET invariant
-- "Npgsql". Orleans ships no SQL in these packages; this is PoolAI's own schema, written to the providers'
-- contract.
--
-- The contract this file implements
--   * Each provider starts by running one fixed statement against a table that must be called OrleansQuery:
--       clustering, reminders:  SELECT QueryKey, QueryText FROM OrleansQuery
--       grain persistence:      SELECT QueryKey, QueryText FROM OrleansQuery WHERE QueryKey = 'WriteToStorageKey'
--                               OR QueryKey = 'ReadFromStorageKey' OR QueryKey = 'ClearStorageKey'
--                               OR QueryKey = 'DeleteStorageKey'
--     and reads the two columns by name (QueryKey, QueryText, both strings). After that, every database call
--     a provider makes is the QueryText of one row, run with named parameters (@Name) bound by Npgsql.
--     The table name, the two column names and the key names are fixed by the providers; table layouts
--     behind the queries are ours (002-004).
--   * The clustering and reminders providers refuse to start when one of their required keys is missing
--     ("Not all required queries found. Missing are: ..."); rows for other providers are ignored.
--
-- How to apply
--   Apply 001, 002, 003, 004 in this order (002-004 check that 001 ran). Every statement is idempotent:
--   re-applying any file, any number of times, leaves the same schema and the same catalogue and keeps
--   all data, so a silo may apply them at every start. Run each file in one transaction (psql -1, or the
--   runner's own transaction): the advisory lock below then serialises silos that apply the files at the
--   same moment. The files contain plain SQL only (no psql meta-commands), so they can also be sent as
--   one multi-statement command through Npgsql.
--
-- Query texts are written with dollar quotes ($q$ ... $q$). Within them every @Name is a parameter that
-- the provider binds; a query must never name a parameter the provider does not bind, since Npgsql would
-- leave "@Name" in the text and PostgreSQL would read it as the prefix operator @ (absolute value) applied
-- to a column of that name.

SELECT pg_advisory_xact_lock(4242001001);

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,

    CONSTRAINT PK_OrleansQuery PRIMARY KEY (QueryKey)
);

COMMENT ON TABLE OrleansQuery IS
    'Named queries read by Orleans'' ADO.NET providers at start (PoolAI schema, config/sql/postgresql). '
    'Rows are (re)written by 002-clustering.sql, 003-persistence.sql and 004-reminders.sql.';
