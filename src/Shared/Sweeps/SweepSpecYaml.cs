using System.Globalization;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using YamlDotNet.RepresentationModel;

namespace SpectralDiffusion.Shared.Sweeps;

/// <summary>
/// A sweep written as YAML (see examples/sweeps/):
/// <code>
/// name: lite-vs-sd
/// base: base.yaml              # a job spec file, relative to this file, or a job spec mapping written here
/// seeds: [1, 2, 3]
/// arms:                        # arms one by one: a name and --set style overrides
///   - { name: teacher, set: [model.preset=tiny-ldm] }
/// axes:                        # and/or a grid: one arm per combination of the axes' values
///   - name: model
///     values:
///       - { name: sd, set: [type=distill, model.preset=tiny-sd, teacher.preset=tiny-ldm, teacher.checkpoint=arm:teacher] }
/// </code>
/// Unknown keys and malformed values are errors naming the file, line and key.
/// </summary>
public static class SweepSpecYaml
{
    static readonly string[] TopKeys = ["name", "base", "seeds", "arms", "axes"];
    static readonly string[] ArmKeys = ["name", "set"];
    static readonly string[] AxisKeys = ["name", "values"];

    public static SweepSpec Load(string path)
    {
        if (!File.Exists(path)) throw new JobSpecFormatException($"{path}: no such file");
        return Parse(File.ReadAllText(path), path, Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <param name="folder">Where a <c>base:</c> file name is looked up.</param>
    public static SweepSpec Parse(string yaml, string source, string folder)
    {
        var stream = JobSpecYaml.LoadStream(yaml, source);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new JobSpecFormatException($"{source}: expected a mapping of sweep keys ({string.Join(", ", TopKeys)})");
        var spec = new SweepSpec();
        foreach (var (key, value) in Entries(root, TopKeys, "", source))
        {
            switch (key)
            {
                case "name": spec.Name = Scalar(value, key, source); break;
                case "base": spec.Base = Base(value, source, folder); break;
                case "seeds":
                    foreach (var item in Sequence(value, key, source).Children)
                        spec.Seeds.Add(long.TryParse(Scalar(item, key, source), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
                            ? seed : throw Error(item, source, $"seeds: '{Echo.Short(Scalar(item, key, source))}' is not an integer"));
                    break;
                case "arms": spec.Arms.AddRange(Sequence(value, key, source).Children.Select(a => Arm(a, "arms", source))); break;
                case "axes":
                    foreach (var axisNode in Sequence(value, key, source).Children)
                    {
                        var axis = new SweepAxis();
                        foreach (var (axisKey, axisValue) in Entries(Mapping(axisNode, "axes", source), AxisKeys, "axes.", source))
                            if (axisKey == "name") axis.Name = Scalar(axisValue, "axes.name", source);
                            else axis.Values.AddRange(Sequence(axisValue, "axes.values", source).Children.Select(v => Arm(v, "axes.values", source)));
                        spec.Axes.Add(axis);
                    }
                    break;
            }
        }
        return spec;
    }

    static JobSpec Base(YamlNode node, string source, string folder) => node switch
    {
        YamlMappingNode mapping => JobSpecYaml.Parse(mapping, source),
        YamlScalarNode { Value: { Length: > 0 } file } => JobSpecYaml.Load(Path.Combine(folder, file)),
        _ => throw Error(node, source, "base: expected a job spec file name or a job spec mapping"),
    };

    static SweepArm Arm(YamlNode node, string path, string source)
    {
        var arm = new SweepArm();
        foreach (var (key, value) in Entries(Mapping(node, path, source), ArmKeys, path + ".", source))
            if (key == "name") arm.Name = Scalar(value, path + ".name", source);
            else arm.Set.AddRange(Sequence(value, path + ".set", source).Children.Select(s => Scalar(s, path + ".set", source)));
        return arm;
    }

    static IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode mapping, string[] known, string path, string source)
    {
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!known.Contains(key))
                throw Error(keyNode, source, $"unknown key '{path}{key}'{Spelling.Hint(key, known)}; known keys: {string.Join(", ", known)}");
            yield return (key, value);
        }
    }

    static string Scalar(YamlNode node, string path, string source) =>
        (node as YamlScalarNode)?.Value ?? throw Error(node, source, $"{path}: expected a single value");

    static YamlSequenceNode Sequence(YamlNode node, string path, string source) =>
        node as YamlSequenceNode ?? throw Error(node, source, $"{path}: expected a list");

    static YamlMappingNode Mapping(YamlNode node, string path, string source) =>
        node as YamlMappingNode ?? throw Error(node, source, $"{path}: expected a mapping");

    static JobSpecFormatException Error(YamlNode node, string source, string message) => new($"{source}:{node.Start.Line}: {message}");
}
