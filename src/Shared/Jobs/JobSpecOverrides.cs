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
        foreach (var assignment in overrides)
        {
            var equals = assignment.IndexOf('=');
            if (equals <= 0) throw new JobSpecFormatException($"--set '{assignment}': expected key.path=value (e.g. schedule.steps=200)");
            var keys = assignment[..equals].Trim().Split('.');
            if (keys.Any(k => k.Length == 0)) throw new JobSpecFormatException($"--set '{assignment}': empty key in '{assignment[..equals]}'");
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
            node.Children[new YamlScalarNode(keys[^1])] = new YamlScalarNode(assignment[(equals + 1)..].Trim());
        }
        var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }
}
