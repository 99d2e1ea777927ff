using Npgsql;
using NpgsqlTypes;
using PoolAI.Silo.Storage;
using PoolAI.Tests.Cli;

namespace PoolAI.Tests.Postgres;

/// <summary>
/// The pool's PostgreSQL roles (<c>005-roles.sql</c>) and <c>poolai db user create</c>: what a miner's login may and may
/// not do, run as the exact queries Orleans' providers run; migrations that leave the same grants however often and by
/// whom they run; and the user command's refusals.
/// </summary>
[TestClass]
public sealed class DatabaseRoleTests
{
    private static readonly DateTime Started = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [TestMethod]
    public async Task TheMinerLoginIsRefusedTheJobsAndLedgersInGrainStateButRunsEveryMembershipQuery()
    {
        var admin = await MigratedDatabaseAsync();
        var coordinator = await PostgresLogins.CreateAsync(admin, NewName("coordinator"), PoolDatabaseRole.Coordinator, PostgresLogins.NewPassword());
        var miner = await PostgresLogins.CreateAsync(admin, NewName("miner"), PoolDatabaseRole.Miner, PostgresLogins.NewPassword());
        byte[] payload = [1, 2, 3];

        await using (var asCoordinator = await OpenAsync(coordinator))
        {
            foreach (var grainType in new[] { "job", "ledger" })
            {
                Assert.AreEqual(1, await ScalarAsync(asCoordinator, "WriteToStorageKey", [.. GrainState(grainType), Version(null), Payload(payload)]));
                CollectionAssert.AreEqual(payload, (byte[])(await ScalarAsync(asCoordinator, "ReadFromStorageKey", GrainState(grainType)))!);
            }
        }

        await using var asMiner = await OpenAsync(miner);
        foreach (var grainType in new[] { "job", "ledger" })
        {
            await AssertRefusedAsync(() => ScalarAsync(asMiner, "ReadFromStorageKey", GrainState(grainType)));
            await AssertRefusedAsync(() => ScalarAsync(asMiner, "WriteToStorageKey", [.. GrainState(grainType), Version(1), Payload([9])]));
            await AssertRefusedAsync(() => ScalarAsync(asMiner, "ClearStorageKey", [.. GrainState(grainType), Version(1)]));
            await AssertRefusedAsync(() => ScalarAsync(asMiner, "DeleteStorageKey", [.. GrainState(grainType), Version(1)]));
        }

        foreach (var statement in new[]
        {
            "SELECT count(*) FROM PoolGrainState",
            "UPDATE PoolGrainState SET PayloadBinary = NULL",
            "DELETE FROM PoolGrainState",
            "TRUNCATE PoolGrainState",
            "INSERT INTO PoolGrainState (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainTypeHash, GrainIdHash, Version) VALUES ('s', 'job', 0, 0, 0, 0, 1)",
        })
        {
            await AssertRefusedAsync(() => SqlAsync(asMiner, statement));
        }

        // Every query of the clustering provider: join, heartbeat, a suspicion that declares the silo dead, reads, pruning.
        var deployment = $"test-{Guid.NewGuid():N}";
        var alive = Started.AddMinutes(1);
        Assert.AreEqual(1, await ScalarAsync(asMiner, "InsertMembershipVersionKey", new NpgsqlParameter("DeploymentId", deployment)));
        Assert.AreEqual(1, await ScalarAsync(asMiner, "InsertMembershipKey",
        [
            .. Silo(deployment), new("SiloName", "miner"), new("HostName", "host"), new("Status", 3), new("ProxyPort", (object)0),
            new("StartTime", Started), new("IAmAliveTime", Started), new("Version", (object)0),
        ]));
        await ScalarAsync(asMiner, "UpdateIAmAlivetimeKey", [.. Silo(deployment), new("IAmAliveTime", alive)]);
        Assert.AreEqual(1, await ScalarAsync(asMiner, "UpdateMembershipKey",
        [
            .. Silo(deployment), new("Status", 6), new("SuspectTimes", NpgsqlDbType.Text) { Value = DBNull.Value }, new("IAmAliveTime", alive), new("Version", 1),
        ]));
        Assert.AreEqual("10.0.0.7:11111:1 status 6 version 2", await MembershipAsync(asMiner, "MembershipReadAllKey", new NpgsqlParameter("DeploymentId", deployment)));
        Assert.AreEqual("10.0.0.7:11111:1 status 6 version 2", await MembershipAsync(asMiner, "MembershipReadRowKey", Silo(deployment)));
        Assert.IsNull(await ScalarAsync(asMiner, "GatewaysQueryKey", new NpgsqlParameter("DeploymentId", deployment), new NpgsqlParameter("Status", 3)));
        await ScalarAsync(asMiner, "CleanupDefunctSiloEntryKey",
        [
            .. Silo(deployment), new("SuspectTimes", NpgsqlDbType.Text) { Value = DBNull.Value }, new("StartTime", Started), new("IAmAliveTime", alive),
        ]);
        Assert.AreEqual(" status  version 2", await MembershipAsync(asMiner, "MembershipReadAllKey", new NpgsqlParameter("DeploymentId", deployment)));

        // Reminders: the reminder service reads its range of the ring on every silo; nothing writes them from a miner.
        Assert.IsNull(await ScalarAsync(asMiner, "ReadRangeRows1Key", new NpgsqlParameter("ServiceId", "pool"), new NpgsqlParameter("BeginHash", int.MinValue), new NpgsqlParameter("EndHash", int.MaxValue)));
        await AssertRefusedAsync(() => ScalarAsync(asMiner, "UpsertReminderRowKey",
        [
            new("ServiceId", "pool"), new("GrainId", "job/1"), new("ReminderName", "r"), new("StartTime", Started), new("Period", 60_000), new("GrainHash", 5),
        ]));

        await using var again = await OpenAsync(coordinator);
        CollectionAssert.AreEqual(payload, (byte[])(await ScalarAsync(again, "ReadFromStorageKey", GrainState("job")))!);
    }

