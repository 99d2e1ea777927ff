-- PoolAI on PostgreSQL, schema 2 of 4: cluster membership for Microsoft.Orleans.Clustering.AdoNet 10.4.x
-- (invariant "Npgsql"). Requires 001-main.sql. Idempotent; see 001-main.sql for how to apply.
--
-- The contract (read from the 10.4.2 provider: AdoNetClusteringTable, RelationalOrleansQueries,
-- DbStoredQueries in Orleans.Clustering.AdoNet.dll)
--   The provider refuses to start unless all of these keys exist:
--     GatewaysQueryKey, MembershipReadRowKey, MembershipReadAllKey, InsertMembershipVersionKey,
--     UpdateIAmAlivetimeKey, InsertMembershipKey, UpdateMembershipKey, DeleteMembershipTableEntriesKey,
--     CleanupDefunctSiloEntriesKey.
--   CleanupDefunctSiloEntryKey is optional: when it exists (it does here) the provider prunes dead silos
--   one row at a time with it and never runs CleanupDefunctSiloEntriesKey.
--
--   Parameters (Npgsql types): DeploymentId text (the ClusterId), Address text (IP address), Port int4,
--   Generation int4, SiloName text, HostName text, Status int4 (SiloStatus: 3 Active, 6 Dead), ProxyPort
--   int4, SuspectTimes text or NULL ("silo,date|silo,date"), StartTime timestamptz, IAmAliveTime
--   timestamptz, Version int4 (the table version the caller read).
--
--   Read queries return, by column name: DeploymentId, Address, Port, Generation, SiloName, HostName,
--   Status, ProxyPort, SuspectTimes, StartTime, IAmAliveTime, Version. They must return at least one row
--   whenever the deployment's version row exists: a row whose StartTime is NULL stands for "no member",
--   and Version is always the table version. The provider reads the version from the first row.
--   Insert/update queries return one row with one column, non-zero for success, zero for "not done".
--
--   Semantics (Orleans' extended membership protocol, 10.x atomic writes):
--   * one version row per deployment; every membership insert or update must name the version it read,
--     and bumps it by one in the same statement as the row change, or changes nothing;
--   * an insert of a silo that already has a row changes nothing (version included) and returns 0;
--   * an update of a silo that has no row changes nothing (version included) and returns 0;
--   * I-am-alive heartbeats never move IAmAliveTime backwards and do not touch the version;
--   * only Dead (6) rows are pruned, and only when their captured values still match.
--
-- PoolAI's design: PoolMembershipVersion holds the version row, PoolMembership one row per silo
-- incarnation (address, port, generation); members reference their version row and go with it.

SELECT pg_advisory_xact_lock(4242001001);

DO $guard$
BEGIN
    IF to_regclass('OrleansQuery') IS NULL THEN
        RAISE EXCEPTION 'PoolAI schema: apply 001-main.sql before 002-clustering.sql';
    END IF;
END
$guard$;

CREATE TABLE IF NOT EXISTS PoolMembershipVersion
(
    DeploymentId text        NOT NULL,
    Version      integer     NOT NULL DEFAULT 0,
    ModifiedOn   timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT PK_PoolMembershipVersion PRIMARY KEY (DeploymentId)
);

CREATE TABLE IF NOT EXISTS PoolMembership
(
    DeploymentId text        NOT NULL,
    Address      text        NOT NULL,
    Port         integer     NOT NULL,
    Generation   integer     NOT NULL,
    SiloName     text        NOT NULL,
    HostName     text        NOT NULL,
    Status       integer     NOT NULL,
    ProxyPort    integer     NOT NULL,
    SuspectTimes text        NULL,
    StartTime    timestamptz NOT NULL,
    IAmAliveTime timestamptz NOT NULL,

    CONSTRAINT PK_PoolMembership PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_PoolMembership_PoolMembershipVersion FOREIGN KEY (DeploymentId)
        REFERENCES PoolMembershipVersion (DeploymentId) ON DELETE CASCADE
);

-- Inserts a silo's row and bumps the table version, both or neither. Returns 1 when done, 0 when the
-- version did not match (someone else wrote first) or the silo already has a row.
CREATE OR REPLACE FUNCTION pool_membership_insert(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_silo_name      text,
    p_host_name      text,
    p_status         integer,
    p_proxy_port     integer,
    p_start_time     timestamptz,
    p_i_am_alive     timestamptz,
    p_version        integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $fn$
BEGIN
    UPDATE PoolMembershipVersion
    SET Version = Version + 1,
        ModifiedOn = now()
    WHERE DeploymentId = p_deployment_id
      AND Version = p_version
      AND Version < 2147483647;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    -- A silo that already has a row raises unique_violation, which undoes the version bump above.
    INSERT INTO PoolMembership
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, SuspectTimes,
         StartTime, IAmAliveTime)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status, p_proxy_port,
         NULL, p_start_time, p_i_am_alive);
    RETURN 1;
EXCEPTION
    WHEN unique_violation THEN
        RETURN 0;
END
$fn$;

