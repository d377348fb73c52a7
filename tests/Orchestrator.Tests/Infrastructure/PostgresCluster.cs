using System.Diagnostics;

namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>
/// The test cluster itself, for fault tests: <c>SD_TEST_PG_DATA_DIR</c> names its data folder (deploy/local/test.sh sets it).
/// As root the cluster belongs to the <c>postgres</c> user, so pg_ctl runs through runuser. The end-to-end tests link this file.
/// </summary>
public static class PostgresCluster
{
    public static string? DataDirectory => Environment.GetEnvironmentVariable("SD_TEST_PG_DATA_DIR") is { Length: > 0 } dir && Directory.Exists(dir) ? dir : null;

    /// <summary>The server's log (deploy/local/postgres.sh keeps it beside the data folder); the restarted postmaster writes there, not to our pipes.</summary>
    static string LogFile => Path.Combine(Path.GetDirectoryName(DataDirectory!.TrimEnd('/'))!, "postgres.log");

    /// <summary><c>pg_ctl restart -m fast</c>: every connection is cut, the server is back about a second later.</summary>
    public static Task RestartAsync() => PgCtlAsync("-w", "-m", "fast", "restart");

    /// <summary>An outage: <c>pg_ctl stop -m fast</c> (every connection cut, new ones refused) for <paramref name="duration"/>, then start.</summary>
    public static async Task OutageAsync(TimeSpan duration)
    {
        // pg_ctl start does not remember the port and socket options of the last start; postmaster.opts does.
        var line = (await File.ReadAllTextAsync(Path.Combine(DataDirectory!, "postmaster.opts"))).Trim();
        var options = line[(line.IndexOf(' ') + 1)..];
        await PgCtlAsync("-w", "-m", "fast", "stop");
        try { await Task.Delay(duration); }
        finally { await PgCtlAsync("-w", "-t", "60", "-o", options, "start"); }
    }

    static async Task PgCtlAsync(params string[] arguments)
    {
        var pgCtl = Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin", "pg_ctl")).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("pg_ctl not found under /usr/lib/postgresql/*/bin");
        var asRoot = Environment.UserName == "root";
        // From "/": as root, the postgres user may not be allowed into the current folder (a clone in a private home).
        var start = new ProcessStartInfo(asRoot ? "runuser" : pgCtl) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var argument in (asRoot ? new[] { "-u", "postgres", "--", pgCtl } : []).Concat(["-D", DataDirectory!, "-l", LogFile]).Concat(arguments))
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"pg_ctl {string.Join(' ', arguments)} failed ({process.ExitCode}): {output}");
    }
}

/// <summary>A fact that needs to stop or restart the test cluster: skipped, with the reason, when SD_TEST_PG_DATA_DIR is not set.</summary>
public sealed class PostgresRestartFactAttribute : FactAttribute
{
    public PostgresRestartFactAttribute()
    {
        if (PostgresCluster.DataDirectory is null)
            Skip = "SD_TEST_PG_DATA_DIR is not set to the test cluster's data folder (deploy/local/test.sh sets it); cannot restart PostgreSQL";
    }
}