    [TestMethod]
    public async Task MigratingTwiceAndThenAsTheCoordinatorLoginLeavesTheSameOwnersGrantsAndQueries()
    {
        var admin = await PostgresServer.CreateDatabaseAsync();
        var first = await PoolaiProcess.RunAsync("db", "migrate", "--connection", admin);
        Assert.AreEqual(0, first.ExitCode, first.StandardError);
        var catalogue = await CatalogueAsync(admin);
        var second = await PoolaiProcess.RunAsync("db", "migrate", "--connection", admin);
        Assert.AreEqual(0, second.ExitCode, second.StandardError);
        Assert.AreEqual(first.StandardOutput, second.StandardOutput);
        Assert.AreEqual(catalogue, await CatalogueAsync(admin));

        var coordinator = await PostgresLogins.CreateAsync(admin, NewName("coordinator"), PoolDatabaseRole.Coordinator, PostgresLogins.NewPassword());
        var third = await PoolaiProcess.RunAsync("db", "migrate", "--connection", coordinator);
        Assert.AreEqual(0, third.ExitCode, third.StandardError);
        Assert.AreEqual(first.StandardOutput, third.StandardOutput);
        Assert.AreEqual(catalogue, await CatalogueAsync(admin));

        Assert.AreEqual(
            "orleansquery: poolai_coordinator; poolgrainstate: poolai_coordinator; poolmembership: poolai_coordinator; poolmembershipversion: poolai_coordinator; poolreminder: poolai_coordinator; "
            + "pool_grain_state_clear: poolai_coordinator; pool_grain_state_delete: poolai_coordinator; pool_grain_state_write: poolai_coordinator; pool_membership_insert: poolai_coordinator; pool_membership_update: poolai_coordinator",
            await OwnersAsync(admin));
        Assert.AreEqual(
            "orleansquery: SELECT; poolmembership: DELETE, INSERT, SELECT, UPDATE; poolmembershipversion: INSERT, SELECT, UPDATE; poolreminder: SELECT; "
            + "pool_membership_insert: EXECUTE; pool_membership_update: EXECUTE",
            await PrivilegesAsync(admin, "poolai_miner"));
        Assert.AreEqual(string.Empty, await PrivilegesAsync(admin, "public"));
    }

