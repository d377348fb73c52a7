using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Nodes simulated on this machine by <c>deploy/local/cluster-sim.sh</c>: a control node holding PostgreSQL and the
/// orchestrator, and nodes n1..nN each with its own network namespace and /dev/shm, joined to a bridge through links
/// shaped with tc tbf. Workers run inside their node and advertise its address. The cluster's name is derived from the
/// test's, and it is removed before it is made (what a crashed run left) and again on dispose.
/// </summary>
public sealed class SimulatedCluster : IAsyncDisposable
{
    public const string WorkerToken = LocalCluster.WorkerToken;
    const int GrpcPort = 50051;
    static readonly string Script = Path.Combine(RepositoryRoot.Path, "deploy", "local", "cluster-sim.sh");
    static readonly Lazy<string?> Probe = new(ProbeOnce);
    readonly List<ChildProcess> processes = new();
    readonly ITestOutputHelper? output;
    GrpcChannel? channel;

    SimulatedCluster(string name, int nodes, ITestOutputHelper? output)
    {
        (Name, NodeCount, this.output) = (name, nodes, output);
        Root = Directory.CreateTempSubdirectory($"sd-sim-{name}-").FullName;
    }

    /// <summary>Why nodes cannot be simulated here (the script's exact error), or null when they can.</summary>
    public static string? WhyUnavailable => Probe.Value;

    public string Name { get; }
    public int NodeCount { get; }
    public string Root { get; }
    public string ArtifactRoot => Path.Combine(Root, "artifacts");
    public string OrchestratorAddress => $"http://{AddressOf("ctl")}:{GrpcPort}";
    public ChildProcess? Orchestrator { get; private set; }
    public Jobs.JobsClient Jobs { get; private set; } = null!;
    public RunHistory.RunHistoryClient History { get; private set; } = null!;

    /// <summary>Makes <paramref name="nodes"/> nodes with links shaped to <paramref name="rate"/> (tc syntax), and starts PostgreSQL and the orchestrator in ctl.</summary>
    public static async Task<SimulatedCluster> StartAsync(ITestOutputHelper? output, int nodes, string rate = "1gbit", bool orchestrator = true,
        int leaseSeconds = 4, [CallerMemberName] string test = "")
    {
        var cluster = new SimulatedCluster(NameFor(test), nodes, output);
        try
        {
            await cluster.RunScriptAsync("down", cluster.Name);
            await cluster.RunScriptAsync("up", cluster.Name, nodes.ToString(), rate);
            if (orchestrator) await cluster.StartOrchestratorAsync((await cluster.RunScriptAsync("postgres", cluster.Name)).Trim(), leaseSeconds);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// "s" and 7 hex digits of the checkout's path and the test's name (a bridge name, NAME-br, must fit 15 characters):
    /// the same test run from two clones at once gets two clusters.
    /// </summary>
    static string NameFor(string test) =>
        "s" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{RepositoryRoot.Path}|{test}")))[..7];

    public string AddressOf(string node) => RunScript("address", Name, node).Trim();

    /// <summary>Starts <c>dotnet assembly.dll args</c> inside <paramref name="node"/> (its network, its /dev/shm).</summary>
    public ChildProcess StartIn(string node, string name, string assembly, IEnumerable<string> arguments)
    {
        var process = ChildProcess.Start(name, assembly, arguments, launcher: [Script, "exec", Name, node]);
        processes.Add(process);
        return process;
    }

    /// <summary>A CPU worker agent on <paramref name="node"/> advertising the node's address, one torch thread.</summary>
    public ChildProcess StartWorker(string name, string node, int collectiveTimeoutSeconds = 20) => StartIn(node, name, "worker",
    [
        "agent", "--orchestrator", OrchestratorAddress, "--token", WorkerToken, "--device", "cpu", "--name", name, "--advertise", AddressOf(node),
        "--threads", "1", "--work-dir", Path.Combine(Root, name), "--data-root", Root, "--collective-timeout", collectiveTimeoutSeconds.ToString(),
    ]);

    /// <summary>Pulls (false) or plugs back (true) <paramref name="node"/>'s cable: it reaches neither its peers nor the orchestrator.</summary>
    public Task SetLinkAsync(string node, bool up) => RunScriptAsync("link", Name, node, up ? "up" : "down");

    /// <summary>Cuts <paramref name="node"/> off from the orchestrator (true) while it still reaches the other nodes, or undoes it.</summary>
    public Task SetIsolatedAsync(string node, bool isolated) => RunScriptAsync(isolated ? "isolate" : "rejoin", Name, node);

    /// <summary>Runs SQL on the control node's PostgreSQL; returns psql's unaligned rows.</summary>
    public Task<string> QueryAsync(string sql) =>
        RunScriptAsync("exec", Name, "ctl", "runuser", "-u", "postgres", "--", "psql", "-h", "127.0.0.1", "-p", "5432", "-d", "spectral", "-AtXc", sql);

    public async Task<string> SubmitAsync(JobSpec spec) => (await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec })).Id;

