using Grpc.Core;
using Polly;
using Polly.Retry;
using Serilog;
using Serilog.Context;
using SpectralDiffusion.Shared.Build;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// The worker agent: registers this device with the orchestrator, then wires one session per registration: the
/// heartbeat (<see cref="HeartbeatLoop"/>), the assignment stream (<see cref="AssignmentFeed"/>) and the stop feed
/// <see cref="AttemptLifecycle"/>, which runs one attempt at a time. An unreachable orchestrator (or a name still held
/// by a lease) is retried with jittered back-off; a lost registration is renewed; a running attempt waits out an
/// orchestrator outage. Refused credentials (UNAUTHENTICATED, PERMISSION_DENIED) are not retried: waiting does not make
/// a wrong token right, so the agent stops with <see cref="OrchestratorRefusedException"/>. INTERNAL and UNKNOWN are
/// retried <see cref="AgentOptions.UnexpectedErrorRetries"/> times in a row, then the agent stops with
/// <see cref="OrchestratorFailingException"/>. Stopping (SIGTERM) lets the current training step finish, then deregisters.
/// </summary>
public sealed class WorkerAgent(AgentOptions options, ILogger log, TimeProvider? clock = null)
{
    // What attempts write also goes to the queue that is shipped to the orchestrator's job logs (unless shipping is off).
    readonly (AttemptLogQueue? Queue, ILogger Log) attemptLogging = AttemptLogging(options, log);

    static readonly StatusCode[] Retryable =
        [StatusCode.Unavailable, StatusCode.AlreadyExists, StatusCode.Internal, StatusCode.DeadlineExceeded, StatusCode.Unknown,
         StatusCode.ResourceExhausted]; // an address blocked for failed logins is unblocked when its window ends

    static readonly TimeSpan RegisterDeadline = TimeSpan.FromSeconds(10);

    readonly TimeProvider time = clock ?? TimeProvider.System;
    readonly UnexpectedErrors registerErrors = new("Register", options.Orchestrator, options.UnexpectedErrorRetries);
    int attemptsRun;

    public async Task<int> RunAsync(CancellationToken stop)
    {
        options.Validate();
        TorchRuntime.EnsureLoaded();
        if (options.Threads > 0) TorchRuntime.SetThreads(options.Threads);
        var (device, index) = DeviceDetector.Detect(options.Device);
        var name = options.Name.Length > 0 ? options.Name : $"{Environment.MachineName}-{(device == DeviceKind.Cuda ? $"cuda{index}" : "cpu")}";
        Directory.CreateDirectory(options.WorkDirectory);
        using var connection = new OrchestratorConnection(options.Orchestrator, options.Token);
        using var _ = LogContext.PushProperty("Worker", name);
        var reconnect = Reconnect();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                RegisterWorkerResponse registration;
                try
                {
                    // A stop cancels the back-off between attempts, not a Register in flight: cut off mid-call, the worker would be
                    // registered on the orchestrator without knowing its id, and could not deregister (it would end up lost).
                    registration = await reconnect.ExecuteAsync(async _ => await connection.Workers.RegisterAsync(new RegisterWorkerRequest
                    {
                        Name = name, Node = Environment.MachineName, Device = device, DeviceIndex = index,
                        Address = options.AdvertiseAddress, Version = BuildVersion.Of(typeof(WorkerAgent).Assembly),
                        Labels = { options.Labels },
                    }, deadline: DateTime.UtcNow + RegisterDeadline), stop);
                    registerErrors.Succeeded();
                }
                catch (RpcException e) when (OrchestratorRefusedException.Is(e)) { throw OrchestratorRefusedException.For(options.Orchestrator, e); }
                catch (RpcException e) when (UnexpectedErrors.Counts(e)) { throw registerErrors.Exhausted(); }
                connection.UseCredential(registration.WorkerId, registration.WorkerSecret);
                using var __ = LogContext.PushProperty("WorkerId", registration.WorkerId);
                log.Information("Registered as {WorkerId} ({Device} {Index}) with {Address}; lease {Lease}", registration.WorkerId, device, index, options.Orchestrator, registration.Lease.ToTimeSpan());
                if (await ServeAsync(connection, registration, device, stop)) break;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        return 0;
    }

