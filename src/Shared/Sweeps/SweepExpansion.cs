using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Sweeps;

/// <summary>One job of an expanded sweep: its arm, seed, spec (references resolved to <c>job:&lt;id&gt;</c>) and the sweep jobs it waits for.</summary>
public sealed record SweepJobPlan(Guid Id, string Arm, long Seed, JobSpec Spec, IReadOnlyList<Guid> DependsOn, IReadOnlyList<string> DependsOnArms);

/// <summary>A sweep spec expanded into jobs, dependencies first (arms in dependency order, each arm's seeds in spec order).</summary>
public sealed record ExpandedSweep(IReadOnlyList<string> Arms, IReadOnlyList<SweepJobPlan> Jobs);

/// <summary>A sweep that cannot be expanded; every violation names its field (e.g. <c>spec.arms[sd].set</c>).</summary>
public sealed class SweepSpecException(IReadOnlyList<FieldViolation> violations)
    : Exception(string.Join("; ", violations))
{
    public IReadOnlyList<FieldViolation> Violations { get; } = violations;
}

/// <summary>
/// Expands a sweep into its jobs: arms (listed arms, then the cartesian product of the axes) × seeds. Each job is the base
/// spec with the arm's overrides, <c>schedule.seed</c>, a name <c>sweep/arm/seedN</c> and the labels sweep, arm and seed.
/// An override <c>model.checkpoint=arm:NAME</c> or <c>teacher.checkpoint=arm:NAME</c> becomes <c>job:&lt;id&gt;</c> of arm NAME's
/// job with the same seed. Everything is checked before any id is handed out: names, the size against the cap, every
/// override key, each arm's job spec, references (unknown arm, cycle, a teacher whose preset is not the arm it names).
/// </summary>
public static class SweepExpansion
{
    public const string ArmReferencePrefix = "arm:";
    public const int MaxNameLength = 63;
    public const string SweepLabel = "sweep", ArmLabel = "arm", SeedLabel = "seed";
    static readonly string[][] ReferenceKeys = [["model", "checkpoint"], ["teacher", "checkpoint"]];

    /// <summary>Arm names in order: the listed arms, then one per point of the grid (value names joined by '-').</summary>
    public static long CountArms(SweepSpec spec) =>
        spec.Arms.Count + (spec.Axes.Count == 0 ? 0 : spec.Axes.Aggregate(1L, (product, axis) => SaturatingMultiply(product, axis.Values.Count)));

