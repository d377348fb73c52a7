using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Serilog.Context;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Monitoring;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Security;
using SpectralDiffusion.Orchestrator.Attempts;
using SpectralDiffusion.Orchestrator.Delivery;

namespace SpectralDiffusion.Orchestrator.Leases;

/// <summary>Worker registration, leases and loss. Losing a busy worker aborts its attempt on every rank (and re-queues or fails the job).</summary>
public sealed class WorkerRegistry(Database database, NotificationDispatcher dispatcher, AssignmentHub hub, SchedulerSignal scheduler,
    LeaseRenewals leases, WorkerCredentials credentials, IOptions<LeaseOptions> options, OrchestratorMetrics metrics,
    ILogger<WorkerRegistry> logger)
{
    /// <summary>
    /// Workers registered by this process that have not opened an assignment stream yet. The scheduler assigns connected
    /// workers only, so such a worker has no assignment to replay; a worker this process did not register (registered
    /// before a restart) is never here, and its first stream replays from the database.
    /// </summary>
    readonly ConcurrentDictionary<Guid, byte> neverConnected = new();

    TimeSpan Lease => options.Value.Lease;

    /// <summary>At a takeover: a worker registered in an earlier term may have been assigned since, so every first stream replays.</summary>
    public void Forget() => neverConnected.Clear();

    /// <summary>Registers a live worker and issues the secret it must present on every later call (only its hash is stored).</summary>
    public async Task<(Guid Id, DateTime LeaseExpiresAt, string Secret)> RegisterAsync(WorkerRegistration worker, CancellationToken cancellation)
    {
        var (secret, hash) = WorkerCredentials.Issue();
        var registered = await database.StatementAsync((connection, token) => WorkerRepository.RegisterAsync(connection, worker, hash, Lease, token), cancellation)
            ?? throw new OrchestratorException(OrchestratorErrorKind.AlreadyExists,
                $"a live worker named '{worker.Name}' is registered; deregister it or wait until its lease ({Lease.TotalSeconds:0.#} s) expires");
        leases.Registered(registered.Id);
        credentials.Remember(registered.Id, hash);
        neverConnected[registered.Id] = 0;
        using (LogContext.PushProperty("WorkerId", registered.Id))
            logger.LogInformation("Worker {WorkerId} registered: {WorkerName} on {Node}, {Device}:{DeviceIndex}",
                registered.Id, worker.Name, worker.Node, worker.Device, worker.DeviceIndex);
        return (registered.Id, registered.LeaseExpiresAt, secret);
    }

    /// <summary>
    /// Renews a live worker's lease in memory and answers at once; the lease watchdog writes the renewal before it next
    /// judges leases (<see cref="LeaseRenewals"/>). NOT_FOUND when the worker is gone (lost or deregistered).
    /// </summary>
    public async Task<DateTime> HeartbeatAsync(Guid workerId, CancellationToken cancellation)
    {
        await EnsureLiveAsync(workerId, cancellation);
        leases.Renew(workerId);
        metrics.HeartbeatAccepted();
        return DateTime.UtcNow + Lease;
    }

    public async Task EnsureLiveAsync(Guid workerId, CancellationToken cancellation)
    {
        if (leases.IsLive(workerId) is not { } live)
        {
            live = await database.ReadAsync((connection, token) => WorkerRepository.IsLiveAsync(connection, workerId, token), cancellation);
            leases.LearnLive(workerId, live);
        }
        if (!live) throw OrchestratorException.NotFound($"worker gone: {workerId} is not registered or was lost; register again");
    }

    /// <summary>
    /// The start order to replay when a worker's stream opens while it has an assignment; null when it has none. The
    /// first stream of a worker registered by this process reads nothing: it cannot have been assigned yet. Call it
    /// before the stream connects (<see cref="AssignmentHub.Connect"/>), which is what makes that hold.
    /// </summary>
    public async Task<StartOrder?> ReplayAsync(Guid workerId, CancellationToken cancellation)
    {
        if (neverConnected.TryRemove(workerId, out _)) return null;
        return await database.ReadAsync((connection, token) => WorkerRepository.AssignmentAsync(connection, workerId, token), cancellation) is null ? null
            : await database.TransactAsync((connection, token) => AssignmentFactory.CurrentAsync(connection, workerId, token), cancellation);
    }

    /// <summary>Ends a live worker (<c>lost</c> or <c>gone</c>), aborting the attempt it ran. False when it was not live.</summary>
    public async Task<bool> EndAsync(Guid workerId, string state, string reason, CancellationToken cancellation)
    {
        var (ended, notifications) = await database.TransactAsync(async (connection, token) =>
        {
            var notes = new Notifications();
            var (ended, assignment) = await WorkerRepository.EndAsync(connection, workerId, state, reason, token);
            if (assignment is not null && await JobRepository.LoadForUpdateAsync(connection, assignment.JobId, token) is { } job
                && job.HasLiveAttempt && job.Attempt == assignment.Attempt)
                await AttemptTermination.AbortAsync(connection, job, $"worker {workerId} (rank {assignment.Rank}) {state}: {reason}",
                    cancel: false, notes, token);
            return (ended, notes);
        }, cancellation);
        leases.Ended(workerId);
        neverConnected.TryRemove(workerId, out _);
        if (!ended) return false;
        using (LogContext.PushProperty("WorkerId", workerId))
            logger.LogWarning("Worker {WorkerId} {WorkerState}: {Reason}", workerId, state, reason);
        await dispatcher.DispatchAsync(notifications, cancellation);
        hub.Close(workerId);
        scheduler.Nudge();
        return true;
    }
}