    [TestMethod]
    public async Task TheDatabaseOwnerWithCreateroleMayApplyTheSchemaAndRolesWithoutBeingASuperuser()
    {
        var server = await PostgresServer.CreateDatabaseAsync();
        var owner = NewName("owner");
        var database = NewName("poolai_db");
        await using (var connection = await OpenAsync(server))
        {
            await SqlAsync(connection, $"CREATE ROLE {owner} LOGIN CREATEROLE");
            await SqlAsync(connection, $"CREATE DATABASE {database} OWNER {owner}");
        }

        var asOwner = new NpgsqlConnectionStringBuilder(server) { Database = database, Username = owner }.ConnectionString;
        var migrated = await PoolaiProcess.RunAsync("db", "migrate", "--connection", asOwner);
        Assert.AreEqual(0, migrated.ExitCode, migrated.StandardError);
        StringAssert.StartsWith(await OwnersAsync(asOwner), "orleansquery: poolai_coordinator; poolgrainstate: poolai_coordinator;");
        Assert.AreEqual(
            "orleansquery: SELECT; poolmembership: DELETE, INSERT, SELECT, UPDATE; poolmembershipversion: INSERT, SELECT, UPDATE; poolreminder: SELECT; "
            + "pool_membership_insert: EXECUTE; pool_membership_update: EXECUTE",
            await PrivilegesAsync(asOwner, "poolai_miner"));
        var again = await PoolaiProcess.RunAsync("db", "migrate", "--connection", asOwner);
        Assert.AreEqual(0, again.ExitCode, again.StandardError);
    }

    [TestMethod]
    [DataRow("poolai: invalid NAME: " + PostgresLogins.NameRule + "; was 'Miner1'", "Miner1", "miner")]
    [DataRow("poolai: invalid NAME: " + PostgresLogins.NameRule + "; was '1miner'", "1miner", "miner")]
    [DataRow("poolai: invalid NAME: " + PostgresLogins.NameRule + "; was 'miner\"; DROP ROLE postgres; --'", "miner\"; DROP ROLE postgres; --", "miner")]
    [DataRow("poolai: invalid NAME: " + PostgresLogins.NameRule + "; was 'pg_miner'", "pg_miner", "miner")]
    [DataRow("poolai: invalid NAME: " + PostgresLogins.NameRule + "; was 'poolai_miner'", "poolai_miner", "coordinator")]
    [DataRow("poolai: invalid NAME: " + PostgresLogins.NameRule + "; was 'public'", "public", "miner")]
    [DataRow("poolai: invalid --role: must be one of coordinator, miner; was 'banker'", "miner1", "banker")]
    public async Task UserCreateRefusesBadInputWithOneLineNamingTheFieldAndTheRule(string expected, string name, string role)
    {
        var outcome = await PoolaiProcess.RunAsync("db", "user", "create", name, "--role", role, "--connection", "Host=127.0.0.1;Port=1;Username=nobody");
        Assert.AreEqual(2, outcome.ExitCode, outcome.StandardError);
        Assert.AreEqual(expected, outcome.StandardError.Trim());
        Assert.AreEqual(string.Empty, outcome.StandardOutput);
    }

