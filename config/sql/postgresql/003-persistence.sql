-- PoolAI on PostgreSQL, schema 3 of 4: grain state for Microsoft.Orleans.Persistence.AdoNet 10.4.x
-- (AdoNetGrainStorage, invariant "Npgsql"). Requires 001-main.sql. Idempotent; see 001-main.sql.
--
-- The contract (read from the 10.4.2 provider: AdoNetGrainStorage in Orleans.Persistence.AdoNet.dll)
--   Keys: ReadFromStorageKey, WriteToStorageKey, ClearStorageKey (required), DeleteStorageKey (needed only
--   when the storage option DeleteStateOnClear is true; provided here so that the option can be used).
--
--   Every query gets the grain's identity (Npgsql types):
--     ServiceId text, GrainTypeString text, GrainTypeHash int4, GrainIdN0 int8, GrainIdN1 int8,
--     GrainIdHash int4, GrainIdExtensionString text or NULL.
--   (integer keys: N0 = 0, N1 = the key; Guid keys: N0/N1 = the Guid's two halves; both with the key
--   extension, if any, in GrainIdExtensionString; string keys: N0 = N1 = 0 and the key itself in
--   GrainIdExtensionString.) Write, clear and delete also get GrainStateVersion int4 or NULL: the ETag the
--   grain holds, NULL when it has never seen a stored row. Write also gets PayloadBinary bytea.
--
--   ReadFromStorageKey returns at most one row with the columns PayloadBinary and Version. The grain's
--   ETag becomes Version, and "record exists" is PayloadBinary IS NOT NULL.
--   WriteToStorageKey returns NewGrainStateVersion; ClearStorageKey and DeleteStorageKey return one
--   column (read by position). The provider treats the operation as an optimistic-concurrency conflict
--   (InconsistentStateException) when the value returned equals the ETag it sent, is NULL, or no row
--   comes back while it sent an ETag; otherwise the value becomes the new ETag (after DeleteStorageKey the
--   provider sets the ETag to NULL itself).
--
--   What these queries do:
--     write, GrainStateVersion NULL:  insert the row with version 1 and return 1; if a row exists (another
--                                     activation wrote first) change nothing and return NULL.
--     write, GrainStateVersion = v:   if the stored version is v, store the payload, set version v+1 and
--                                     return v+1; otherwise (stale ETag, or the row is gone) change nothing
--                                     and return v.
--     clear, GrainStateVersion = v:   if the stored version is v, set PayloadBinary NULL, version v+1,
--                                     return v+1; otherwise change nothing and return v (NULL if v is NULL).
--     delete, GrainStateVersion = v:  if the stored version is v, delete the row and return v+1; otherwise
--                                     change nothing and return v.
--   So the rule for every write is: the version comes back moved on success and unmoved on conflict.
--
-- PoolAI's design: PoolGrainState holds one row per (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1,
-- GrainIdExtensionString), made unique by the primary key, so hash collisions need no pruning and the
-- hashes are kept only for information. A NULL extension is stored as '' so that it can be part of the
-- key (a grain whose extension is the empty string would share that row; Orleans does not produce one
-- for a given grain type in practice). Versions are int4 starting at 1. Key columns are text; the primary
-- key index limits ServiceId + GrainTypeString + GrainIdExtensionString to about 2.7 kB together.

SELECT pg_advisory_xact_lock(4242001001);

DO $guard$
BEGIN
    IF to_regclass('OrleansQuery') IS NULL THEN
        RAISE EXCEPTION 'PoolAI schema: apply 001-main.sql before 003-persistence.sql';
    END IF;
END
$guard$;