    public static ExpandedSweep Expand(SweepSpec spec, int maxJobs, JobSpecValidator validator, Func<Guid>? newId = null)
    {
        newId ??= Guid.CreateVersion7;
        var violations = new List<FieldViolation>();
        void Fail(string field, string reason) => violations.Add(new FieldViolation(field.Length == 0 ? "spec" : "spec." + field, reason));

        if (spec.Name.Length == 0) Fail("name", "is required");
        else if (!IsName(spec.Name)) Fail("name", $"'{Echo.Short(spec.Name)}' must be 1 to {MaxNameLength} of A-Z a-z 0-9 _ . + -");
        if (spec.Base is null) Fail("base", "is required: the job spec every arm starts from");
        if (spec.Seeds.Count == 0) Fail("seeds", "is empty; give at least one seed (3 or more for a spread)");
        foreach (var seed in spec.Seeds.GroupBy(s => s).Where(g => g.Count() > 1))
            Fail("seeds", $"seed {seed.Key} is listed {seed.Count()} times");
        foreach (var (axis, index) in spec.Axes.Select((a, i) => (a, i)))
            if (axis.Values.Count == 0) Fail($"axes[{index}].values", $"axis '{Echo.Short(axis.Name)}' has no values");
        var armCount = CountArms(spec);
        if (armCount == 0) Fail("arms", "no arms: list arms, or axes whose product makes them");
        var jobCount = SaturatingMultiply(armCount, spec.Seeds.Count);
        if (jobCount > maxJobs)
            Fail("", $"expands to {jobCount} jobs ({armCount} arms × {spec.Seeds.Count} seeds); at most {maxJobs} jobs per sweep " +
                     "(Orchestrator:MaxSweepJobs on the server)");
        if (violations.Count > 0) throw new SweepSpecException(violations);

        var arms = Arms(spec, Fail);
        var references = References(arms, Fail);
        if (violations.Count > 0) throw new SweepSpecException(violations);
        var order = DependencyOrder(arms, references, Fail);
        if (violations.Count > 0) throw new SweepSpecException(violations);

        // Every arm's spec, checked once (with the first seed and stand-in ids): what varies by seed cannot make it invalid.
        var probe = arms.ToDictionary(a => a.Name, _ => Guid.Empty);
        var specs = new Dictionary<string, JobSpec>();
        foreach (var arm in order)
        {
            var field = $"arms[{arm.Name}]";
            try { specs[arm.Name] = JobSpecFor(spec, arm, spec.Seeds[0], probe); }
            catch (JobSpecFormatException e)
            {
                Fail(field + ".set", e.Message);
                continue;
            }
            foreach (var violation in validator.Validate(specs[arm.Name]))
                Fail($"{field}.{violation.Field}", violation.Description);
        }
        foreach (var (arm, key, target) in references)
            if (specs.TryGetValue(arm, out var dependent) && specs.TryGetValue(target, out var source))
                CheckAlignment(arm, key, target, dependent, source, Fail);
        if (violations.Count > 0) throw new SweepSpecException(violations);

        var jobs = new List<SweepJobPlan>();
        foreach (var seed in spec.Seeds)
        {
            var ids = arms.ToDictionary(a => a.Name, _ => newId());
            foreach (var arm in order)
            {
                var targets = references.Where(r => r.Arm == arm.Name).Select(r => r.Target).Distinct().ToList();
                jobs.Add(new SweepJobPlan(ids[arm.Name], arm.Name, seed, JobSpecFor(spec, arm, seed, ids),
                    targets.Select(t => ids[t]).ToList(), targets));
            }
        }
        var armOrder = order.Select((a, i) => (a.Name, i)).ToDictionary(x => x.Name, x => x.i);
        return new ExpandedSweep(arms.Select(a => a.Name).ToList(),
            jobs.OrderBy(j => armOrder[j.Arm]).ThenBy(j => spec.Seeds.IndexOf(j.Seed)).ToList());
    }

    sealed record Arm(string Name, IReadOnlyList<string> Overrides, string Field);

    static List<Arm> Arms(SweepSpec spec, Action<string, string> fail)
    {
        var arms = spec.Arms.Select((a, i) => new Arm(a.Name, a.Set.ToList(), $"arms[{i}]")).ToList();
        foreach (var (axis, index) in spec.Axes.Select((a, i) => (a, i)))
        {
            if (!IsName(axis.Name)) fail($"axes[{index}].name", $"'{Echo.Short(axis.Name)}' must be 1 to {MaxNameLength} of A-Z a-z 0-9 _ . + -");
            foreach (var (value, v) in axis.Values.Select((x, i) => (x, i)))
                if (!IsName(value.Name)) fail($"axes[{index}].values[{v}].name", $"'{Echo.Short(value.Name)}' must be 1 to {MaxNameLength} of A-Z a-z 0-9 _ . + -");
        }
        if (spec.Axes.Count > 0)
        {
            IEnumerable<Arm> grid = [new Arm("", [], "axes")];
            foreach (var axis in spec.Axes)
                grid = grid.SelectMany(point => axis.Values.Select(value => new Arm(
                    point.Name.Length == 0 ? value.Name : point.Name + "-" + value.Name, [.. point.Overrides, .. value.Set], "axes")));
            arms.AddRange(grid);
        }
        foreach (var arm in arms.Where(a => !IsName(a.Name)))
            fail(arm.Field + ".name", $"'{Echo.Short(arm.Name)}' must be 1 to {MaxNameLength} of A-Z a-z 0-9 _ . + -");
        foreach (var duplicate in arms.GroupBy(a => a.Name).Where(g => g.Count() > 1))
            fail("arms", $"arm name '{Echo.Short(duplicate.Key)}' is used {duplicate.Count()} times; arm names must be unique");
        return arms;
    }

