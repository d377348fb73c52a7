using Grpc.Core;
using Polly;
using Polly.Retry;
using Serilog;
using Serilog.Context;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// The worker agent: registers this device with the orchestrator, heartbeats, takes assignments from the stream and
/// runs one attempt at a time. An unreachable orchestrator (or a name still held by a lease) is retried with jittered
/// back-off; a lost registration is renewed; a running attempt waits out an orchestrator outage. Refused credentials
/// (UNAUTHENTICATED, PERMISSION_DENIED) are not retried: waiting does not make a wrong token right, so the agent stops
/// with <see cref="OrchestratorRefusedException"/>. Stopping (SIGTERM) lets the current training step finish, then
/// deregisters.
/// </summary>
public sealed class WorkerAgent(AgentOptions options, ILogger log)
{
    static readonly StatusCode[] Retryable =
        [StatusCode.Unavailable, StatusCode.AlreadyExists, StatusCode.Internal, StatusCode.DeadlineExceeded, StatusCode.Unknown];

    readonly ResiliencePipeline reconnect = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => Retryable.Contains(e.StatusCode)).Handle<HttpRequestException>(),
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

    static readonly TimeSpan RegisterDeadline = TimeSpan.FromSeconds(10);

    int attemptsRun;
    RpcException? refusal;

    static bool IsRefusal(RpcException e) => e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied;

    OrchestratorRefusedException Refused(RpcException e) => new(
        $"the orchestrator at {options.Orchestrator} refused this worker ({e.StatusCode}: {e.Status.Detail}). Check --token / SD_WORKER_TOKEN: " +
        "it must equal the orchestrator's Orchestrator:WorkerToken. Stopping: a refused credential does not become valid by waiting.", e);

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
                        Address = options.AdvertiseAddress, Version = typeof(WorkerAgent).Assembly.GetName().Version?.ToString() ?? "",
                        Labels = { options.Labels },
                    }, deadline: DateTime.UtcNow + RegisterDeadline), stop);
                }
                catch (RpcException e) when (IsRefusal(e)) { throw Refused(e); }
                var workerId = registration.WorkerId;
                connection.UseCredential(workerId, registration.WorkerSecret);
                using var __ = LogContext.PushProperty("WorkerId", workerId);
                log.Information("Registered as {WorkerId} ({Device} {Index}) with {Address}; lease {Lease}", workerId, device, index, options.Orchestrator, registration.Lease.ToTimeSpan());

                // The session ends when the registration is lost or, after stopping, once deregistered; an attempt running in a
                // lost session is aborted. Heartbeats go on while a stopping attempt finishes its step.
                using var session = new CancellationTokenSource();
                var heartbeat = HeartbeatAsync(connection, workerId, registration.HeartbeatInterval.ToTimeSpan(), session, session.Token);
                var finished = await ServeAssignmentsAsync(connection, workerId, device, session.Token, stop);
                await session.CancelAsync();
                await heartbeat;
                if (refusal is not null) throw Refused(refusal);
                if (finished) break;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        return 0;
    }

    /// <summary>
    /// Runs attempts from the stream until stopped or <see cref="AgentOptions.MaxAttempts"/> have run (true: deregistered), or
    /// until the registration must be renewed (false). A start order for the attempt this agent runs or last ran is never
    /// run again (a reopened stream repeats it). Stopping keeps the stream open while the attempt finishes its step, then
    /// deregisters, and only then closes the stream: the orchestrator sees a worker that left, not a lost one.
    /// </summary>
    async Task<bool> ServeAssignmentsAsync(OrchestratorConnection connection, string workerId, DeviceKind device, CancellationToken session, CancellationToken stop)
    {
        var runner = new AttemptRunner(options, connection, workerId, device, log);
        Task running = Task.CompletedTask;
        Task<AttemptResult?> outcome = Task.FromResult<AttemptResult?>(null);
        CancellationTokenSource? abort = null;
        CancellationTokenSource? graceful = null;
        AssignmentStart? current = null;
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var stopping = stop.Register(() => finished.TrySetResult());
        using var listening = CancellationTokenSource.CreateLinkedTokenSource(session);
        var stream = ListenAsync();
        try
        {
            if (await Task.WhenAny(stream, finished.Task) == stream) return await stream;
            // On stop the trainer sees the cancelled token, finishes its step and returns.
            await running;
            await DeregisterAsync(connection, workerId);
            return true;
        }
        finally
        {
            await listening.CancelAsync();
            // A lost session aborts the attempt.
            if (session.IsCancellationRequested) await (abort?.CancelAsync() ?? Task.CompletedTask);
            await running;
            await stream;
            abort?.Dispose();
            graceful?.Dispose();
        }

        // Reads orders until the stream's token is cancelled (false) or the orchestrator no longer knows this worker (false).
        async Task<bool> ListenAsync()
        {
            try
            {
                while (!listening.IsCancellationRequested)
                {
                    try
                    {
                        using var call = connection.Workers.Assignments(new AssignmentsRequest { WorkerId = workerId }, cancellationToken: listening.Token);
                        await foreach (var assignment in call.ResponseStream.ReadAllAsync(listening.Token))
                        {
                            if (finished.Task.IsCompleted) continue;   // stopping: no new attempt
                            if (assignment.KindCase == Assignment.KindOneofCase.Start)
                            {
                                if (current is not null && assignment.Start.JobId == current.JobId && assignment.Start.Attempt == current.Attempt)
                                {
                                    // A reopened stream repeats the order of the attempt this agent runs or ran: it never runs twice. A
                                    // finished one's result is sent again (harmless if it arrived; needed if an outage lost it).
                                    if (outcome is { IsCompletedSuccessfully: true, Result: { } result }) await runner.DeliverAsync(result, listening.Token);
                                    continue;
                                }
                                if (!running.IsCompleted && abort is { IsCancellationRequested: true })
                                    await running;   // the previous attempt was aborted and is winding down: its successor waits for it
                                if (!running.IsCompleted)
                                {
                                    log.Warning("Ignoring assignment of job {JobId}: attempt {Attempt} of job {Running} is still running", assignment.Start.JobId, current?.Attempt, current?.JobId);
                                    continue;
                                }
                                current = assignment.Start;
                                abort?.Dispose();
                                graceful?.Dispose();
                                // Abort: tear the collective down now. Stop: let the current step finish, then return.
                                abort = CancellationTokenSource.CreateLinkedTokenSource(session);
                                graceful = CancellationTokenSource.CreateLinkedTokenSource(stop, abort.Token);
                                outcome = runner.RunAsync(current, graceful.Token, abort.Token);
                                running = outcome.ContinueWith(_ =>
                                {
                                    if (Interlocked.Increment(ref attemptsRun) == options.MaxAttempts) finished.TrySetResult();
                                }, TaskScheduler.Default);
                            }
                            else if (assignment.Abort is { } order && current is not null && order.JobId == current.JobId && order.Attempt == current.Attempt)
                            {
                                log.Warning("Abort of job {JobId} attempt {Attempt}: {Reason}", order.JobId, order.Attempt, order.Reason);
                                await (abort?.CancelAsync() ?? Task.CompletedTask);
                            }
                        }
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
                    {
                        log.Warning("The orchestrator no longer knows worker {WorkerId}; registering again", workerId);
                        return false;
                    }
                    catch (RpcException e) when (IsRefusal(e))
                    {
                        refusal = e;
                        return false;
                    }
                    catch (RpcException e) when (!listening.IsCancellationRequested)
                    {
                        log.Warning("Assignment stream broke ({Status}); reconnecting", e.Status.Detail);
                        await Task.Delay(TimeSpan.FromSeconds(1), listening.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (listening.IsCancellationRequested) { }
            catch (RpcException) when (listening.IsCancellationRequested) { }
            return false;
        }
    }

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

    async Task HeartbeatAsync(OrchestratorConnection connection, string workerId, TimeSpan interval, CancellationTokenSource session, CancellationToken token)
    {
        var alive = Path.Combine(options.WorkDirectory, "alive");
        using var heartbeats = new HeartbeatStream(connection.Workers, workerId, beatTimeout: interval);
        try
        {
            while (!token.IsCancellationRequested)
            {
                try
                {
                    await heartbeats.BeatAsync(token);
                    File.WriteAllText(alive, DateTime.UtcNow.ToString("O"));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
                {
                    log.Warning("Heartbeat refused: worker {WorkerId} is gone on the orchestrator; registering again", workerId);
                    await session.CancelAsync();
                    return;
                }
                catch (RpcException e) when (IsRefusal(e))
                {
                    refusal = e;
                    await session.CancelAsync();
                    return;
                }
                catch (RpcException e) when (!token.IsCancellationRequested)
                {
                    log.Warning("Heartbeat failed ({Status}); retrying", e.Status.Detail);
                }
                await Task.Delay(interval, token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested) { }
        catch (RpcException) when (token.IsCancellationRequested) { }
    }
}

/// <summary>The orchestrator refused this worker's credentials; the agent stops instead of retrying. The message says what to check.</summary>
public sealed class OrchestratorRefusedException(string message, Exception inner) : InvalidOperationException(message, inner);