    [TestMethod]
    public async Task UserCreateRefusesATakenNameAndAShortPasswordAndStoresOnlyTheVerifierOfAGivenOne()
    {
        var admin = await MigratedDatabaseAsync();
        var name = NewName("miner");
        var password = "correct horse battery staple";
        var created = await PoolaiProcess.RunWithInputAsync(null, password + "\n", "db", "user", "create", name, "--role", "miner", "--password-stdin", "--connection", admin);
        Assert.AreEqual(0, created.ExitCode, created.StandardError);
        var login = new NpgsqlConnectionStringBuilder(created.StandardOutput.Trim());
        Assert.AreEqual(name, login.Username);
        Assert.AreEqual(password, login.Password);
        Assert.AreEqual($"[login {name} in poolai_miner: give this connection string to the miner as PoolAI__Database__ConnectionString]", created.StandardError.Trim());

        await using (var connection = await OpenAsync(admin))
        {
            await using var read = new NpgsqlCommand("SELECT rolpassword, rolcanlogin, pg_has_role(rolname, 'poolai_miner', 'USAGE'), pg_has_role(rolname, 'poolai_coordinator', 'MEMBER') FROM pg_authid WHERE rolname = $1", connection);
            read.Parameters.Add(new NpgsqlParameter { Value = name });
            await using var row = await read.ExecuteReaderAsync();
            Assert.IsTrue(await row.ReadAsync());
            Assert.AreEqual(VerifierWithSaltOf(row.GetString(0), password), row.GetString(0));
            Assert.IsTrue(row.GetBoolean(1));
            Assert.IsTrue(row.GetBoolean(2));
            Assert.IsFalse(row.GetBoolean(3));
        }

        var taken = await PoolaiProcess.RunAsync("db", "user", "create", name, "--role", "coordinator", "--connection", admin);
        Assert.AreEqual(2, taken.ExitCode, taken.StandardError);
        Assert.AreEqual($"poolai: invalid NAME: a role named '{name}' exists already on this PostgreSQL server", taken.StandardError.Trim());
        Assert.AreEqual(string.Empty, taken.StandardOutput);

        var shortPassword = await PoolaiProcess.RunWithInputAsync(null, "hunter2\n", "db", "user", "create", NewName("miner"), "--role", "miner", "--password-stdin", "--connection", admin);
        Assert.AreEqual(2, shortPassword.ExitCode, shortPassword.StandardError);
        Assert.AreEqual($"poolai: invalid --password-stdin: the password on standard input {PostgresLogins.PasswordRule}", shortPassword.StandardError.Trim());
    }

    [TestMethod]
    public async Task TheScramVerifierIsTheOnePostgresComputesForTheSamePasswordAndSalt()
    {
        var admin = await PostgresServer.CreateDatabaseAsync();
        var name = NewName("scram");
        await using var connection = await OpenAsync(admin);
        await SqlAsync(connection, $"SET password_encryption = 'scram-sha-256'; CREATE ROLE {name} PASSWORD 'p@ss w0rd;''\"'");
        await using var read = new NpgsqlCommand($"SELECT rolpassword FROM pg_authid WHERE rolname = '{name}'", connection);
        var stored = (string)(await read.ExecuteScalarAsync())!;
        await SqlAsync(connection, $"DROP ROLE {name}");

        StringAssert.StartsWith(stored, "SCRAM-SHA-256$4096:");
        Assert.AreEqual(stored, VerifierWithSaltOf(stored, "p@ss w0rd;'\""));
        Assert.AreNotEqual(stored, VerifierWithSaltOf(stored, "p@ss w0rd;'"));
    }

