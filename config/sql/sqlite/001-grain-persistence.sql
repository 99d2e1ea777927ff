-- PoolAI grain persistence on SQLite, for Orleans' ADO.NET grain storage provider (10.x).
-- Applied automatically by the silo at start (statements are idempotent).
--
-- The provider reads its SQL by name from OrleansQuery and binds these parameters:
--   @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
--   @GrainIdExtensionString, @ServiceId, @PayloadBinary, @GrainStateVersion.
-- It expects the columns PayloadBinary and Version (read) and NewGrainStateVersion (write, clear);
-- a write or clear that returns no row is an optimistic-concurrency conflict.
--
-- PoolAI's design: one row per (service, state type, grain id), made unique by the primary key, so
-- no hash collisions need pruning; the extension key is stored as '' when absent so that the key
-- can be unique; versions are integers starting at 1.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS PoolGrainState
(
    ServiceId              TEXT    NOT NULL,
    GrainTypeString        TEXT    NOT NULL,
    GrainIdN0              INTEGER NOT NULL,
    GrainIdN1              INTEGER NOT NULL,
    GrainIdExtensionString TEXT    NOT NULL DEFAULT '',
    PayloadBinary          BLOB    NULL,
    Version                INTEGER NOT NULL,
    ModifiedOn             TEXT    NOT NULL,
    PRIMARY KEY (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
) WITHOUT ROWID;

INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
    SELECT PayloadBinary, Version
    FROM PoolGrainState
    WHERE ServiceId = @ServiceId
      AND GrainTypeString = @GrainTypeString
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''');
');

-- A first write (no version yet) inserts version 1; a later write must name the stored version and
-- bumps it. Exactly one of the two statements can return a row.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
    UPDATE PoolGrainState
    SET PayloadBinary = @PayloadBinary,
        Version = Version + 1,
        ModifiedOn = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
    WHERE @GrainStateVersion IS NOT NULL
      AND ServiceId = @ServiceId
      AND GrainTypeString = @GrainTypeString
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''')
      AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;

    INSERT INTO PoolGrainState (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString, PayloadBinary, Version, ModifiedOn)
    SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, COALESCE(@GrainIdExtensionString, ''''), @PayloadBinary, 1,
           strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING Version AS NewGrainStateVersion;
');

INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
    UPDATE PoolGrainState
    SET PayloadBinary = NULL,
        Version = Version + 1,
        ModifiedOn = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
    WHERE ServiceId = @ServiceId
      AND GrainTypeString = @GrainTypeString
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''')
      AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;
');