    /// <summary>Polls the job until <paramref name="reached"/> holds; fails with every process's output when it ends otherwise or the time is up.</summary>
    public async Task<Job> WaitUntilAsync(string jobId, Func<Job, bool> reached, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Job? job = null;
        while (DateTime.UtcNow < deadline)
        {
            try { job = await Jobs.GetAsync(new GetJobRequest { Id = jobId }, deadline: DateTime.UtcNow.AddSeconds(10)); }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded) { }
            if (job is not null && reached(job)) return job;
            if (job?.State is JobState.Failed or JobState.Cancelled or JobState.Succeeded) break;
            await Task.Delay(200);
        }
        throw new Xunit.Sdk.XunitException($"job {jobId} did not reach {what}: {job?.State} ({job?.FailureReason}), step {job?.Progress?.Step}\n{Logs()}");
    }

    public string Logs() => string.Join("\n", processes.Select(p => $"----- {p.Name} -----\n{(p.Output.Length <= 6000 ? p.Output : p.Output[^6000..])}"));

    async Task StartOrchestratorAsync(string database, int leaseSeconds)
    {
        Orchestrator = StartIn("ctl", "orchestrator", "orchestrator",
        [
            "serve", $"--Orchestrator:Database={database}", "--Orchestrator:Host=0.0.0.0",
            $"--Orchestrator:Port={GrpcPort}", "--Orchestrator:DashboardPort=8080",
            $"--Orchestrator:ArtifactRoot={ArtifactRoot}", $"--Orchestrator:DataRoots:0={Root}",
            $"--Orchestrator:WorkerToken={WorkerToken}",
            $"--Orchestrator:ApiKeys:0:Key={LocalCluster.ApiKey}", "--Orchestrator:ApiKeys:0:Role=submit",
            $"--Orchestrator:Lease={TimeSpan.FromSeconds(leaseSeconds)}", "--Orchestrator:HeartbeatInterval=00:00:01",
            "--Orchestrator:WatchdogInterval=00:00:00.500", "--Orchestrator:SchedulerInterval=00:00:00.250",
        ]);
        channel = GrpcChannel.ForAddress(OrchestratorAddress, new GrpcChannelOptions { MaxReconnectBackoff = TimeSpan.FromSeconds(1) });
        var invoker = channel.Intercept(metadata => { metadata.Add("x-api-key", LocalCluster.ApiKey); return metadata; });
        (Jobs, History) = (new Jobs.JobsClient(invoker), new RunHistory.RunHistoryClient(invoker));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (Orchestrator.HasExited) throw new InvalidOperationException($"orchestrator exited with {Orchestrator.ExitCode}:\n{Orchestrator.Output}");
            try
            {
                await Jobs.ListAsync(new ListJobsRequest { PageSize = 1 }, deadline: DateTime.UtcNow.AddSeconds(2));
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline) { await Task.Delay(200); }
        }
    }

    Task<string> RunScriptAsync(params string[] arguments) => Task.Run(() => RunScript(arguments));

    /// <summary>Runs the script; a non-zero exit throws with its exact error output.</summary>
    static string RunScript(params string[] arguments)
    {
        var start = new ProcessStartInfo(Script) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"cluster-sim.sh {string.Join(' ', arguments)} exited with {process.ExitCode}: {error.Result.Trim()}");
        return text;
    }

    /// <summary>Makes and removes a one-node cluster once per test run; the error is the reason every simulated-node test is skipped.</summary>
    static string? ProbeOnce()
    {
        var name = $"sp{Environment.ProcessId % 1_000_000}";
        try
        {
            RunScript("up", name, "1", "10mbit");
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"simulated nodes are not available here: {e.Message}";
        }
        finally
        {
            try { RunScript("down", name); } catch (InvalidOperationException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes) await process.DisposeAsync();
        if (output is not null)
            try { output.WriteLine(Logs()); } catch (InvalidOperationException) { }
        channel?.Dispose();
        try { RunScript("down", Name); } catch (InvalidOperationException e) { output?.WriteLine(e.Message); }
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A fact that needs simulated nodes (root, iproute2, namespaces): skipped with the script's exact error where they cannot be made.</summary>
public sealed class SimulatedNodesFactAttribute : FactAttribute
{
    public SimulatedNodesFactAttribute()
    {
        if (SimulatedCluster.WhyUnavailable is { } reason) Skip = reason;
    }
}
