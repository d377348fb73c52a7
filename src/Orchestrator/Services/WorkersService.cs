using System.Runtime.CompilerServices;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Orchestrator.Attempts;
using SpectralDiffusion.Orchestrator.Delivery;
using SpectralDiffusion.Orchestrator.Leases;
using SpectralDiffusion.Orchestrator.Standby;
using SpectralDiffusion.Orchestrator.RankLogs;
using FieldViolation = SpectralDiffusion.Shared.Jobs.FieldViolation;
using DeviceKind = SpectralDiffusion.Shared.Contracts.V1.DeviceKind;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>spectral.v1.Workers: registration and leases, the assignment stream, reports, and artifact upload/download.</summary>
internal sealed class WorkersService(WorkerRegistry registry, AttemptReports reports, ArtifactIntake intake, ArtifactStore store,
    AssignmentHub hub, SchedulerSignal scheduler, Database database, WorkerArtifactScope scope, IOptions<LeaseOptions> options,
    IHostApplicationLifetime lifetime, Leadership leadership, LogIntake logs) : Workers.WorkersBase
{
    public override async Task<RegisterWorkerResponse> Register(RegisterWorkerRequest request, ServerCallContext context)
    {
        if (request.Name.Length is 0 or > MaxNameLength) throw OrchestratorException.Invalid("name", $"must be 1 to {MaxNameLength} characters");
        if (request.Device == DeviceKind.Unspecified) throw OrchestratorException.Invalid("device", "is required: cpu or cuda");
        if (request.DeviceIndex < 0) throw OrchestratorException.Invalid("device_index", $"is {request.DeviceIndex}; must not be negative");
        if (RegistrationTooLong(request) is { Count: > 0 } tooLong) throw OrchestratorException.Invalid(tooLong);
        var registration = new WorkerRegistration(request.Name, request.Node, JobStates.Name(JobMapping.ToDomain(request.Device, "device")), request.DeviceIndex, request.Address,
            request.Labels.ToDictionary(), request.Version);
        var (id, _, secret) = await registry.RegisterAsync(registration, context.CancellationToken);
        return new RegisterWorkerResponse
        {
            WorkerId = id.ToString(),
            WorkerSecret = secret,
            Lease = Duration.FromTimeSpan(options.Value.Lease),
            HeartbeatInterval = Duration.FromTimeSpan(options.Value.HeartbeatInterval),
        };
    }

    // The bounds of what a worker registers, as workers.proto documents them.
    const int MaxNameLength = 200, MaxHostLength = 253, MaxVersionLength = 100, MaxLabels = 32, MaxLabelKeyLength = 63, MaxLabelValueLength = 256;

    /// <summary>One violation per registered string over its bound, naming the field (a label by its key, cut short).</summary>
    static List<FieldViolation> RegistrationTooLong(RegisterWorkerRequest request)
    {
        var violations = new List<FieldViolation>();
        void Check(string field, string value, int max)
        {
            if (value.Length > max) violations.Add(new FieldViolation(field, $"is {value.Length} characters; at most {max}"));
        }
        Check("node", request.Node, MaxHostLength);
        Check("address", request.Address, MaxHostLength);
        Check("version", request.Version, MaxVersionLength);
        if (request.Labels.Count > MaxLabels)
            violations.Add(new FieldViolation("labels", $"has {request.Labels.Count} entries; at most {MaxLabels}"));
        foreach (var (key, value) in request.Labels)
        {
            var field = $"labels[{(key.Length > MaxLabelKeyLength ? key[..MaxLabelKeyLength] + "…" : key)}]";
            if (key.Length is 0 or > MaxLabelKeyLength)
                violations.Add(new FieldViolation(field, $"key is {key.Length} characters; must be 1 to {MaxLabelKeyLength}"));
            Check(field, value, MaxLabelValueLength);
        }
        return violations;
    }

    public override async Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context) => new()
    {
        LeaseExpiresAt = Timestamp.FromDateTime(await registry.HeartbeatAsync(Ids.Parse(request.WorkerId, "worker_id"), context.CancellationToken)),
    };

    /// <summary>
    /// Heartbeats over one stream, one response per request. A request naming another worker than the call's credential
    /// ends the stream with PERMISSION_DENIED; a gone worker ends it with NOT_FOUND, as Heartbeat answers.
    /// </summary>
    public override async Task KeepAlive(IAsyncStreamReader<HeartbeatRequest> requestStream, IServerStreamWriter<HeartbeatResponse> responseStream,
        ServerCallContext context)
    {
        var caller = (Guid)context.UserState[Security.AuthInterceptor.WorkerIdKey];
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var id = Ids.Parse(requestStream.Current.WorkerId, "worker_id");
            if (id != caller)
                throw new OrchestratorException(OrchestratorErrorKind.PermissionDenied,
                    $"worker_id {id}: this stream's credential belongs to worker {caller}, which may act only as itself");
            var expires = await registry.HeartbeatAsync(id, context.CancellationToken);
            await responseStream.WriteAsync(new HeartbeatResponse { LeaseExpiresAt = Timestamp.FromDateTime(expires) }, context.CancellationToken);
        }
    }

    public override async Task<Ack> Deregister(DeregisterRequest request, ServerCallContext context)
    {
        var id = Ids.Parse(request.WorkerId, "worker_id");
        if (!await registry.EndAsync(id, WorkerRepository.Gone, request.Reason.Length > 0 ? request.Reason : "deregistered", context.CancellationToken))
            throw OrchestratorException.NotFound($"worker gone: {id} is not registered");
        return new Ack();
    }

    /// <summary>
    /// Replays the worker's current assignment (if any), then forwards start/abort orders. When the client goes away the
    /// worker is lost and its attempt aborted; a server shutdown, the end of this process's term as the active orchestrator
    /// or a newer stream of the same worker does not lose it.
    /// </summary>
    public override async Task Assignments(AssignmentsRequest request, IServerStreamWriter<Assignment> responseStream, ServerCallContext context)
    {
        var id = Ids.Parse(request.WorkerId, "worker_id");
        await registry.EnsureLiveAsync(id, context.CancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        // Replay before connecting: the scheduler assigns connected workers only, so no start order is sent twice.
        if (await registry.ReplayAsync(id, context.CancellationToken) is { } current)
            await responseStream.WriteAsync(WorkerMapping.ToProto(current), stop.Token);
        var connection = hub.Connect(id);
        try
        {
            scheduler.Nudge();
            await foreach (var order in connection.Orders.Reader.ReadAllAsync(stop.Token))
                await responseStream.WriteAsync(WorkerMapping.ToProto(order), stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        finally
        {
            hub.Disconnect(connection);
            if (!connection.Replaced && !lifetime.ApplicationStopping.IsCancellationRequested && leadership.IsActive)
                await registry.EndAsync(id, WorkerRepository.Lost, "assignment stream closed", CancellationToken.None);
        }
    }

    public override async Task<Ack> ReportProgress(ProgressReport request, ServerCallContext context)
    {
        var update = new ProgressUpdate(Ids.Parse(request.WorkerId, "worker_id"), Ids.Parse(request.JobId, "job_id"), request.Attempt, request.Rank,
            request.Step, request.TotalSteps, request.Phase, request.StepsPerSecond, request.Metrics.Select(m => new MetricValue(m.Name, m.Step, m.Value)).ToList());
        await reports.ReportProgressAsync(update, context.CancellationToken);
        return new Ack();
    }

    public override async Task<Ack> ReportEvaluation(EvaluationReport request, ServerCallContext context)
    {
        var result = new EvaluationResult(Ids.Parse(request.WorkerId, "worker_id"), Ids.Parse(request.JobId, "job_id"), request.Attempt, request.Preset,
            request.NumSamples, request.HasFid ? request.Fid : null, request.LowFrequencyError, request.HighFrequencyError, request.Extra.ToDictionary(),
            request.SamplesArtifact);
        await reports.ReportEvaluationAsync(result, context.CancellationToken);
        return new Ack();
    }

    public override async Task<Ack> ReportRunSettings(RunSettingsReport request, ServerCallContext context)
    {
        var settings = request.Settings ?? throw OrchestratorException.Invalid("settings", "is required");
        await reports.ReportRunSettingsAsync(Ids.Parse(request.WorkerId, "worker_id"), Ids.Parse(request.JobId, "job_id"), request.Rank,
            new Domain.RunSettings(request.Attempt, settings.BetaStart, settings.BetaEnd, settings.Timesteps, settings.Parameterization,
                settings.ScheduleSource, settings.HasScaleFactor ? settings.ScaleFactor : null, settings.ScaleFactorSource, settings.FirstStage,
                settings.ModelConfig, settings.TeacherConfig, settings.GateInit), context.CancellationToken);
        return new Ack();
    }

    public override async Task<Ack> CompleteAttempt(AttemptResult request, ServerCallContext context)
    {
        await reports.CompleteAsync(WorkerMapping.ToDomain(request), context.CancellationToken);
        return new Ack();
    }

    public override async Task<ArtifactReceipt> UploadArtifact(IAsyncStreamReader<ArtifactChunk> requestStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.PartCase != ArtifactChunk.PartOneofCase.Header)
            throw OrchestratorException.Invalid("header", "the first message of an upload must be the ArtifactHeader");
        var uploader = (Guid)context.UserState[Security.AuthInterceptor.WorkerIdKey];
        var receipt = await intake.UploadAsync(WorkerMapping.ToDomain(requestStream.Current.Header), uploader, Data(requestStream, context.CancellationToken),
            context.CancellationToken);
        return new ArtifactReceipt
        {
            Artifact = receipt.Artifact, CheckpointId = receipt.CheckpointId?.ToString() ?? "", CheckpointComplete = receipt.CheckpointComplete,
        };
    }

    public override async Task DownloadArtifact(DownloadArtifactRequest request, IServerStreamWriter<ArtifactChunk> responseStream, ServerCallContext context)
    {
        var sha = Ids.ParseArtifact(request.Artifact, "artifact");
        await scope.RequireNamedAsync((Guid)context.UserState[Security.AuthInterceptor.WorkerIdKey], Ids.Artifact(sha), context.CancellationToken);
        var artifact = await database.ReadAsync((c, t) => ArtifactRepository.FindAsync(c, sha, t), context.CancellationToken)
            ?? throw OrchestratorException.NotFound($"artifact {sha} is not stored on this orchestrator");
        if (!store.Exists(sha))
            throw new OrchestratorException(OrchestratorErrorKind.DataLoss, $"artifact {sha} is recorded but missing from {store.Root}");
        await responseStream.WriteAsync(new ArtifactChunk
        {
            Header = new ArtifactHeader { Sha256 = sha, Size = artifact.Size, Name = artifact.Name, Kind = KindOf(artifact.Kind) },
        });
        // As JobArtifacts.Download: each chunk wraps the reader's buffer, which WriteAsync has copied out when it returns.
        await foreach (var chunk in ArtifactContent.WholeFile(store.PathOf(sha)).ChunksAsync(ArtifactStore.ChunkBytes, context.CancellationToken))
            await responseStream.WriteAsync(new ArtifactChunk { Data = UnsafeByteOperations.UnsafeWrap(chunk) }, context.CancellationToken);
    }

    public override async Task<ListWorkersResponse> List(ListWorkersRequest request, ServerCallContext context) => new()
    {
        Workers = { (await database.ReadAsync((c, t) => WorkerRepository.ListAsync(c, request.IncludeGone, t), context.CancellationToken)).Select(WorkerMapping.ToProto) },
    };

    public override async Task<LogReceipt> ShipLogs(LogBatch request, ServerCallContext context)
    {
        var batch = new LogBatchIn(Ids.Parse(request.WorkerId, "worker_id"), Ids.Parse(request.JobId, "job_id"), request.Attempt, request.Rank,
            request.Lines.Select(l => new ShippedLine(l.Time?.ToDateTime() ?? DateTime.UtcNow, l.Level, l.Text.Memory)).ToList(), request.Dropped);
        return new LogReceipt { Stored = await logs.AppendAsync(batch, context.CancellationToken) };
    }

    static async IAsyncEnumerable<ReadOnlyMemory<byte>> Data(IAsyncStreamReader<ArtifactChunk> stream, [EnumeratorCancellation] CancellationToken cancellation)
    {
        while (await stream.MoveNext(cancellation))
        {
            if (stream.Current.PartCase != ArtifactChunk.PartOneofCase.Data)
                throw OrchestratorException.Invalid("data", "only the first message may be a header; the rest must be data chunks");
            yield return stream.Current.Data.Memory;
        }
    }

    static ArtifactKind KindOf(string kind) => kind switch
    {
        "checkpoint_shard" => ArtifactKind.CheckpointShard,
        "model" => ArtifactKind.Model,
        _ => ArtifactKind.File,
    };
}
