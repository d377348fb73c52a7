using System.Net;
using Serilog;
using Serilog.Context;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// Runs this worker's rank of one attempt: resolves the spec's relative paths under the data root, joins the rank group
/// through the orchestrator's rendezvous (TCP ring on CPU, NCCL on CUDA), runs the job, and reports the outcome, a
/// failure with its <see cref="FailureKind"/>. An abort tears the collective down at once, so a rank blocked
/// in an all-reduce with a dead peer returns immediately. An orchestrator outage is waited out, not failed on: the
/// calls to it are repeated until it answers (<see cref="OrchestratorOutage"/>) or <paramref name="calls"/>, the
/// registration's session, ends.
/// </summary>
public sealed class AttemptRunner(AgentOptions options, OrchestratorConnection connection, string workerId, DeviceKind device, CancellationToken calls, ILogger log)
    : IAttemptRunner
{
    readonly Polly.ResiliencePipeline outage = OrchestratorOutage.Create(options.OrchestratorOutageLimit, log);

    public async Task<AttemptResult?> RunAsync(RunningAttempt attempt)
    {
        var assignment = attempt.Order;
        var stop = attempt.Ending;
        using var _ = LogContext.PushProperty("JobId", assignment.JobId);
        using var __ = LogContext.PushProperty("Attempt", assignment.Attempt);
        using var ___ = LogContext.PushProperty("Rank", assignment.Rank);
        var folder = Path.Combine(Path.GetFullPath(options.WorkDirectory), "jobs", assignment.JobId, $"attempt-{assignment.Attempt}", $"rank-{assignment.Rank}");
        Directory.CreateDirectory(folder);
        var artifacts = new ArtifactTransfer(connection.Workers, Path.Combine(Path.GetFullPath(options.WorkDirectory), "artifact-cache"));
        ICollective? collective = null;
        var result = new AttemptResult { WorkerId = workerId, JobId = assignment.JobId, Attempt = assignment.Attempt, Rank = assignment.Rank };
        try
        {
            assignment = WithPathsUnderDataRoot(assignment, options.DataRoot);
            var threads = assignment.Spec.TorchThreads > 0 ? assignment.Spec.TorchThreads : options.Threads;
            if (assignment.WorldSize > 1)
            {
                collective = await JoinAsync(assignment, stop);
                attempt.OnAbort(() => collective?.Abort());
                log.Information("Attempt {Attempt} of job {JobId}: rank {Rank} exchanges gradients through {Collective}",
                    assignment.Attempt, assignment.JobId, assignment.Rank, Collectives.Describe(collective));
            }
            attempt.Started();
            log.Information("Attempt {Attempt} of job {JobId} started as rank {Rank}/{World} ({Device}, {Threads} threads)",
                assignment.Attempt, assignment.JobId, assignment.Rank, assignment.WorldSize, device, threads);
            var host = new GrpcJobHost(assignment, workerId, connection, artifacts, collective, folder, outage, log, stop, calls);
            await Task.Factory.StartNew(() =>
            {
                // The count is process-wide (TorchThreadCountTests); setting it here keeps it next to the work it limits.
                if (threads > 0) TorchRuntime.SetThreads(threads);
                JobRunner.Run(assignment.Spec, host);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            if (stop.IsCancellationRequested)
            {
                log.Information("Attempt {Attempt} of job {JobId} stopped after step; its last checkpoint stands", assignment.Attempt, assignment.JobId);
                return null;
            }
            result.Succeeded = true;
            result.FinalArtifact = host.ModelArtifact ?? "";
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            log.Information("Attempt {Attempt} of job {JobId} aborted", assignment.Attempt, assignment.JobId);
            return null;
        }
        catch (Exception e)
        {
            result.Succeeded = false;
            result.Error = $"rank {assignment.Rank} on worker {workerId}: {e.Message}";
            result.Failure = FailureClassifier.Classify(e);
            log.Error(e, "Attempt {Attempt} of job {JobId} failed on rank {Rank} ({Failure})", assignment.Attempt, assignment.JobId, assignment.Rank, result.Failure);
            // A permanent failure is reported before the ring is torn down: the peers' "ring closed" (transient) must
            // not reach the orchestrator first and have the job retried.
            if (result.Failure == FailureKind.Permanent)
            {
                await DeliverAsync(result);
                collective?.Abort();
                return result;
            }
            collective?.Abort();
        }
        finally
        {
            collective?.Dispose();
            collective = null;   // an abort that comes after the end has nothing to tear down
            var (before, after) = FreedNativeMemory.Release();
            log.Information("Attempt {Attempt} of job {JobId} ended; resident memory {BeforeMb:0} MB, {AfterMb:0} MB after returning what it freed",
                assignment.Attempt, assignment.JobId, before, after);
        }
        await DeliverAsync(result);
        return result;
    }

    /// <summary>
    /// Sends a rank's result, waiting out an orchestrator outage while the session lasts. The agent sends it again when
    /// the orchestrator repeats the start order of an attempt this worker has finished (the result was lost).
    /// </summary>
    public async Task DeliverAsync(AttemptResult result)
    {
        try
        {
            await outage.ExecuteAsync(async ct => await connection.Workers.CompleteAttemptAsync(result, cancellationToken: ct), calls);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.FailedPrecondition)
        {
            log.Information("Attempt {Attempt} of job {JobId} already ended on the orchestrator: {Detail}", result.Attempt, result.JobId, e.Status.Detail);
        }
        catch (OperationCanceledException) when (calls.IsCancellationRequested)
        {
            log.Information("The session ended before the result of attempt {Attempt} of job {JobId} could be delivered", result.Attempt, result.JobId);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or Polly.Timeout.TimeoutRejectedException)
        {
            log.Error("Could not deliver the result of attempt {Attempt} of job {JobId} ({Error}); it is sent again when the orchestrator repeats the attempt",
                result.Attempt, result.JobId, e.Message);
        }
    }

    /// <summary>The assignment with every relative path of its spec resolved under <paramref name="dataRoot"/> (one climbing out is refused).</summary>
    static AssignmentStart WithPathsUnderDataRoot(AssignmentStart assignment, string dataRoot)
    {
        var resolved = assignment.Clone();
        foreach (var (field, path, set) in SpecPathRules.PathFields(resolved.Spec))
        {
            try { set(SpecPathRules.Resolve(path, dataRoot)); }
            catch (ArgumentException e) { throw new ArgumentException($"{field}: {e.Message}", e); }
        }
        return resolved;
    }

    async Task<ICollective> JoinAsync(AssignmentStart assignment, CancellationToken ending)
    {
        var rendezvous = new GrpcRendezvous(connection.Rendezvous, assignment.RendezvousId);
        if (device == DeviceKind.Cuda)
            return await Collectives.CreateAsync(Collectives.Nccl, assignment.Rank, assignment.WorldSize, rendezvous, "collective", options.CollectiveTimeout, ending);
        var loopback = IPAddress.TryParse(options.AdvertiseAddress, out var address) && IPAddress.IsLoopback(address);
        var ring = new TcpRingOptions
        {
            BindAddress = loopback ? IPAddress.Loopback : IPAddress.Any,
            AdvertisedHost = options.AdvertiseAddress,
            Timeout = options.CollectiveTimeout,
            RegisteredBytes = (long)options.SharedMemoryRegisteredMiB << 20,
        };
        // Ranks that share this machine exchange through shared memory; otherwise the TCP ring.
        return await Collectives.ConnectCpuAsync(assignment.Rank, assignment.WorldSize, rendezvous, "collective", ring, ending);
    }
}
