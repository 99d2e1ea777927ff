-- PoolAI on PostgreSQL, schema 5 of 5: least-privilege roles. Requires 001-004. Idempotent; see 001-main.sql.
--
-- Two group roles (NOLOGIN). Logins are made members of one of them (poolai db user create NAME --role ...),
-- and the silos connect with those logins instead of one all-powerful user:
--
--   poolai_coordinator  owns every PoolAI table and function below and may create in the schema, so a
--                       coordinator hosts all grain state and may apply these scripts itself
--                       (Database:Migrate=true).
--   poolai_miner        a trusted miner silo: what Orleans' clustering needs on a silo that holds no state,
--                       and nothing of the pool's state:
--                         OrleansQuery           SELECT                        every provider reads its queries at start
--                         PoolMembershipVersion  SELECT, INSERT, UPDATE        join (InsertMembershipVersionKey) and
--                                                                              every membership change bumps the version
--                         PoolMembership         SELECT, INSERT, UPDATE,       join, heartbeats, suspicion votes and
--                                                DELETE                        the pruning of dead silos
--                                                                              (CleanupDefunctSiloEntryKey), which
--                                                                              Orleans runs on every silo
--                         pool_membership_insert, pool_membership_update
--                                                EXECUTE                       the membership writes
--                         PoolReminder           SELECT                        the reminder service of every silo reads
--                                                                              the reminders of its share of the ring
--                                                                              (no PoolAI grain registers reminders; the
--                                                                              silo that owns a grain's share of the ring
--                                                                              writes its reminders, so once one does,
--                                                                              miners need INSERT, UPDATE, DELETE too)
--                         the schema             USAGE
--                       and nothing on PoolGrainState (jobs, queues, ledgers, API keys, workers) or its
--                       functions: state grains activate on coordinators only (placement filter
--                       CoordinatorFilter), so a miner never reads or writes a row there.
--
-- PUBLIC (every role of the server) keeps no privilege on these tables and functions (PostgreSQL gives PUBLIC
-- EXECUTE on every new function) and may not create objects in the schema: an object a miner could create
-- there (a function or operator overloading one the coordinator's queries call) would run with the
-- coordinator's rights. PostgreSQL 15 and later give PUBLIC no CREATE on the public schema already.
--
-- Roles belong to the PostgreSQL server, not to one database: pools in other databases of the same server share
-- the two group roles, each database with its own grants. Creating them needs a superuser or a role with
-- CREATEROLE (the first time only); the schema and database grants need the schema's and database's owner or a
-- superuser (the first time only). Whoever applies these scripts is made a member of poolai_coordinator so that it
-- can keep altering the objects it hands over; a member of poolai_coordinator may apply all five scripts again.

SELECT pg_advisory_xact_lock(4242001001);

DO $guard$
BEGIN
    IF to_regclass('PoolMembership') IS NULL OR to_regclass('PoolGrainState') IS NULL OR to_regclass('PoolReminder') IS NULL THEN
        RAISE EXCEPTION 'PoolAI schema: apply 001-main.sql to 004-reminders.sql before 005-roles.sql';
    END IF;
END
$guard$;

DO $roles$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['poolai_coordinator', 'poolai_miner'] LOOP
        CONTINUE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = v_role);
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', v_role);
        EXCEPTION
            -- The advisory lock is this database's; a migration of another database may create the role at the
            -- same moment.
            WHEN duplicate_object OR unique_violation THEN
                NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'PoolAI schema: role % does not exist and % may not create roles; apply the scripts once as a superuser or a role with CREATEROLE', v_role, current_user;
        END;
    END LOOP;

    IF NOT pg_has_role(current_user, 'poolai_coordinator', 'USAGE') THEN
        GRANT poolai_coordinator TO CURRENT_USER;
    END IF;
END
$roles$;

DO $schema$
DECLARE
    v_schema text := current_schema();
BEGIN
    IF has_schema_privilege(v_schema, 'CREATE WITH GRANT OPTION') THEN
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', v_schema);
        EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO poolai_coordinator', v_schema);
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO poolai_miner', v_schema);
    ELSIF NOT has_schema_privilege('poolai_coordinator', v_schema, 'USAGE')
       OR NOT has_schema_privilege('poolai_coordinator', v_schema, 'CREATE')
       OR NOT has_schema_privilege('poolai_miner', v_schema, 'USAGE') THEN
        RAISE EXCEPTION 'PoolAI schema: % may not grant the PoolAI roles their privileges on schema %; apply 005-roles.sql as its owner or a superuser', current_user, v_schema;
    END IF;

    -- Only where the pool's administrator locked PUBLIC out of the database; PostgreSQL lets PUBLIC connect by default.
    IF has_database_privilege(current_database(), 'CONNECT WITH GRANT OPTION') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO poolai_coordinator, poolai_miner', current_database());
    END IF;
END
$schema$;

DO $grants$
DECLARE
    v_table regclass;
    v_function record;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['OrleansQuery', 'PoolMembershipVersion', 'PoolMembership', 'PoolGrainState', 'PoolReminder']::regclass[] LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO poolai_coordinator', v_table);
        -- Revoked and granted again below, so a privilege this file no longer grants is gone after it runs.
        EXECUTE format('REVOKE ALL ON TABLE %s FROM PUBLIC, poolai_miner', v_table);
    END LOOP;

    FOR v_function IN
        SELECT p.oid::regprocedure AS signature, p.proname AS name
        FROM pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace
          AND p.proname IN ('pool_membership_insert', 'pool_membership_update',
                            'pool_grain_state_write', 'pool_grain_state_clear', 'pool_grain_state_delete')
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO poolai_coordinator', v_function.signature);
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, poolai_miner', v_function.signature);
        IF v_function.name IN ('pool_membership_insert', 'pool_membership_update') THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO poolai_miner', v_function.signature);
        END IF;
    END LOOP;
END
$grants$;

GRANT SELECT ON OrleansQuery TO poolai_miner;
GRANT SELECT, INSERT, UPDATE ON PoolMembershipVersion TO poolai_miner;
GRANT SELECT, INSERT, UPDATE, DELETE ON PoolMembership TO poolai_miner;
GRANT SELECT ON PoolReminder TO poolai_miner;