CREATE TABLE IF NOT EXISTS PoolGrainState
(
    ServiceId              text        NOT NULL,
    GrainTypeString        text        NOT NULL,
    GrainIdN0              bigint      NOT NULL,
    GrainIdN1              bigint      NOT NULL,
    GrainIdExtensionString text        NOT NULL DEFAULT '',
    GrainTypeHash          integer     NOT NULL,
    GrainIdHash            integer     NOT NULL,
    PayloadBinary          bytea       NULL,
    Version                integer     NOT NULL,
    ModifiedOn             timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT PK_PoolGrainState
        PRIMARY KEY (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
);

-- Write (insert or versioned update). Returns the new version, or the version passed in on conflict.
CREATE OR REPLACE FUNCTION pool_grain_state_write(
    p_service_id     text,
    p_grain_type     text,
    p_grain_type_hash integer,
    p_id_n0          bigint,
    p_id_n1          bigint,
    p_id_hash        integer,
    p_id_extension   text,
    p_version        integer,
    p_payload        bytea)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $fn$
DECLARE
    v_new integer;
BEGIN
    IF p_version IS NULL THEN
        -- First write of this grain's state. A row that exists already means another activation got
        -- there first: conflict.
        INSERT INTO PoolGrainState
            (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString, GrainTypeHash,
             GrainIdHash, PayloadBinary, Version, ModifiedOn)
        VALUES
            (p_service_id, p_grain_type, p_id_n0, p_id_n1, COALESCE(p_id_extension, ''), p_grain_type_hash,
             p_id_hash, p_payload, 1, now())
        ON CONFLICT ON CONSTRAINT PK_PoolGrainState DO NOTHING
        RETURNING Version INTO v_new;
    ELSE
        UPDATE PoolGrainState
        SET PayloadBinary = p_payload,
            Version = Version + 1,
            GrainTypeHash = p_grain_type_hash,
            GrainIdHash = p_id_hash,
            ModifiedOn = now()
        WHERE ServiceId = p_service_id
          AND GrainTypeString = p_grain_type
          AND GrainIdN0 = p_id_n0
          AND GrainIdN1 = p_id_n1
          AND GrainIdExtensionString = COALESCE(p_id_extension, '')
          AND Version = p_version
        RETURNING Version INTO v_new;
    END IF;

    IF FOUND THEN
        RETURN v_new;
    END IF;
    RETURN p_version;
END
$fn$;

-- Clear (keep the row, drop the payload, move the version). Returns the new version, or the version
-- passed in on conflict.
CREATE OR REPLACE FUNCTION pool_grain_state_clear(
    p_service_id     text,
    p_grain_type     text,
    p_grain_type_hash integer,
    p_id_n0          bigint,
    p_id_n1          bigint,
    p_id_hash        integer,
    p_id_extension   text,
    p_version        integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $fn$
DECLARE
    v_new integer;
BEGIN
    UPDATE PoolGrainState
    SET PayloadBinary = NULL,
        Version = Version + 1,
        GrainTypeHash = p_grain_type_hash,
        GrainIdHash = p_id_hash,
        ModifiedOn = now()
    WHERE ServiceId = p_service_id
      AND GrainTypeString = p_grain_type
      AND GrainIdN0 = p_id_n0
      AND GrainIdN1 = p_id_n1
      AND GrainIdExtensionString = COALESCE(p_id_extension, '')
      AND Version = p_version
    RETURNING Version INTO v_new;

    IF FOUND THEN
        RETURN v_new;
    END IF;
    RETURN p_version;
END
$fn$;

-- Delete (DeleteStateOnClear = true). Returns the version passed in plus one when the row was deleted,
-- the version passed in on conflict.
CREATE OR REPLACE FUNCTION pool_grain_state_delete(
    p_service_id     text,
    p_grain_type     text,
    p_grain_type_hash integer,
    p_id_n0          bigint,
    p_id_n1          bigint,
    p_id_hash        integer,
    p_id_extension   text,
    p_version        integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $fn$
BEGIN
    DELETE FROM PoolGrainState
    WHERE ServiceId = p_service_id
      AND GrainTypeString = p_grain_type
      AND GrainIdN0 = p_id_n0
      AND GrainIdN1 = p_id_n1
      AND GrainIdExtensionString = COALESCE(p_id_extension, '')
      AND Version = p_version;

    IF FOUND THEN
        RETURN p_version + 1;
    END IF;
    RETURN p_version;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
    SELECT PayloadBinary, Version
    FROM PoolGrainState
    WHERE ServiceId = @ServiceId
      AND GrainTypeString = @GrainTypeString
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '')
$q$),

('WriteToStorageKey', $q$
    SELECT pool_grain_state_write(@ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdN0, @GrainIdN1,
                                  @GrainIdHash, @GrainIdExtensionString, @GrainStateVersion,
                                  @PayloadBinary) AS NewGrainStateVersion
$q$),

('ClearStorageKey', $q$
    SELECT pool_grain_state_clear(@ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdN0, @GrainIdN1,
                                  @GrainIdHash, @GrainIdExtensionString, @GrainStateVersion)
           AS NewGrainStateVersion
$q$),

('DeleteStorageKey', $q$
    SELECT pool_grain_state_delete(@ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdN0, @GrainIdN1,
                                   @GrainIdHash, @GrainIdExtensionString, @GrainStateVersion)
           AS NewGrainStateVersion
$q$)
ON CONFLICT (QueryKey) DO UPDATE
    SET QueryText = EXCLUDED.QueryText
    WHERE OrleansQuery.QueryText IS DISTINCT FROM EXCLUDED.QueryText;
