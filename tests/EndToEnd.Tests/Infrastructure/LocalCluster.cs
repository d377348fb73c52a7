using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using SpectralDiffusion.Shared.Rpc;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real local deployment for one test: a fresh PostgreSQL database, an orchestrator process on a free loopback port
/// with short leases and the test folder as its one data root, and worker agent processes started on demand. The
/// orchestrator can be killed and started again on the same port, database and artifact folder. With a standby, a second
/// orchestrator serves on its own port against the same database and folder; workers and this cluster's clients are
/// given both addresses. Everything is stopped and removed on dispose.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string WorkerToken = "e2e-worker-token";
    public const string ApiKey = "e2e-submit-api-key";
    public const string ReadKey = "e2e-read-api-key";
    readonly EndToEndDatabase database;
    readonly List<ChildProcess> workers = new();
    readonly List<ChildProcess> orchestrators = new();
    readonly GrpcChannel[] channels;
    readonly ITestOutputHelper? output;

    LocalCluster(EndToEndDatabase database, string root, int port, int? standbyPort, TimeSpan lease, ITestOutputHelper? output)
    {
        Lease = lease;
        this.database = database;
        this.output = output;
        Root = root;
        Port = port;
        DashboardPort = FreePort();
        StandbyPort = standbyPort;
        StandbyDashboardPort = standbyPort is null ? null : FreePort();
        // Reconnect soon after an orchestrator restart (the default back-off grows to two minutes).
        channels = OrchestratorAddress.ParseList(OrchestratorAddresses, "addresses")
            .Select(address => GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReconnectBackoff = TimeSpan.FromSeconds(1) })).ToArray();
        CallInvoker channel = new FailoverInvoker(channels.Select(c => c.CreateCallInvoker()).ToList());
        var invoker = channel.Intercept(metadata => { metadata.Add("x-api-key", ApiKey); return metadata; });
        Jobs = new Jobs.JobsClient(invoker);
        History = new RunHistory.RunHistoryClient(invoker);
        Sweeps = new Shared.Contracts.V1.Sweeps.SweepsClient(invoker);
        WorkerList = new Workers.WorkersClient(invoker);
        Workers = new Workers.WorkersClient(channel.Intercept(metadata => { metadata.Add("x-worker-token", WorkerToken); return metadata; }));
        Artifacts = new JobArtifacts.JobArtifactsClient(channel.Intercept(metadata => { metadata.Add("x-api-key", ReadKey); return metadata; }));
    }

    public string Root { get; }
    public int Port { get; }
    public string Address => $"http://127.0.0.1:{Port}";
    /// <summary>The standby orchestrator's port, when the cluster has one.</summary>
    public int? StandbyPort { get; }
    public int? StandbyDashboardPort { get; }
    /// <summary>The workers' lease on every orchestrator of this cluster.</summary>
    public TimeSpan Lease { get; }
    /// <summary>What workers and clients are given: the orchestrator's address, and the standby's after it.</summary>
    public string OrchestratorAddresses => StandbyPort is { } standby ? $"{Address},http://127.0.0.1:{standby}" : Address;
    /// <summary>The web dashboard's port (pages under /ui; the API key in x-api-key).</summary>
    public int DashboardPort { get; }
    public string DashboardAddress => $"http://127.0.0.1:{DashboardPort}";
    public string ArtifactRoot => Path.Combine(Root, "artifacts");
    public string DatabaseConnectionString => database.ConnectionString;
    /// <summary>The orchestrator process started last.</summary>
    public ChildProcess Orchestrator => orchestrators[^1];
    public Jobs.JobsClient Jobs { get; }
    public RunHistory.RunHistoryClient History { get; }
    public Shared.Contracts.V1.Sweeps.SweepsClient Sweeps { get; }
    /// <summary>Workers.List (needs an API key, not the worker token).</summary>
    public Workers.WorkersClient WorkerList { get; }
    public Workers.WorkersClient Workers { get; }
    /// <summary>A job's artifacts, with the read key (as users download them).</summary>
    public JobArtifacts.JobArtifactsClient Artifacts { get; }

    /// <summary>
    /// A fresh database and folder; the orchestrator is started unless <paramref name="startOrchestrator"/> is false. With
    /// <paramref name="withStandby"/> the cluster has a standby port (<see cref="StartStandbyAsync"/> starts it). The lease is 4 s unless given.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(ITestOutputHelper? output = null, bool startOrchestrator = true, bool withStandby = false,
        TimeSpan? lease = null)
    {
        var database = await EndToEndDatabase.CreateAsync();
        var cluster = new LocalCluster(database, Directory.CreateTempSubdirectory("sd-e2e-").FullName, FreePort(), withStandby ? FreePort() : null,
            lease ?? TimeSpan.FromSeconds(4), output);
        if (startOrchestrator) await cluster.StartOrchestratorAsync();
        return cluster;
    }

    /// <summary>Starts an orchestrator process on this cluster's port, database and artifact folder, and waits until it serves.</summary>
    public async Task StartOrchestratorAsync()
    {
        orchestrators.Add(StartOrchestratorProcess(Port, DashboardPort));
        await WaitUntilServingAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Starts the standby orchestrator on <see cref="StandbyPort"/> and waits until it answers (not ready: the other one is active).</summary>
    public async Task<ChildProcess> StartStandbyAsync()
    {
        var (port, dashboardPort) = StandbyPort is { } standbyPort ? (standbyPort, StandbyDashboardPort!.Value)
            : throw new InvalidOperationException("this cluster was started without a standby port");
        var standby = StartOrchestratorProcess(port, dashboardPort);
        orchestrators.Insert(0, standby);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (DateTime.UtcNow < deadline)
        {
            if (standby.HasExited) throw new InvalidOperationException($"standby exited with {standby.ExitCode}:\n{standby.Output}");
            try
            {
                await http.GetAsync($"http://127.0.0.1:{dashboardPort}/healthz/ready");
                return standby;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { await Task.Delay(200); }
        }
        throw new TimeoutException($"standby did not serve within a minute:\n{standby.Output}");
    }

    /// <summary>The readiness endpoint's answer on a dashboard port: only the active orchestrator is ready.</summary>
    public static async Task<bool> IsReadyAsync(int dashboardPort)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try { return (await http.GetAsync($"http://127.0.0.1:{dashboardPort}/healthz/ready")).IsSuccessStatusCode; }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
    }

    ChildProcess StartOrchestratorProcess(int port, int dashboardPort) =>
        ChildProcess.Start($"orchestrator-{orchestrators.Count + 1}", "orchestrator",
        [
            "serve",
            $"--Orchestrator:Database={database.ConnectionString}",
            $"--Orchestrator:Port={port}", $"--Orchestrator:DashboardPort={dashboardPort}",
            $"--Orchestrator:AdvertisedAddress=127.0.0.1:{port}",
            "--Orchestrator:StandbyPollInterval=00:00:00.250",
            $"--Orchestrator:ArtifactRoot={ArtifactRoot}",
            $"--Orchestrator:DataRoots:0={Root}",
            $"--Orchestrator:WorkerToken={WorkerToken}",
            $"--Orchestrator:ApiKeys:0:Key={ApiKey}",
            "--Orchestrator:ApiKeys:0:Role=submit",
            $"--Orchestrator:ApiKeys:1:Key={ReadKey}",
            "--Orchestrator:ApiKeys:1:Role=read",
            $"--Orchestrator:Lease={Lease:c}",
            "--Orchestrator:HeartbeatInterval=00:00:01",
            "--Orchestrator:WatchdogInterval=00:00:00.500",
            "--Orchestrator:SchedulerInterval=00:00:00.250",
        ]);

    /// <summary>SIGKILL of the orchestrator: no shutdown, no goodbye to the workers.</summary>
    public async Task KillOrchestratorAsync()
    {
        Orchestrator.KillHard();
        await Orchestrator.WaitForExitAsync();
    }

    /// <summary>
    /// Starts a worker agent process with one torch thread (agents share this machine's cores). A silent peer fails an
    /// all-reduce after <paramref name="collectiveTimeoutSeconds"/>. Its data root is <see cref="Root"/>.
    /// </summary>
    public ChildProcess StartWorker(string name, int collectiveTimeoutSeconds = 20, string token = WorkerToken)
    {
        var worker = ChildProcess.Start(name, "worker",
        [
            "agent", "--orchestrator", OrchestratorAddresses, "--token", token, "--device", "cpu", "--name", name,
            "--threads", "1", "--work-dir", Path.Combine(Root, name), "--data-root", Root, "--collective-timeout", collectiveTimeoutSeconds.ToString(),
        ]);
        workers.Add(worker);
        return worker;
    }

    public async Task<string> SubmitAsync(JobSpec spec) => (await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec })).Id;

    /// <summary>Polls the job until it reaches one of <paramref name="states"/>; fails with every process's output after the timeout.</summary>
    public async Task<Job> WaitForAsync(string jobId, TimeSpan timeout, params JobState[] states)
    {
        var deadline = DateTime.UtcNow + timeout;
        Job job;
        do
        {
            job = await GetJobAsync(jobId);
            if (states.Contains(job.State)) return job;
            if (job.State is JobState.Failed or JobState.Cancelled && !states.Contains(job.State)) break;
            await Task.Delay(250);
        } while (DateTime.UtcNow < deadline);
        throw new Xunit.Sdk.XunitException($"job {jobId} is {job.State} ({job.FailureReason}), expected {string.Join(" or ", states)}\n{Logs()}");
    }

    /// <summary>Waits until the job's progress reaches <paramref name="step"/>.</summary>
    public async Task<Job> WaitForStepAsync(string jobId, long step, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var job = await GetJobAsync(jobId);
            if (job.Progress?.Step >= step && job.Progress.Phase == "train") return job;
            if (job.State is JobState.Failed or JobState.Succeeded or JobState.Cancelled) throw new Xunit.Sdk.XunitException($"job {jobId} ended {job.State} before step {step}\n{Logs()}");
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"job {jobId} did not reach step {step}\n{Logs()}");
    }

    /// <summary>The job, asked again while the orchestrator is away (restarting) for up to a minute.</summary>
    public async Task<Job> GetJobAsync(string jobId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            try { return await Jobs.GetAsync(new GetJobRequest { Id = jobId }, deadline: DateTime.UtcNow.AddSeconds(30)); }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>Downloads <paramref name="what"/> of the job (model, checkpoint:STEP, a listed name) with the read key into the
    /// test folder and returns its path.</summary>
    public async Task<string> DownloadAsync(string jobId, string what)
    {
        var path = Path.Combine(Root, "downloads", jobId, what.Replace('/', '_').Replace(':', '-'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var call = Artifacts.Download(new DownloadJobArtifactRequest { JobId = jobId, What = what });
        await using var file = File.Create(path);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            if (chunk.PartCase == JobArtifactChunk.PartOneofCase.Data) chunk.Data.WriteTo(file);
        return path;
    }

    public string Logs() =>
        string.Join("\n", orchestrators.Concat(workers).Select(p => $"----- {p.Name} -----\n{Tail(p.Output, 6000)}"));

    static string Tail(string text, int characters) => text.Length <= characters ? text : text[^characters..];

    async Task WaitUntilServingAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Orchestrator.HasExited) throw new InvalidOperationException($"orchestrator exited with {Orchestrator.ExitCode}:\n{Orchestrator.Output}");
            try
            {
                await Jobs.ListAsync(new ListJobsRequest { PageSize = 1 }, deadline: DateTime.UtcNow.AddSeconds(2));
                return;
            }
            catch (RpcException) { await Task.Delay(200); }
        }
        throw new TimeoutException($"orchestrator did not serve within {timeout}:\n{Orchestrator.Output}");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in workers) await worker.DisposeAsync();
        if (orchestrators.Count > 0) await Orchestrator.StopAsync(TimeSpan.FromSeconds(10));
        foreach (var orchestrator in orchestrators) await orchestrator.DisposeAsync();
        if (output is not null)
            try { output.WriteLine(Logs()); } catch (InvalidOperationException) { }
        foreach (var channel in channels) channel.Dispose();
        await database.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