-- Updates a silo's row and bumps the table version, both or neither. Returns 1 when done, 0 when the
-- version did not match or the silo has no row.
CREATE OR REPLACE FUNCTION pool_membership_update(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_status         integer,
    p_suspect_times  text,
    p_i_am_alive     timestamptz,
    p_version        integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $fn$
BEGIN
    UPDATE PoolMembershipVersion
    SET Version = Version + 1,
        ModifiedOn = now()
    WHERE DeploymentId = p_deployment_id
      AND Version = p_version
      AND Version < 2147483647;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE PoolMembership
    SET Status = p_status,
        SuspectTimes = p_suspect_times,
        IAmAliveTime = GREATEST(IAmAliveTime, p_i_am_alive)
    WHERE DeploymentId = p_deployment_id
      AND Address = p_address
      AND Port = p_port
      AND Generation = p_generation;
    IF NOT FOUND THEN
        -- Undo the version bump: no row, no change.
        RAISE EXCEPTION USING ERRCODE = 'no_data_found';
    END IF;
    RETURN 1;
EXCEPTION
    WHEN no_data_found THEN
        RETURN 0;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- Creates the deployment's version row (version 0) unless it exists. One row, one column: 1 if created.
('InsertMembershipVersionKey', $q$
    WITH created AS (
        INSERT INTO PoolMembershipVersion (DeploymentId)
        VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING
        RETURNING 1
    )
    SELECT count(*)::integer AS Created FROM created
$q$),

-- Parameters: DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime,
-- IAmAliveTime, Version. One row, one column: 1 inserted, 0 not.
('InsertMembershipKey', $q$
    SELECT pool_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
                                  @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version) AS Inserted
$q$),

-- Parameters: DeploymentId, Address, Port, Generation, Status, SuspectTimes, IAmAliveTime, Version.
-- One row, one column: 1 updated, 0 not.
('UpdateMembershipKey', $q$
    SELECT pool_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes,
                                  @IAmAliveTime, @Version) AS Updated
$q$),

-- Heartbeat; the result is not read. IAmAliveTime only moves forward; the version is not touched.
('UpdateIAmAlivetimeKey', $q$
    UPDATE PoolMembership
    SET IAmAliveTime = GREATEST(IAmAliveTime, @IAmAliveTime)
    WHERE DeploymentId = @DeploymentId
      AND Address = @Address
      AND Port = @Port
      AND Generation = @Generation
$q$),

-- One silo's row plus the table version; the version row alone (member columns NULL) when the silo has
-- no row; nothing when the deployment has no version row.
('MembershipReadRowKey', $q$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM PoolMembershipVersion v
    LEFT JOIN PoolMembership m
           ON m.DeploymentId = v.DeploymentId
          AND m.Address = @Address
          AND m.Port = @Port
          AND m.Generation = @Generation
    WHERE v.DeploymentId = @DeploymentId
$q$),

-- Every silo's row, each with the table version; the version row alone when there are no silos.
('MembershipReadAllKey', $q$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM PoolMembershipVersion v
    LEFT JOIN PoolMembership m ON m.DeploymentId = v.DeploymentId
    WHERE v.DeploymentId = @DeploymentId
$q$),

-- Gateways for clients: the provider passes Status = 3 (Active). Returns Address, ProxyPort, Generation.
('GatewaysQueryKey', $q$
    SELECT Address, ProxyPort, Generation
    FROM PoolMembership
    WHERE DeploymentId = @DeploymentId
      AND Status = @Status
      AND ProxyPort > 0
$q$),

-- Drops the whole deployment: its version row, and with it (ON DELETE CASCADE) every member row.
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM PoolMembershipVersion
    WHERE DeploymentId = @DeploymentId
$q$),

-- Prunes one Dead (6) row, and only if the values the provider read are still the stored ones.
-- Parameters: DeploymentId, Address, Port, Generation, SuspectTimes, StartTime, IAmAliveTime.
('CleanupDefunctSiloEntryKey', $q$
    DELETE FROM PoolMembership
    WHERE DeploymentId = @DeploymentId
      AND Address = @Address
      AND Port = @Port
      AND Generation = @Generation
      AND Status = 6
      AND StartTime = @StartTime
      AND IAmAliveTime = @IAmAliveTime
      AND COALESCE(SuspectTimes, '') = COALESCE(@SuspectTimes, '')
$q$),

-- Bulk pruning, used by the provider only when CleanupDefunctSiloEntryKey is absent. @IAmAliveTime is the
-- cutoff. Rows with suspicion votes are kept (their vote times cannot be compared in SQL).
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM PoolMembership
    WHERE DeploymentId = @DeploymentId
      AND Status = 6
      AND IAmAliveTime < @IAmAliveTime
      AND StartTime < @IAmAliveTime
      AND COALESCE(SuspectTimes, '') = ''
$q$)
ON CONFLICT (QueryKey) DO UPDATE
    SET QueryText = EXCLUDED.QueryText
    WHERE OrleansQuery.QueryText IS DISTINCT FROM EXCLUDED.QueryText;
