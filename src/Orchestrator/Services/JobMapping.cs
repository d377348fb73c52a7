using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Enum = System.Enum;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Shared.Jobs;
using Contracts = SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>
/// Jobs between the wire and the domain, mapped here only. The wire's enums add an UNSPECIFIED zero that the domain does
/// not have: in a request it is INVALID_ARGUMENT naming the field.
/// </summary>
public static class JobMapping
{
    /// <summary>The accepted spec as the domain keeps it: encoded once (what is stored and sent) and its fields read once.</summary>
    public static JobSpecDocument ToDocument(Contracts.JobSpec spec) =>
        new(spec.ToByteArray(), JsonFormatter.Default.Format(spec), spec.Name, ToDomain(spec.Type, "spec.type"), ToDomain(spec.Device, "spec.device"), spec.WorldSize,
            spec.Priority, spec.MaxRestarts, spec.Model?.Preset ?? "", spec.Model?.Checkpoint ?? "", spec.Teacher?.Preset ?? "",
            spec.Teacher?.Checkpoint ?? "", spec.Labels.ToDictionary());

    public static Contracts.JobSpec Spec(byte[] encoded) => Contracts.JobSpec.Parser.ParseFrom(encoded);

    /// <summary>The spec as YAML, as <c>orchestrator submit</c> reads it (the dashboard's job page shows it).</summary>
    public static string Yaml(byte[] encoded) => SpecYaml.From(Spec(encoded));

    public static Contracts.Job ToProto(JobSnapshot job)
    {
        var view = new Contracts.Job
        {
            Id = job.Id.ToString(),
            Spec = Spec(job.EncodedSpec),
            State = ToProto(job.State),
            Attempt = job.Attempt,
            Restarts = job.Restarts,
            FailureReason = job.FailureReason,
            CreatedAt = Timestamp.FromDateTime(job.CreatedAt),
            StartedAt = job.StartedAt is { } started ? Timestamp.FromDateTime(started) : null,
            FinishedAt = job.FinishedAt is { } finished ? Timestamp.FromDateTime(finished) : null,
            Progress = new Contracts.Progress
            {
                Step = job.Progress.Step, TotalSteps = job.Progress.TotalSteps, Phase = job.Progress.Phase, StepsPerSecond = job.Progress.StepsPerSecond,
            },
            ResultArtifact = job.ResultArtifact,
            ResumeStep = job.ResumeStep,
        };
        view.Progress.Metrics.Add(job.Progress.Metrics.ToDictionary());
        view.Workers.AddRange(job.Workers);
        return view;
    }

    public static Contracts.JobEvent ToProto(JobChange change) =>
        new() { Job = ToProto(change.Job), Message = change.Message, At = Timestamp.FromDateTime(change.At) };

    public static Contracts.JobState ToProto(JobState state) => Same<JobState, Contracts.JobState>(state);
    public static Contracts.JobType ToProto(JobType type) => Same<JobType, Contracts.JobType>(type);
    public static Contracts.DeviceKind ToProto(DeviceKind device) => Same<DeviceKind, Contracts.DeviceKind>(device);
    public static Contracts.SweepState ToProto(SweepState state) => Same<SweepState, Contracts.SweepState>(state);

    /// <summary>A request's value as the domain's; UNSPECIFIED or a value this server does not know is INVALID_ARGUMENT naming <paramref name="field"/>.</summary>
    public static JobState ToDomain(Contracts.JobState state, string field) => FromRequest<Contracts.JobState, JobState>(state, field);
    public static JobType ToDomain(Contracts.JobType type, string field) => FromRequest<Contracts.JobType, JobType>(type, field);
    public static DeviceKind ToDomain(Contracts.DeviceKind device, string field) => FromRequest<Contracts.DeviceKind, DeviceKind>(device, field);

    /// <summary>
    /// The value of the same name: the wire's enums and the domain's name their values alike (protoc drops the
    /// <c>JOB_STATE_</c>-style prefix); only the wire has <c>Unspecified</c>, which has no domain value.
    /// </summary>
    static bool TrySame<TFrom, TTo>(TFrom value, out TTo same) where TFrom : struct, Enum where TTo : struct, Enum
    {
        same = default;
        return Enum.IsDefined(value) && Enum.TryParse(value.ToString(), out same) && Enum.IsDefined(same);
    }

    static TTo Same<TFrom, TTo>(TFrom value) where TFrom : struct, Enum where TTo : struct, Enum =>
        TrySame(value, out TTo same) ? same : throw new ArgumentOutOfRangeException(nameof(value), value, $"no {typeof(TTo).FullName} of that name");

    static TTo FromRequest<TFrom, TTo>(TFrom value, string field) where TFrom : struct, Enum where TTo : struct, Enum =>
        TrySame(value, out TTo same) ? same
            : throw OrchestratorException.Invalid(field, $"is {value}; must be one of {string.Join(", ", Enum.GetNames<TTo>().Select(n => n.ToLowerInvariant()))}");
}
