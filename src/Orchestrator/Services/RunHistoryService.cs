using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Shared.Contracts.V1;
using JobType = SpectralDiffusion.Shared.Contracts.V1.JobType;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>spectral.v1.RunHistory: runs with final metrics, metric series, evaluations and checkpoints, for dashboards and the CLI.</summary>
internal sealed class RunHistoryService(Database database) : RunHistory.RunHistoryBase
{
    public const int DefaultLimit = 50, MaxLimit = 1000;

    public override async Task<ListRunsResponse> ListRuns(ListRunsRequest request, ServerCallContext context)
    {
        var limit = Limit(request.Limit);
        var type = request.Type == JobType.Unspecified ? "" : JobStates.Name(JobMapping.ToDomain(request.Type, "type"));
        var runs = await database.ReadAsync((c, t) => RunRepository.ListAsync(c, type, request.Preset, limit, t), context.CancellationToken);
        return new ListRunsResponse { Runs = { runs.Select(ToProto) } };
    }

    public override async Task<GetRunSettingsResponse> GetRunSettings(GetRunSettingsRequest request, ServerCallContext context)
    {
        var jobId = Ids.Parse(request.JobId, "job_id");
        var attempts = await database.ReadAsync(async (c, t) =>
            await JobRepository.GetAsync(c, jobId, t) is null ? null : await RunSettingsRepository.ListAsync(c, jobId, t), context.CancellationToken)
            ?? throw OrchestratorException.NotFound($"job {jobId} does not exist");
        return new GetRunSettingsResponse { Attempts = { attempts.Select(ToProto) } };
    }

    static Shared.Contracts.V1.RunSettings ToProto(Domain.RunSettings settings)
    {
        var proto = new Shared.Contracts.V1.RunSettings
        {
            Attempt = settings.Attempt, BetaStart = settings.BetaStart, BetaEnd = settings.BetaEnd, Timesteps = settings.Timesteps,
            Parameterization = settings.Parameterization, ScheduleSource = settings.ScheduleSource, ScaleFactorSource = settings.ScaleFactorSource,
            FirstStage = settings.FirstStage, ModelConfig = settings.ModelConfig, TeacherConfig = settings.TeacherConfig, GateInit = settings.GateInit,
        };
        if (settings.ScaleFactor is { } scale) proto.ScaleFactor = scale;
        return proto;
    }

    static RunSummary ToProto(RunRecord run) => new()
    {
        JobId = run.JobId.ToString(), Name = run.Name, Type = JobMapping.ToProto(JobStates.ParseType(run.Type)), State = JobMapping.ToProto(JobStates.Parse(run.State)),
        Preset = run.Preset, TeacherPreset = run.TeacherPreset, WorldSize = run.WorldSize, Attempts = run.Attempts, Steps = run.Steps,
        FinalMetrics = { run.FinalMetrics.ToDictionary() }, CreatedAt = Timestamp.FromDateTime(run.CreatedAt),
        FinishedAt = run.FinishedAt is { } finished ? Timestamp.FromDateTime(finished) : null,
        ResultArtifact = run.ResultArtifact, FirstStage = run.FirstStage,
    };

    public override async Task<MetricSeries> GetMetricSeries(GetMetricSeriesRequest request, ServerCallContext context)
    {
        var id = Ids.Parse(request.JobId, "job_id");
        if (request.Name.Length == 0) throw OrchestratorException.Invalid("name", "is required (e.g. loss)");
        var samples = await database.ReadAsync(async (c, t) =>
        {
            await RequireJobAsync(c, id, t);
            return await MetricRepository.SeriesAsync(c, id, request.Name, t);
        }, context.CancellationToken);
        return new MetricSeries { JobId = request.JobId, Name = request.Name, Samples = { samples.Select(s => new MetricSample { Step = s.Step, Value = s.Value, Attempt = s.Attempt }) } };
    }

    public override async Task<ListEvaluationsResponse> ListEvaluations(ListEvaluationsRequest request, ServerCallContext context)
    {
        var limit = Limit(request.Limit);
        var evaluations = await database.ReadAsync((c, t) => EvaluationRepository.ListAsync(c, request.Preset, limit, t), context.CancellationToken);
        return new ListEvaluationsResponse { Evaluations = { evaluations.Select(ToProto) } };
    }

    static Evaluation ToProto(EvaluationRecord record)
    {
        var evaluation = new Evaluation
        {
            JobId = record.JobId.ToString(), Preset = record.Preset, NumSamples = record.NumSamples,
            LowFrequencyError = record.LowFrequencyError, HighFrequencyError = record.HighFrequencyError,
            CreatedAt = Timestamp.FromDateTime(record.CreatedAt), SamplesArtifact = record.SamplesArtifact,
        };
        if (record.Fid is { } fid) evaluation.Fid = fid;
        evaluation.Extra.Add(record.Extra.ToDictionary());
        return evaluation;
    }

    public override async Task<ListCheckpointsResponse> ListCheckpoints(ListCheckpointsRequest request, ServerCallContext context)
    {
        var id = Ids.Parse(request.JobId, "job_id");
        var checkpoints = await database.ReadAsync(async (c, t) =>
        {
            await RequireJobAsync(c, id, t);
            return await CheckpointRepository.ListAsync(c, id, t);
        }, context.CancellationToken);
        return new ListCheckpointsResponse { Checkpoints = { checkpoints.Select(WorkerMapping.ToProto) } };
    }

    static int Limit(int requested) => requested switch
    {
        0 => DefaultLimit,
        < 0 or > MaxLimit => throw OrchestratorException.Invalid("limit", $"is {requested}; must be 0 (default {DefaultLimit}) to {MaxLimit}"),
        _ => requested,
    };

    static async Task RequireJobAsync(Npgsql.NpgsqlConnection connection, Guid id, CancellationToken cancellation)
    {
        if (await connection.QuerySingleOrDefaultAsync("SELECT true FROM jobs WHERE id = @id", r => r.GetBoolean(0), cancellation, ("id", id)) != true)
            throw OrchestratorException.NotFound($"job {id} does not exist");
    }
}
