using Microsoft.Extensions.Options;
using Polly;
using SpectralDiffusion.Orchestrator.Leases;
using SpectralDiffusion.Orchestrator.Persistence;

using SpectralDiffusion.Orchestrator.Standby;

namespace SpectralDiffusion.Orchestrator.Hosting;

/// <summary>
/// Makes this process the active orchestrator or its standby. At start it tries the lock once, so a lone orchestrator is
/// active before it serves; a standby then tries again every <see cref="LeadershipOptions.StandbyPollInterval"/>. A
/// takeover migrates the database and forgets what this process knew from an earlier term before the loops and the
/// spectral calls start. The active one checks its lock every <see cref="LeadershipOptions.LockCheckInterval"/>; when the
/// check fails or hangs for <see cref="CheckTimeout"/>, the term ends at once (calls broken, loops stopped) and the
/// process is a standby again, well before PostgreSQL frees the lock of a silent session
/// (<see cref="ActiveLock.SilentSessionLimit"/>).
/// </summary>
public sealed class LeadershipService(Leadership leadership, IOptions<DatabaseOptions> database, IOptions<LeadershipOptions> options,
    IOptions<ServerOptions> server, ResiliencePipeline pipeline, MigrationService migrations, LeaseRenewals renewals, WorkerRegistry registry,
    ILogger<LeadershipService> logger) : BackgroundService
{
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);
    ActiveLock? activeLock;

    /// <summary>Where clients reach this process: Orchestrator:AdvertisedAddress, else this machine's name and the gRPC port.</summary>
    string Advertised => options.Value.AdvertisedAddress is { Length: > 0 } address ? address : $"{Environment.MachineName}:{server.Value.Port}";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await DatabaseMigrator.EnsureDatabaseAsync(database.Value.Database, pipeline, cancellationToken);
        activeLock = new ActiveLock(database.Value.Database, Advertised);
        await pipeline.ExecuteAsync(async token =>
        {
            if (!await TryTakeOverAsync(token)) await WatchActiveAsync(token);
        }, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var interval = leadership.IsActive ? options.Value.LockCheckInterval : options.Value.StandbyPollInterval;
            try { await Task.Delay(interval, stoppingToken); }
            catch (OperationCanceledException) { break; }
            try
            {
                if (leadership.IsActive) await CheckAsync(stoppingToken);
                else if (!await TryTakeOverAsync(stoppingToken)) await WatchActiveAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Standby: cannot reach PostgreSQL to take the orchestrator lock ({Error}); trying again", e.Message);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Stopped after every loop and writer registered later, so a standby takes over only once they are done.
        if (activeLock is not null) await activeLock.ReleaseAsync();
    }

    async Task<bool> TryTakeOverAsync(CancellationToken cancellation)
    {
        if (!await activeLock!.TryAcquireAsync(cancellation)) return false;
        try
        {
            await migrations.MigrateAsync(cancellation);
            // What an earlier term learnt (who is live, heartbeats not yet written, who never connected) may be stale now.
            renewals.Forget();
            registry.Forget();
            var fencingTerm = await activeLock.AdvanceTermAsync(cancellation);
            leadership.ActiveAddress = Advertised;
            leadership.Activate(fencingTerm);
            logger.LogWarning("This orchestrator ({Address}) is active: it holds the orchestrator lock (term {Term}, orchestrator term {FencingTerm} in the database)",
                Advertised, leadership.Term, fencingTerm);
            return true;
        }
        catch
        {
            await activeLock.ReleaseAsync();
            throw;
        }
    }

    async Task WatchActiveAsync(CancellationToken cancellation)
    {
        var holder = await activeLock!.HolderAsync(cancellation) ?? "";
        if (holder.Length > 0 && holder != Advertised && leadership.IsServing)
        {
            leadership.ActiveAddress = holder;
            leadership.EndCalls();
            logger.LogCritical("The orchestrator lock is held by {Active}: this process is a standby now and broke off its open calls", holder);
        }
        if (holder == leadership.ActiveAddress) return;
        leadership.ActiveAddress = holder;
        logger.LogInformation("Standby: the active orchestrator is {Active}", holder.Length > 0 ? holder : "none (the lock is free)");
    }

    /// <summary>
    /// Confirms the lock. When the check fails the term ends at once (the loops stop) but calls are still answered: the
    /// next iterations take the lock back (a new term) or, once another orchestrator is seen holding it, make this
    /// process a standby that refuses calls and breaks off the open ones (<see cref="WatchActiveAsync"/>). While
    /// PostgreSQL is out of reach nobody can take the lock, and the workers' calls wait on the database as before.
    /// </summary>
    async Task CheckAsync(CancellationToken cancellation)
    {
        try
        {
            await activeLock!.EnsureHeldAsync(cancellation).WaitAsync(CheckTimeout, cancellation);
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            if (leadership.Deactivate())
                logger.LogCritical("Lost the orchestrator lock ({Error}): the loops stopped at once; calls are still answered until this process " +
                    "takes the lock back or sees another orchestrator holding it", e.Message);
            try { await activeLock!.ReleaseAsync().WaitAsync(CheckTimeout, cancellation); }
            catch (TimeoutException) { }
        }
    }
}