    /// <summary>The verifier <see cref="PostgresLogins.ScramVerifier"/> makes of <paramref name="password"/> with the salt and iterations of <paramref name="stored"/>.</summary>
    private static string VerifierWithSaltOf(string stored, string password)
    {
        var parameters = stored["SCRAM-SHA-256$".Length..].Split('$')[0].Split(':');
        return PostgresLogins.ScramVerifier(password, Convert.FromBase64String(parameters[1]), int.Parse(parameters[0], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string NewName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    private static async Task<string> MigratedDatabaseAsync()
    {
        var database = await PostgresServer.CreateDatabaseAsync();
        await PostgresSchema.ApplyAsync(database);
        return database;
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Runs the text of <paramref name="key"/> in <c>OrleansQuery</c>, read as the connection's login, as the providers do; the first column of the first row.</summary>
    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string key, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(await QueryTextAsync(connection, key), connection);
        command.Parameters.AddRange(parameters);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    /// <summary>The first row of a membership read, as <c>address:port:generation status S version V</c>.</summary>
    private static async Task<string> MembershipAsync(NpgsqlConnection connection, string key, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(await QueryTextAsync(connection, key), connection);
        command.Parameters.AddRange(parameters);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.IsTrue(await reader.ReadAsync(), $"{key} returned no row");
        var silo = reader.IsDBNull(reader.GetOrdinal("address")) ? "" : $"{reader["address"]}:{reader["port"]}:{reader["generation"]}";
        return $"{silo} status {reader["status"]} version {reader["version"]}";
    }

    private static async Task<string> QueryTextAsync(NpgsqlConnection connection, string key)
    {
        await using var read = new NpgsqlCommand("SELECT QueryText FROM OrleansQuery WHERE QueryKey = $1", connection);
        read.Parameters.Add(new NpgsqlParameter { Value = key });
        return (string)(await read.ExecuteScalarAsync())!;
    }

    private static async Task SqlAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task AssertRefusedAsync(Func<Task> action)
    {
        var refused = await Assert.ThrowsExactlyAsync<PostgresException>(action);
        Assert.AreEqual(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState, refused.MessageText);
    }

    /// <summary>The identity parameters the grain storage provider binds for a grain of <paramref name="grainType"/> with key 7.</summary>
    private static NpgsqlParameter[] GrainState(string grainType) =>
    [
        new("ServiceId", "pool"), new("GrainTypeString", grainType), new("GrainTypeHash", grainType.Length), new("GrainIdN0", (object)0L), new("GrainIdN1", 7L),
        new("GrainIdHash", 7), new("GrainIdExtensionString", NpgsqlDbType.Text) { Value = DBNull.Value },
    ];

    private static NpgsqlParameter Version(int? version) => new("GrainStateVersion", NpgsqlDbType.Integer) { Value = version is { } v ? v : DBNull.Value };

    private static NpgsqlParameter Payload(byte[] payload) => new("PayloadBinary", NpgsqlDbType.Bytea) { Value = payload };

    private static NpgsqlParameter[] Silo(string deployment) =>
        [new("DeploymentId", deployment), new("Address", "10.0.0.7"), new("Port", 11111), new("Generation", 1)];

    /// <summary>Owners, privileges and query texts of everything in the schema, one line each, for comparing before and after.</summary>
    private static Task<string> CatalogueAsync(string admin) => TextAsync(admin, """
        SELECT string_agg(line, E'\n' ORDER BY line) FROM (
            SELECT 'table ' || relname || ' ' || relowner::regrole || ' ' || coalesce(relacl::text, '') AS line
            FROM pg_class WHERE relnamespace = current_schema()::regnamespace
            UNION ALL
            SELECT 'function ' || oid::regprocedure || ' ' || proowner::regrole || ' ' || coalesce(proacl::text, '')
            FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
            UNION ALL
            SELECT 'schema ' || nspname || ' ' || nspowner::regrole || ' ' || coalesce(nspacl::text, '')
            FROM pg_namespace WHERE oid = current_schema()::regnamespace
            UNION ALL
            SELECT 'query ' || QueryKey || ' ' || md5(QueryText) FROM OrleansQuery
        ) lines
        """);

    private static Task<string> OwnersAsync(string admin) => TextAsync(admin, """
        SELECT string_agg(line, '; ' ORDER BY kind, line) FROM (
            SELECT 1 AS kind, relname || ': ' || relowner::regrole AS line FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'
            UNION ALL
            SELECT 2, proname || ': ' || proowner::regrole FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
        ) lines
        """);

    /// <summary>The privileges <paramref name="role"/> holds (directly or through PUBLIC) on the schema's tables and functions, one entry per object that has any.</summary>
    private static Task<string> PrivilegesAsync(string admin, string role) => TextAsync(admin, $"""
        SELECT coalesce(string_agg(line, '; ' ORDER BY kind, line), '') FROM (
            SELECT 1 AS kind, c.relname || ': ' || string_agg(p, ', ' ORDER BY p) AS line
            FROM pg_class c CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND has_table_privilege('{role}', c.oid, p)
            GROUP BY c.relname
            UNION ALL
            SELECT 2, proname || ': EXECUTE' FROM pg_proc
            WHERE pronamespace = current_schema()::regnamespace AND has_function_privilege('{role}', oid, 'EXECUTE')
        ) lines
        """);

    private static async Task<string> TextAsync(string admin, string sql)
    {
        await using var connection = await OpenAsync(admin);
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
