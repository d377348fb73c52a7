using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;

namespace SpectralDiffusion.EndToEnd.Tests.Deployment;

/// <summary>
/// deploy/local/postgres.sh from a clone in a private folder (mode 700), the way a new user clones into /root: as root the
/// cluster runs as the <c>postgres</c> user, which cannot enter that folder, so the script must keep the cluster elsewhere.
/// As a normal user the same steps check the plain case. Uses its own cluster on a free port; the test cluster is untouched.
/// </summary>
public sealed class LocalPostgresScriptTests
{
    [PostgresInstalledFact]
    public async Task PostgresScript_CloneInPrivateFolder_StartsServesStopsAndRestarts()
    {
        // Arrange: the local scripts of this working tree in <private folder>/clone/deploy/local (the script finds the
        // clone from its own path and needs nothing else from it).
        var privateFolder = Directory.CreateTempSubdirectory("sd-private-");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(privateFolder.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var clone = Path.Combine(privateFolder.FullName, "clone");
        var scripts = Directory.CreateDirectory(Path.Combine(clone, "deploy", "local")).FullName;
        foreach (var script in Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "deploy", "local"), "*.sh"))
            File.Copy(script, Path.Combine(scripts, Path.GetFileName(script)));
        var port = FreePort();
        Task<(int Code, string Output, string Errors)> Run(string verb) => RunScriptAsync(Path.Combine(scripts, "postgres.sh"), verb, port, clone);

        try
        {
            // Act
            var start = await Run("start");

            // Assert
            Assert.True(start.Code == 0, $"postgres.sh start failed ({start.Code}):\n{start.Errors}");
            var url = start.Output.Trim();
            Assert.Equal($"Host=127.0.0.1;Port={port};Username=postgres;Database=spectral", url);
            await using (var connection = new NpgsqlConnection(url))
            {
                await connection.OpenAsync();
                await using var query = new NpgsqlCommand("SELECT current_database()", connection);
                Assert.Equal("spectral", await query.ExecuteScalarAsync());
            }
            NpgsqlConnection.ClearAllPools();

            var data = (await Run("data-dir")).Output.Trim();
            Assert.True(File.Exists(Path.Combine(data, "PG_VERSION")), $"data-dir printed '{data}', which holds no cluster");
            if (Environment.UserName == "root")
                Assert.False(data.StartsWith(privateFolder.FullName, StringComparison.Ordinal), $"as root the cluster must live where the postgres user can enter: {data}");
            else
                Assert.Equal(Path.Combine(clone, ".local", "postgres", "data"), data);

            Assert.Equal(0, (await Run("stop")).Code);
            Assert.Equal(3, (await Run("status")).Code);
            var again = await Run("start");
            Assert.True(again.Code == 0, $"postgres.sh start after stop failed ({again.Code}):\n{again.Errors}");
            Assert.Equal(data, (await Run("data-dir")).Output.Trim());

            Assert.Equal(0, (await Run("destroy")).Code);
            Assert.False(Directory.Exists(data), $"destroy left {data}");
        }
        finally
        {
            await Run("destroy");
            privateFolder.Delete(recursive: true);
        }
    }

    static async Task<(int Code, string Output, string Errors)> RunScriptAsync(string script, string verb, int port, string workingDirectory)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(verb);
        start.Environment["SD_PG_PORT"] = port.ToString();
        start.Environment.Remove("SD_PG_DIR");
        start.Environment.Remove("SD_PG_DATABASE");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A fact that runs a local PostgreSQL cluster: skipped, with the reason, where no server is installed (the script would install one).</summary>
public sealed class PostgresInstalledFactAttribute : FactAttribute
{
    public PostgresInstalledFactAttribute()
    {
        if (!Directory.Exists("/usr/lib/postgresql") || !Directory.GetDirectories("/usr/lib/postgresql").Any(v => File.Exists(Path.Combine(v, "bin", "pg_ctl"))))
            Skip = "no PostgreSQL server under /usr/lib/postgresql/*/bin (deploy/local/postgres.sh start installs one)";
    }
}
