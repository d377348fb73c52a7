namespace SpectralDiffusion.Shared.Jobs;

/// <summary>One invalid field: its path in the request (e.g. <c>spec.world_size</c>) and why it is rejected.</summary>
public sealed record FieldViolation(string Field, string Description)
{
    public override string ToString() => $"{Field}: {Description}";
}
