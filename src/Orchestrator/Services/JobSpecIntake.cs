using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Submission;
using SpectralDiffusion.Shared.Jobs;
using Contracts = SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>
/// Where a job spec enters: defaults filled in, checked by the validator the CLI also runs, then mapped to the document the
/// domain keeps (<see cref="JobMapping.ToDocument"/>). A refused spec is INVALID_ARGUMENT naming each field.
/// </summary>
public sealed class JobSpecIntake(IOptions<SubmissionOptions> options)
{
    readonly JobSpecValidator validator = options.Value.CreateValidator();

    public JobSpecValidator Validator => validator;

    public JobSpecDocument Accept(Contracts.JobSpec? spec)
    {
        if (spec is not null) JobSpecDefaults.Apply(spec);
        var violations = validator.Validate(spec);
        if (violations.Count > 0) throw OrchestratorException.Invalid(violations);
        return JobMapping.ToDocument(spec!);
    }

    /// <summary>Specs submitted together: every one is checked (violations name <c>specs[i]</c>) before any is mapped.</summary>
    public IReadOnlyList<JobSpecDocument> AcceptMany(IReadOnlyList<Contracts.JobSpec> specs)
    {
        var violations = new List<FieldViolation>();
        for (var i = 0; i < specs.Count; i++)
        {
            if (specs[i] is not null) JobSpecDefaults.Apply(specs[i]);
            violations.AddRange(validator.Validate(specs[i]).Select(v => v with { Field = $"specs[{i}].{v.Field}" }));
        }
        if (specs.Count == 0) violations.Add(new("specs", "is empty: give at least one job spec"));
        if (violations.Count > 0) throw OrchestratorException.Invalid(violations);
        return specs.Select(JobMapping.ToDocument).ToList();
    }
}