    /// <summary>
    /// One registration's session: runs attempts until stopped or <see cref="AgentOptions.MaxAttempts"/> have run (true:
    /// deregistered), or until the registration must be renewed (false). The assignment stream and the heartbeat go on while
    /// a stopping attempt finishes its step; the worker deregisters before they close, so the orchestrator sees a worker
    /// that left, not a lost one.
    /// </summary>
    async Task<bool> ServeAsync(OrchestratorConnection connection, RegisterWorkerResponse registration, DeviceKind device, CancellationToken stop)
    {
        var workerId = registration.WorkerId;
        using var session = new CancellationTokenSource();
        var runner = new AttemptRunner(options, connection, workerId, device, session.Token, attemptLogging.Log);
        var lifecycle = new AttemptLifecycle(runner, time, log, options.MaxAttempts > 0 ? options.MaxAttempts - attemptsRun : null);
        void Lose(Exception? failure)
        {
            lifecycle.Post(new LifecycleEvent.SessionLost(failure));
            session.Cancel();
        }
        var interval = registration.HeartbeatInterval.ToTimeSpan();
        var shipper = attemptLogging.Queue is { } queue ? new LogShipper(connection.Workers, workerId, queue, log, time) : null;
        var shipping = shipper?.RunAsync(session.Token) ?? Task.CompletedTask;
        // A beat may wait up to a third of the lease for its answer before the stream is abandoned: on a slow link an upload
        // delays the answer by seconds, and abandoning the stream (a reset on the shared connection) costs more than waiting.
        var beatTimeout = TimeSpan.FromTicks(Math.Max(interval.Ticks, registration.Lease.ToTimeSpan().Ticks / 3));
        using var heartbeats = new HeartbeatStream(connection.Workers, workerId, beatTimeout);
        var heartbeat = new HeartbeatLoop(heartbeats, interval, Path.Combine(options.WorkDirectory, "alive"), Lose,
            new UnexpectedErrors("Heartbeat", options.Orchestrator, options.UnexpectedErrorRetries), time, log, workerId).RunAsync(session.Token);
        var feed = new AssignmentFeed(ct => AssignmentFeed.Stream(connection.Workers, workerId, ct), lifecycle.Post, Lose,
            new UnexpectedErrors("Assignments", options.Orchestrator, options.UnexpectedErrorRetries), time, log, workerId).RunAsync(session.Token);
        await using (stop.Register(() => lifecycle.Post(new LifecycleEvent.StopRequested())))
            await lifecycle.RunAsync(CancellationToken.None);
        // The last lines (an attempt's error) go out while this registration's credential is still good.
        if (shipper is not null)
        {
            await shipper.ShipAsync(CancellationToken.None);
            var (lines, batches, shippingTime) = shipper.Shipped;
            log.Information("Log shipping this session: {Lines} lines in {Batches} batches; {QueueMs:F1} ms rendering and queuing lines, {ShipMs:F1} ms in shipping calls (wall time)",
                lines, batches, attemptLogging.Queue!.EmitTime.TotalMilliseconds, shippingTime.TotalMilliseconds);
        }
        if (lifecycle.End == SessionEnd.Deregister) await DeregisterAsync(connection, workerId);
        await session.CancelAsync();
        await lifecycle.DrainAsync();
        await Task.WhenAll(feed, heartbeat, shipping);
        attemptsRun += lifecycle.AttemptsEnded;
        if (lifecycle.Failure is { } failure) throw failure;
        return lifecycle.End == SessionEnd.Deregister;
    }

    /// <summary>The attempts' logger: <paramref name="inner"/>, with every event of Information and above also offered to the shipping queue.</summary>
    static (AttemptLogQueue?, ILogger) AttemptLogging(AgentOptions options, ILogger inner)
    {
        if (!options.ShipLogs) return (null, inner);
        var queue = new AttemptLogQueue();
        return (queue, new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .Enrich.FromLogContext()
            .WriteTo.Logger(inner)
            .WriteTo.Sink(queue, Serilog.Events.LogEventLevel.Information)
            .CreateLogger());
    }

    ResiliencePipeline Reconnect() => new ResiliencePipelineBuilder { TimeProvider = time }
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder()
                .Handle<RpcException>(e => Retryable.Contains(e.StatusCode) && (!UnexpectedErrors.Counts(e) || registerErrors.TryRetry(e)))
                .Handle<HttpRequestException>(),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(500),
            MaxDelay = options.RegistrationBackoffCap,
            MaxRetryAttempts = int.MaxValue,
            OnRetry = arguments =>
            {
                var reason = arguments.Outcome.Exception switch
                {
                    RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
                    { } other => other.Message,
                    null => "unknown",
                };
                log.Warning("Orchestrator at {Address} refused or unreachable ({Reason}); retrying in {Delay}", options.Orchestrator, reason, arguments.RetryDelay);
                return ValueTask.CompletedTask;
            },
        })
        .Build();

    async Task DeregisterAsync(OrchestratorConnection connection, string workerId)
    {
        try
        {
            await connection.Workers.DeregisterAsync(new DeregisterRequest { WorkerId = workerId, Reason = "agent stopped" },
                deadline: DateTime.UtcNow.AddSeconds(5));
            log.Information("Deregistered {WorkerId}", workerId);
        }
        catch (RpcException e)
        {
            log.Warning("Could not deregister {WorkerId}: {Status}", workerId, e.Status.Detail);
        }
    }
}
