using SpectralDiffusion.Shared.Contracts.V1;
using YamlDotNet.RepresentationModel;

namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// Command-line overrides of a YAML job spec: <c>key.path=value</c> sets (or adds) that key before the spec is read,
/// so an override is checked exactly like the file (unknown keys get a did-you-mean, values their type check).
/// </summary>
public static class JobSpecOverrides
{
    /// <summary>Reads a spec file with overrides applied; no overrides reads it unchanged.</summary>
    public static JobSpec Load(string path, IReadOnlyCollection<string> overrides)
    {
        if (overrides.Count == 0) return JobSpecYaml.Load(path);
        if (!File.Exists(path)) throw new JobSpecFormatException($"{path}: no such file");
        return JobSpecYaml.Parse(Apply(File.ReadAllText(path), overrides, path), path);
    }

    /// <summary>Returns the YAML text with every <c>key.path=value</c> applied.</summary>
    public static string Apply(string yaml, IEnumerable<string> overrides, string source = "<yaml>")
    {
        var stream = JobSpecYaml.LoadStream(yaml, source);
        if (stream.Documents.Count == 0) stream.Documents.Add(new YamlDocument(new YamlMappingNode()));
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new JobSpecFormatException($"{source}: expected a mapping of job spec keys");
        foreach (var assignment in overrides) Assign(root, assignment);
        var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    /// <summary>
    /// A copy of <paramref name="spec"/> with every <c>key.path=value</c> set, checked as in a file (errors name
    /// <paramref name="source"/>); <c>section=null</c> clears a section (e.g. <c>teacher=null</c>). Defaults are applied after.
    /// </summary>
    public static JobSpec ApplyTo(JobSpec spec, IEnumerable<string> overrides, string source)
    {
        var root = new YamlMappingNode();
        foreach (var assignment in overrides) Assign(root, assignment);
        var result = spec.Clone();
        JobSpecYaml.Fill(result, root, source);
        return JobSpecDefaults.Apply(result);
    }

    /// <summary>Parses one <c>key.path=value</c> (the form every override is checked for) into its key path and value.</summary>
    public static (string[] Keys, string Value) Split(string assignment)
    {
        var equals = assignment.IndexOf('=');
        if (equals <= 0) throw new JobSpecFormatException($"--set '{assignment}': expected key.path=value (e.g. schedule.steps=200)");
        var keys = assignment[..equals].Trim().Split('.');
        if (keys.Any(k => k.Length == 0)) throw new JobSpecFormatException($"--set '{assignment}': empty key in '{assignment[..equals]}'");
        return (keys, assignment[(equals + 1)..].Trim());
    }

    static void Assign(YamlMappingNode root, string assignment)
    {
        var (keys, value) = Split(assignment);
        var node = root;
        foreach (var key in keys[..^1])
        {
            if (!node.Children.TryGetValue(new YamlScalarNode(key), out var child))
            {
                child = new YamlMappingNode();
                node.Children[new YamlScalarNode(key)] = child;
            }
            node = child as YamlMappingNode
                ?? throw new JobSpecFormatException($"--set '{assignment}': '{key}' is a value, not a mapping");
        }
        node.Children[new YamlScalarNode(keys[^1])] = new YamlScalarNode(value);
    }
}
