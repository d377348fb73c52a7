using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Retention;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Orchestrator.Delivery;
using SpectralDiffusion.Orchestrator.Submission;
using Job = SpectralDiffusion.Shared.Contracts.V1.Job;
using JobType = SpectralDiffusion.Shared.Contracts.V1.JobType;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>spectral.v1.Jobs: validates, delegates to <see cref="JobSubmission"/> and the job queries, streams job events.</summary>
internal sealed class JobsService(JobSubmission submission, JobSpecIntake intake, Database database, JobEventHub events, GarbageCollector garbage,
    IHostApplicationLifetime lifetime) : Jobs.JobsBase
{
    public const int DefaultPageSize = 50, MaxPageSize = 500;

    public override async Task<Job> Submit(SubmitJobRequest request, ServerCallContext context) =>
        JobMapping.ToProto(await submission.SubmitAsync(intake.Accept(request.Spec), context.CancellationToken));

    public override async Task<Job> Get(GetJobRequest request, ServerCallContext context) =>
        JobMapping.ToProto(await GetAsync(Ids.Parse(request.Id, "id"), context.CancellationToken));

    public override async Task<ListJobsResponse> List(ListJobsRequest request, ServerCallContext context)
    {
        if (request.PageSize is < 0 or > MaxPageSize) throw OrchestratorException.Invalid("page_size", $"is {request.PageSize}; must be 0..{MaxPageSize}");
        long? before = request.PageToken.Length == 0 ? null
            : long.TryParse(request.PageToken, out var seq) ? seq : throw OrchestratorException.Invalid("page_token", "is not a token this server returned");
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var filter = new JobRepository.Filter(request.States.Select((state, i) => JobMapping.ToDomain(state, $"states[{i}]")).ToList(),
            request.Type == JobType.Unspecified ? null : JobMapping.ToDomain(request.Type, "type"), request.Labels.ToDictionary());
        var (jobs, next) = await database.ReadAsync((connection, token) => JobRepository.ListAsync(connection, filter, pageSize, before, token),
            context.CancellationToken);
        return new ListJobsResponse { Jobs = { jobs.Select(JobMapping.ToProto) }, NextPageToken = next?.ToString() ?? "" };
    }

    public override async Task<Job> Cancel(CancelJobRequest request, ServerCallContext context) =>
        JobMapping.ToProto(await submission.CancelAsync(Ids.Parse(request.Id, "id"), request.Reason, context.CancellationToken));

    /// <summary>
    /// The current state first, then the job after every change until the job ends, the client leaves or the server
    /// stops. An event carries the job as read when it is delivered, so changes committed close together can arrive as
    /// the later state only; the last event of a finished job is always its terminal state.
    /// </summary>
    public override async Task Watch(WatchJobRequest request, IServerStreamWriter<JobEvent> responseStream, ServerCallContext context)
    {
        var id = Ids.Parse(request.Id, "id");
        using var subscription = events.Subscribe(id);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var job = await GetAsync(id, context.CancellationToken);
        await responseStream.WriteAsync(JobMapping.ToProto(new JobChange(job, "current state", DateTime.UtcNow)));
        if (Domain.Job.IsTerminalState(job.State)) return;
        try
        {
            await foreach (var change in subscription.Events.Reader.ReadAllAsync(stop.Token))
            {
                await responseStream.WriteAsync(JobMapping.ToProto(change), stop.Token);
                if (Domain.Job.IsTerminalState(change.Job.State)) return;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
    }

    public override async Task<CollectGarbageResponse> CollectGarbage(CollectGarbageRequest request, ServerCallContext context)
    {
        var report = await garbage.CollectAsync(request.DryRun, context.CancellationToken);
        return new CollectGarbageResponse
        {
            Items =
            {
                report.Items.Select(item => new GarbageItem { JobId = item.JobId?.ToString() ?? "", What = item.What, Name = item.Name, Bytes = item.Bytes }),
            },
            BytesFreed = report.BytesFreed, FilesRemoved = report.FilesRemoved, DryRun = report.DryRun,
        };
    }

    async Task<JobSnapshot> GetAsync(Guid id, CancellationToken cancellation) =>
        await database.ReadAsync((connection, token) => JobRepository.GetAsync(connection, id, token), cancellation)
        ?? throw OrchestratorException.NotFound($"job {id} does not exist");
}
