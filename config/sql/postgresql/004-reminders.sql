-- PoolAI on PostgreSQL, schema 4 of 4: reminders for Microsoft.Orleans.Reminders.AdoNet 10.4.x
-- (AdoNetReminderTable, invariant "Npgsql"). Requires 001-main.sql. Idempotent; see 001-main.sql.
--
-- The contract (read from the 10.4.2 provider: RelationalOrleansQueries, DbStoredQueries in
-- Orleans.Reminders.AdoNet.dll)
--   The provider refuses to start unless all of these keys exist:
--     ReadReminderRowsKey, ReadReminderRowKey, ReadRangeRows1Key, ReadRangeRows2Key,
--     UpsertReminderRowKey, DeleteReminderRowKey, DeleteReminderRowsKey.
--
--   Parameters (Npgsql types): ServiceId text, GrainId text (GrainId.ToString(), "type/key"),
--   ReminderName text, StartTime timestamptz, Period int4 or int8 (milliseconds; int8 only when it does
--   not fit int4), GrainHash int4 (the grain's uniform hash, unsigned value cast to signed),
--   BeginHash/EndHash int4 (same cast), Version int4 (the ETag).
--
--   Read queries return rows with the columns GrainId, ReminderName, StartTime, Period (int8 read) and
--   Version; the reminder's ETag is Version.
--   UpsertReminderRowKey returns one row with the column Version: the new ETag.
--   DeleteReminderRowKey returns one row with one column: non-zero if the row with that ETag was deleted.
--   DeleteReminderRowsKey's result is not read.
--
--   Ring ranges: the provider compares (int)BeginHash < (int)EndHash itself and picks
--     ReadRangeRows1Key when true:   BeginHash < GrainHash <= EndHash          (range does not wrap)
--     ReadRangeRows2Key otherwise:   GrainHash > BeginHash OR GrainHash <= EndHash (range wraps)
--   both in signed int4 order, as stored.
--
--   Note: these are the parameters of the standard reminders provider. The CronExpression, NextDueUtc,
--   LastFireUtc, Priority and Action columns found in some upstream 10.x reminder scripts belong to
--   other reminder providers; this provider does not bind those parameters, so they are not used here.
--
-- PoolAI's design: PoolReminder holds one row per (ServiceId, GrainId, ReminderName); versions start at 0
-- and move by one on every upsert; an index on (ServiceId, GrainHash) serves the range reads.

SELECT pg_advisory_xact_lock(4242001001);

DO $guard$
BEGIN
    IF to_regclass('OrleansQuery') IS NULL THEN
        RAISE EXCEPTION 'PoolAI schema: apply 001-main.sql before 004-reminders.sql';
    END IF;
END
$guard$;

CREATE TABLE IF NOT EXISTS PoolReminder
(
    ServiceId    text        NOT NULL,
    GrainId      text        NOT NULL,
    ReminderName text        NOT NULL,
    StartTime    timestamptz NOT NULL,
    Period       bigint      NOT NULL,
    GrainHash    integer     NOT NULL,
    Version      integer     NOT NULL,
    ModifiedOn   timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT PK_PoolReminder PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

CREATE INDEX IF NOT EXISTS IX_PoolReminder_ServiceId_GrainHash ON PoolReminder (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpsertReminderRowKey', $q$
    INSERT INTO PoolReminder AS r
        (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version, ModifiedOn)
    VALUES
        (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0, now())
    ON CONFLICT ON CONSTRAINT PK_PoolReminder DO UPDATE
        SET StartTime = EXCLUDED.StartTime,
            Period = EXCLUDED.Period,
            GrainHash = EXCLUDED.GrainHash,
            Version = r.Version + 1,
            ModifiedOn = now()
    RETURNING r.Version AS Version
$q$),

('ReadReminderRowsKey', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM PoolReminder
    WHERE ServiceId = @ServiceId
      AND GrainId = @GrainId
$q$),

('ReadReminderRowKey', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM PoolReminder
    WHERE ServiceId = @ServiceId
      AND GrainId = @GrainId
      AND ReminderName = @ReminderName
$q$),

('ReadRangeRows1Key', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM PoolReminder
    WHERE ServiceId = @ServiceId
      AND GrainHash > @BeginHash
      AND GrainHash <= @EndHash
$q$),

('ReadRangeRows2Key', $q$
    SELECT GrainId, ReminderName, StartTime, Period, Version
    FROM PoolReminder
    WHERE ServiceId = @ServiceId
      AND (GrainHash > @BeginHash OR GrainHash <= @EndHash)
$q$),

('DeleteReminderRowKey', $q$
    WITH deleted AS (
        DELETE FROM PoolReminder
        WHERE ServiceId = @ServiceId
          AND GrainId = @GrainId
          AND ReminderName = @ReminderName
          AND Version = @Version
        RETURNING 1
    )
    SELECT count(*)::integer AS Deleted FROM deleted
$q$),

('DeleteReminderRowsKey', $q$
    DELETE FROM PoolReminder
    WHERE ServiceId = @ServiceId
$q$)
ON CONFLICT (QueryKey) DO UPDATE
    SET QueryText = EXCLUDED.QueryText
    WHERE OrleansQuery.QueryText IS DISTINCT FROM EXCLUDED.QueryText;
