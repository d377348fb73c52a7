using System.Collections;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using SpectralDiffusion.Shared.Contracts.V1;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// Job specs written as YAML for the CLI: snake_case keys exactly as the proto fields, enums by their short name
/// (<c>type: distill</c>, <c>device: cuda</c>). Keys a file leaves out take <see cref="JobSpecDefaults"/>.
/// An unknown key is an error naming the file, line and the closest known key.
/// </summary>
public static class JobSpecYaml
{
    public static JobSpec Load(string path)
    {
        if (!File.Exists(path)) throw new JobSpecFormatException($"{path}: no such file");
        return Parse(File.ReadAllText(path), path);
    }

    public static JobSpec Parse(string yaml, string source = "<yaml>")
    {
        var stream = LoadStream(yaml, source);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new JobSpecFormatException($"{source}: expected a mapping of job spec keys (name, type, model, ...)");
        return Parse(root, source);
    }

    /// <summary>A job spec written as a mapping inside another YAML file (e.g. a sweep's base); errors name that file's lines.</summary>
    internal static JobSpec Parse(YamlMappingNode root, string source)
    {
        var spec = JobSpecDefaults.YamlTemplate();
        new Reader(source, withLines: true).Fill(spec, root, "");
        return JobSpecDefaults.Apply(spec);
    }

    /// <summary>
    /// Sets the keys of <paramref name="values"/> on <paramref name="message"/>, with the same checks as a file. The nodes
    /// were built in code (e.g. from overrides), so errors name <paramref name="source"/> but no line.
    /// </summary>
    internal static void Fill(IMessage message, YamlMappingNode values, string source) =>
        new Reader(source, withLines: false).Fill(message, values, "");

    /// <summary>
    /// Reads YAML text; a syntax error names the line. YamlDotNet places a tab-indentation error at the start of the node
    /// before the tab (often line 1), so a line indented with a tab is looked for and named instead.
    /// </summary>
    internal static YamlStream LoadStream(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
            return stream;
        }
        catch (YamlException e) when (FirstTabIndentedLine(yaml) is { } line)
        {
            throw new JobSpecFormatException($"{source}:{line}: not valid YAML: this line is indented with a tab; YAML indents with spaces only ({e.Message})");
        }
        catch (YamlException e)
        {
            throw new JobSpecFormatException($"{source}:{e.Start.Line}: not valid YAML: {e.Message}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's parser gives up this way on some unterminated flow collections ("[1, 2" without its "]").
            throw new JobSpecFormatException($"{source}: not valid YAML: a [ or {{ is never closed");
        }
    }

    /// <summary>The 1-based number of the first line whose indentation holds a tab, or null.</summary>
    static int? FirstTabIndentedLine(string yaml)
    {
        var lines = yaml.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indentation = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            if (lines[i].AsSpan(0, indentation).Contains('\t')) return i + 1;
        }
        return null;
    }

    sealed class Reader(string source, bool withLines)
    {
        public void Fill(IMessage message, YamlMappingNode node, string path)
        {
            var fields = message.Descriptor.Fields.InDeclarationOrder();
            foreach (var (keyNode, valueNode) in node.Children)
            {
                var key = ((YamlScalarNode)keyNode).Value ?? "";
                var field = message.Descriptor.FindFieldByName(key)
                    ?? throw Error(keyNode, $"unknown key '{Join(path, key)}'{Spelling.Hint(key, fields.Select(f => f.Name))}; " +
                                            $"known keys{(path.Length > 0 ? " under " + path : "")}: {string.Join(", ", fields.Select(f => f.Name))}");
                Set(message, field, valueNode, Join(path, key));
            }
        }

        void Set(IMessage message, FieldDescriptor field, YamlNode node, string path)
        {
            if (field.IsMap)
            {
                var map = (IDictionary)field.Accessor.GetValue(message);
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (var (key, value) in Expect<YamlMappingNode>(node, path, "a mapping").Children)
                    map[((YamlScalarNode)key).Value ?? ""] = Scalar(valueField, value, $"{path}.{((YamlScalarNode)key).Value}");
            }
            else if (field.IsRepeated)
            {
                var list = (IList)field.Accessor.GetValue(message);
                foreach (var item in Expect<YamlSequenceNode>(node, path, "a list").Children)
                    list.Add(Scalar(field, item, path));
            }
            else if (field.FieldType == FieldType.Message && node is YamlScalarNode { Value: "null" or "~" })
                field.Accessor.Clear(message);
            else if (field.FieldType == FieldType.Message)
            {
                var child = (IMessage?)field.Accessor.GetValue(message) ?? (IMessage)Activator.CreateInstance(field.MessageType.ClrType)!;
                Fill(child, Expect<YamlMappingNode>(node, path, "a mapping"), path);
                field.Accessor.SetValue(message, child);
            }
            else field.Accessor.SetValue(message, Scalar(field, node, path));
        }

        object Scalar(FieldDescriptor field, YamlNode node, string path)
        {
            var text = Expect<YamlScalarNode>(node, path, "a single value").Value ?? "";
            var culture = CultureInfo.InvariantCulture;
            object? value = field.FieldType switch
            {
                FieldType.String => text,
                FieldType.Bool => bool.TryParse(text, out var b) ? b : null,
                FieldType.Int32 => int.TryParse(text, NumberStyles.Integer, culture, out var i) ? i : null,
                FieldType.Int64 => long.TryParse(text, NumberStyles.Integer, culture, out var l) ? l : null,
                FieldType.Double => double.TryParse(text, NumberStyles.Float, culture, out var d) ? d : null,
                FieldType.Enum => EnumValue(field.EnumType, text),
                _ => throw Error(node, $"{path}: fields of type {field.FieldType} cannot be written in YAML"),
            };
            return value ?? throw Error(node, $"{path}: '{Echo.Short(text)}' is not {Describe(field)}");
        }

        static object? EnumValue(EnumDescriptor type, string text)
        {
            var match = type.Values.FirstOrDefault(v => v.Number != 0 &&
                (string.Equals(v.Name, text, StringComparison.OrdinalIgnoreCase) ||
                 string.Equals(ProtoEnums.ShortName(v), text, StringComparison.OrdinalIgnoreCase)));
            return match is null ? null : Enum.ToObject(type.ClrType, match.Number);
        }

        static string Describe(FieldDescriptor field) => field.FieldType switch
        {
            FieldType.Enum => "one of " + string.Join(", ", ProtoEnums.ShortNames(field.EnumType)),
            FieldType.Int32 or FieldType.Int64 => "an integer",
            FieldType.Double => "a number",
            FieldType.Bool => "true or false",
            _ => field.FieldType.ToString(),
        };

        T Expect<T>(YamlNode node, string path, string what) where T : YamlNode =>
            node as T ?? throw Error(node, $"{path}: expected {what}");

        JobSpecFormatException Error(YamlNode node, string message) => new(withLines ? $"{source}:{node.Start.Line}: {message}" : $"{source}: {message}");

        static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;
    }
}

/// <summary>A YAML job spec that cannot be read; the message names the file, line and key.</summary>
public sealed class JobSpecFormatException(string message) : Exception(message);
