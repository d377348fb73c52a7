namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// Names of states, types and devices as stored in the database and shown on the dashboard (<c>QUEUED</c>,
/// <c>DISTILL</c>, <c>cuda</c>; a sweep's <c>ACTIVE</c>): the one place they are spelled.
/// </summary>
public static class JobStates
{
    public static string Name(JobState state) => state.ToString().ToUpperInvariant();
    public static JobState Parse(string name) => Enum.Parse<JobState>(name, ignoreCase: true);
    public static string Name(JobType type) => type.ToString().ToUpperInvariant();
    public static JobType ParseType(string name) => Enum.Parse<JobType>(name, ignoreCase: true);
    public static string Name(DeviceKind device) => device.ToString().ToLowerInvariant();
    public static DeviceKind ParseDevice(string name) => Enum.Parse<DeviceKind>(name, ignoreCase: true);
    public static string Name(SweepState state) => state.ToString().ToUpperInvariant();

    /// <summary>The names of every value of a state or type enum, in declaration order.</summary>
    public static IReadOnlyList<string> Names<T>() where T : struct, Enum =>
        Enum.GetValues<T>().Select(value => value.ToString().ToUpperInvariant()).ToList();
}