    /// <summary>Every <c>arm:NAME</c> reference: (the arm that has it, the key, the arm it names).</summary>
    static List<(string Arm, string Key, string Target)> References(List<Arm> arms, Action<string, string> fail)
    {
        var names = arms.Select(a => a.Name).ToHashSet();
        var references = new List<(string, string, string)>();
        foreach (var arm in arms)
            foreach (var assignment in arm.Overrides)
            {
                string[] keys;
                string value;
                try { (keys, value) = JobSpecOverrides.Split(assignment); }
                catch (JobSpecFormatException e)
                {
                    fail($"arms[{arm.Name}].set", e.Message);
                    continue;
                }
                if (!value.StartsWith(ArmReferencePrefix, StringComparison.Ordinal)) continue;
                var key = string.Join('.', keys);
                var target = value[ArmReferencePrefix.Length..];
                if (!ReferenceKeys.Any(k => k.SequenceEqual(keys)))
                    fail($"arms[{arm.Name}].set", $"'{Echo.Short(assignment)}': arm references name a model, so only model.checkpoint and teacher.checkpoint take them");
                else if (!names.Contains(target))
                    fail($"arms[{arm.Name}].set", $"'{Echo.Short(assignment)}' names no arm of this sweep{Spelling.Hint(target, names)}; arms: {string.Join(", ", names)}");
                else references.Add((arm.Name, key, target));
            }
        return references;
    }

    /// <summary>Arms ordered so that each comes after the arms it references (spec order otherwise); a cycle is a violation.</summary>
    static List<Arm> DependencyOrder(List<Arm> arms, List<(string Arm, string Key, string Target)> references, Action<string, string> fail)
    {
        var byName = arms.ToDictionary(a => a.Name);
        var order = new List<Arm>();
        var state = new Dictionary<string, bool>();   // false: on the current path; true: done
        var path = new List<string>();
        bool Visit(string name)
        {
            if (state.TryGetValue(name, out var done))
            {
                if (done) return true;
                var cycle = path.Skip(path.IndexOf(name)).Append(name);
                fail("arms", $"dependency cycle: {string.Join(" → ", cycle)} (each arm's model.checkpoint/teacher.checkpoint names the next)");
                return false;
            }
            state[name] = false;
            path.Add(name);
            foreach (var target in references.Where(r => r.Arm == name).Select(r => r.Target).Distinct())
                if (!Visit(target)) return false;
            path.RemoveAt(path.Count - 1);
            state[name] = true;
            order.Add(byName[name]);
            return true;
        }
        foreach (var arm in arms)
            if (!Visit(arm.Name)) break;
        return order;
    }

    static void CheckAlignment(string arm, string key, string target, JobSpec dependent, JobSpec source, Action<string, string> fail)
    {
        if (source.Type is not (JobType.Train or JobType.Distill))
        {
            fail($"arms[{arm}].set", $"{key}=arm:{target}: arm '{target}' is an {source.Type.ToString().ToLowerInvariant()} job and produces no model");
            return;
        }
        var (expected, what) = key.StartsWith("teacher", StringComparison.Ordinal)
            ? (dependent.Teacher?.Preset ?? "", "teacher.preset")
            : (dependent.Model?.Preset ?? "", "model.preset");
        if (expected != source.Model.Preset)
            fail($"arms[{arm}].{what}", $"is '{Echo.Short(expected)}', but {key}=arm:{target} loads arm '{target}''s final model, a '{source.Model.Preset}'; " +
                                        $"set {what}={source.Model.Preset} or name another arm");
    }

    static JobSpec JobSpecFor(SweepSpec sweep, Arm arm, long seed, IReadOnlyDictionary<string, Guid> ids)
    {
        var overrides = arm.Overrides.Select(assignment =>
        {
            var (keys, value) = JobSpecOverrides.Split(assignment);
            return value.StartsWith(ArmReferencePrefix, StringComparison.Ordinal) && ids.TryGetValue(value[ArmReferencePrefix.Length..], out var id)
                ? $"{string.Join('.', keys)}={ModelReference.JobPrefix}{id}"
                : assignment;
        }).Append($"schedule.seed={seed}");
        var job = JobSpecOverrides.ApplyTo(sweep.Base, overrides, $"arm '{arm.Name}'");
        job.Name = $"{sweep.Name}/{arm.Name}/seed{seed}";
        job.Labels[SweepLabel] = sweep.Name;
        job.Labels[ArmLabel] = arm.Name;
        job.Labels[SeedLabel] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return job;
    }

    static bool IsName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '+' or '-');

    static long SaturatingMultiply(long a, long b) => a == 0 || b == 0 ? 0 : a > long.MaxValue / b ? long.MaxValue : a * b;
}
