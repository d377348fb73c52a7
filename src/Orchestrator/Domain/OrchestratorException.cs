using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>A request the orchestrator refuses, with the kind of refusal; the gRPC layer maps <see cref="Kind"/> to a status code.</summary>
public sealed class OrchestratorException(OrchestratorErrorKind kind, string message, IReadOnlyList<FieldViolation>? violations = null)
    : Exception(message)
{
    public OrchestratorErrorKind Kind { get; } = kind;
    public IReadOnlyList<FieldViolation> Violations { get; } = violations ?? [];

    public static OrchestratorException NotFound(string message) => new(OrchestratorErrorKind.NotFound, message);
    public static OrchestratorException Precondition(string message) => new(OrchestratorErrorKind.FailedPrecondition, message);
    public static OrchestratorException Invalid(string field, string reason) =>
        new(OrchestratorErrorKind.InvalidArgument, $"{field}: {reason}", [new FieldViolation(field, reason)]);
    public static OrchestratorException Invalid(IReadOnlyList<FieldViolation> violations) =>
        new(OrchestratorErrorKind.InvalidArgument, string.Join("; ", violations), violations);
}

public enum OrchestratorErrorKind { InvalidArgument, NotFound, AlreadyExists, FailedPrecondition, PermissionDenied, DataLoss, DeadlineExceeded, Aborted }
