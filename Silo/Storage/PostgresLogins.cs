using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace PoolAI.Silo.Storage;

/// <summary>
/// Login roles of the pool's PostgreSQL database, each a member of one <see cref="PoolDatabaseRole"/>'s group role: the
/// rules for their names and passwords, random passwords, and their creation. The password reaches the server only as
/// a SCRAM-SHA-256 verifier (<see cref="ScramVerifier"/>), so no statement the server logs holds it.
/// </summary>
public static partial class PostgresLogins
{
    /// <summary>The rule a login's name must follow, as error messages say it.</summary>
    public const string NameRule = "must be 1 to 63 lower-case letters, digits or underscores, start with a letter, and not be public or none or start with pg_ or poolai_";

    /// <summary>The rule a login's password must follow, as error messages say it.</summary>
    public const string PasswordRule = "must be one line of 8 to 1024 printable ASCII characters";

    /// <summary>Iterations of a verifier: PostgreSQL's default (<c>scram_iterations</c>).</summary>
    public const int ScramIterations = 4096;

    /// <summary>
    /// True when <paramref name="name"/> follows <see cref="NameRule"/>: a plain identifier that PostgreSQL reads the
    /// same quoted or not, that it does not reserve (<c>public</c>, <c>none</c>, <c>pg_…</c>), and that cannot be taken
    /// for one of PoolAI's group roles (<c>poolai_…</c>).
    /// </summary>
    public static bool IsValidName(string? name) =>
        name is not null && NamePattern().IsMatch(name) && name is not ("public" or "none")
        && !name.StartsWith("pg_", StringComparison.Ordinal) && !name.StartsWith("poolai_", StringComparison.Ordinal);

    /// <summary>True when <paramref name="password"/> follows <see cref="PasswordRule"/>.</summary>
    public static bool IsValidPassword(string? password) =>
        password is { Length: >= 8 and <= 1024 } && password.All(c => c is >= ' ' and <= '~');

    /// <summary>A new random password: 32 bytes from the system's cryptographic generator, base64url (43 characters).</summary>
    public static string NewPassword() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// Creates the login <paramref name="name"/> with <paramref name="password"/> as a member of <paramref name="role"/>'s
    /// group role, connected with <paramref name="adminConnectionString"/> (a superuser or a role with CREATEROLE), and
    /// returns the connection string for the login: the administrator's, with this user name and password.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> or <paramref name="password"/> breaks its rule, or the connection string is malformed.</exception>
    /// <exception cref="PostgresException">
    /// The server refused: <see cref="PostgresErrorCodes.DuplicateObject"/> when a role of that name exists,
    /// <see cref="PostgresErrorCodes.UndefinedObject"/> when the group role does not (the schema was not migrated),
    /// <see cref="PostgresErrorCodes.InsufficientPrivilege"/> when the administrator may not create roles.
    /// </exception>
    /// <exception cref="NpgsqlException">The database cannot be reached.</exception>
    public static async Task<string> CreateAsync(string adminConnectionString, string name, PoolDatabaseRole role, string password, CancellationToken cancellationToken = default)
    {
        if (!IsValidName(name))
            throw new ArgumentException($"login name {NameRule}; was '{name}'", nameof(name));
        if (!IsValidPassword(password))
            throw new ArgumentException($"password {PasswordRule}", nameof(password));
        var login = new NpgsqlConnectionStringBuilder(adminConnectionString) { Username = name, Password = password, Passfile = null }.ConnectionString;

        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync(cancellationToken);
        // DDL takes no parameters: the server quotes the name (%I) and the verifier (%L) itself.
        string statement;
        await using (var format = new NpgsqlCommand("SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', $1, $2, $3)", connection))
        {
            format.Parameters.Add(new NpgsqlParameter { Value = name });
            format.Parameters.Add(new NpgsqlParameter { Value = ScramVerifier(password, RandomNumberGenerator.GetBytes(16)) });
            format.Parameters.Add(new NpgsqlParameter { Value = role.GroupRole() });
            statement = (string)(await format.ExecuteScalarAsync(cancellationToken))!;
        }

        await using (var create = new NpgsqlCommand(statement, connection))
            await create.ExecuteNonQueryAsync(cancellationToken);
        return login;
    }

    /// <summary>
    /// The SCRAM-SHA-256 verifier of <paramref name="password"/> in the form PostgreSQL stores and accepts in place of
    /// a password (<c>SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey</c>, base64), as RFC 5802 section 3 and
    /// RFC 7677 define the keys: SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations), StoredKey =
    /// SHA-256(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key"). The password is
    /// taken as its UTF-8 bytes, which is what SASLprep leaves of the printable ASCII that <see cref="PasswordRule"/> allows.
    /// </summary>
    /// <param name="password">The password.</param>
    /// <param name="salt">Random salt; PostgreSQL uses 16 bytes.</param>
    /// <param name="iterations">PBKDF2 iterations.</param>
    public static string ScramVerifier(string password, byte[] salt, int iterations = ScramIterations)
    {
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var storedKey = SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8));
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
