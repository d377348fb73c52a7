using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Sweeps;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Shared.Sweeps;
using Contracts = SpectralDiffusion.Shared.Contracts.V1;
using SweepReport = SpectralDiffusion.Orchestrator.Sweeps.SweepReport;
using ReportCurve = SpectralDiffusion.Orchestrator.Sweeps.ReportCurve;
using GateEvidence = SpectralDiffusion.Orchestrator.Sweeps.GateEvidence;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>
/// spectral.v1.Sweeps: checks and expands a submitted sweep in full (<see cref="Plan"/>), delegates to
/// <see cref="SweepSubmission"/> and <see cref="SweepReports"/>, and maps their plain types to the wire.
/// </summary>
internal sealed class SweepsService(SweepSubmission submission, SweepReports reports, Database database, JobSpecIntake jobs,
    IOptions<SweepOptions> options) : Contracts.Sweeps.SweepsBase
{
    public const int DefaultLimit = 50, MaxLimit = 500;

    public override async Task<Sweep> Submit(SubmitSweepRequest request, ServerCallContext context) =>
        ToProto(await submission.SubmitAsync(Plan(request.Spec), context.CancellationToken));

    /// <summary>The sweep expanded into its jobs (<see cref="SweepExpansion"/>), every one checked, before anything is stored.</summary>
    SweepPlan Plan(SweepSpec? spec)
    {
        if (spec is null) throw OrchestratorException.Invalid("spec", "a sweep spec is required");
        if (spec.Base is not null) JobSpecDefaults.Apply(spec.Base);
        var violations = ProtoValues.Violations(spec, "spec");
        if (violations.Count > 0) throw OrchestratorException.Invalid(violations);
        ExpandedSweep expanded;
        try { expanded = SweepExpansion.Expand(spec, options.Value.MaxSweepJobs, jobs.Validator); }
        catch (SweepSpecException e) { throw OrchestratorException.Invalid(e.Violations); }
        return new SweepPlan(new SweepSpecDocument(spec.ToByteArray(), JsonFormatter.Default.Format(spec), spec.Name, spec.Seeds.ToList()),
            expanded.Arms, expanded.Jobs.Select(j => new SweepPlannedJob(j.Id, j.Arm, j.Seed, JobMapping.ToDocument(j.Spec))).ToList());
    }

    public override async Task<Sweep> Get(GetSweepRequest request, ServerCallContext context)
    {
        var id = Ids.Parse(request.Id, "id");
        return ToProto(await database.ReadAsync((c, t) => SweepRepository.GetAsync(c, id, t), context.CancellationToken)
                       ?? throw OrchestratorException.NotFound($"sweep {id} does not exist"));
    }

    public override async Task<ListSweepsResponse> List(ListSweepsRequest request, ServerCallContext context)
    {
        var limit = request.Limit switch
        {
            0 => DefaultLimit,
            < 0 or > MaxLimit => throw OrchestratorException.Invalid("limit", $"is {request.Limit}; must be 0 (default {DefaultLimit}) to {MaxLimit}"),
            _ => request.Limit,
        };
        var sweeps = await database.ReadAsync((c, t) => SweepRepository.ListAsync(c, limit, t), context.CancellationToken);
        return new ListSweepsResponse { Sweeps = { sweeps.Select(ToProto) } };
    }

    public override async Task<Sweep> Cancel(CancelSweepRequest request, ServerCallContext context) =>
        ToProto(await submission.CancelAsync(Ids.Parse(request.Id, "id"), request.Reason, context.CancellationToken));

    public override async Task<Contracts.SweepReport> Report(GetSweepReportRequest request, ServerCallContext context)
    {
        var id = Ids.Parse(request.Id, "id");
        var report = await reports.BuildAsync(id, request.Compare.Select(p => (p.ArmA, p.ArmB)).ToList(), context.CancellationToken);
        return ToProto(report);
    }

    static Sweep ToProto(SweepRecord sweep) => new()
    {
        Id = sweep.Id.ToString(),
        Spec = SweepSpec.Parser.ParseFrom(sweep.Spec.Encoded),
        State = JobMapping.ToProto(sweep.State),
        CreatedAt = Timestamp.FromDateTime(sweep.CreatedAt),
        CancelReason = sweep.CancelReason,
        Jobs =
        {
            sweep.Jobs.Select(j => new SweepJob
            {
                Arm = j.Arm, Seed = j.Seed, JobId = j.JobId.ToString(), State = JobMapping.ToProto(j.State), DependsOnArms = { j.DependsOnArms },
            }),
        },
    };

    static Contracts.SweepReport ToProto(SweepReport report) => new()
    {
        SweepId = report.SweepId.ToString(),
        Name = report.Name,
        State = JobMapping.ToProto(report.State),
        Arms =
        {
            report.Arms.Select(a => new ArmReport
            {
                Arm = a.Arm, Jobs = a.Jobs, Succeeded = a.Succeeded, Metrics = { a.Metrics.Select(ToProto) },
                Params = a.Params ?? 0, Macs = a.Macs ?? 0, TrainingSeconds = ToProto(a.TrainingSeconds), Gates = { a.Gates.Select(ToProto) },
            }),
        },
        Comparisons =
        {
            report.Comparisons.Select(c => new PairedComparison
            {
                ArmA = c.ArmA, ArmB = c.ArmB, Metric = c.Metric, MeanDifference = c.MeanDifference, StandardError = c.StandardError,
                Pairs = c.Pairs, Agreeing = c.Agreeing, Ci95Low = c.Interval95Low, Ci95High = c.Interval95High,
            }),
        },
        LossCurves = { report.LossCurves.Select(ToProto) },
        GateCurves = { report.GateCurves.Select(ToProto) },
    };

    static MetricSummary ToProto(MetricStatistics s) => new() { Metric = s.Metric, Mean = s.Mean, Std = s.Std, N = s.N };

    static Contracts.GateEvidence ToProto(GateEvidence g) => new()
    {
        Band = g.Band, FirstStep = ToProto(g.FirstStep), LastStep = ToProto(g.LastStep), RangeAcrossSteps = ToProto(g.RangeAcrossSteps),
        ShiftFromInit = ToProto(g.ShiftFromInit),
    };

    static Contracts.ReportCurve ToProto(ReportCurve c) => new() { Arm = c.Arm, Series = c.Series, X = { c.X }, Y = { c.Y } };
}
