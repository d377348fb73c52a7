using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// Checks every value of a protobuf message, at any depth, that the wire accepts but nothing downstream can: a NUL
/// character in a string (PostgreSQL text and jsonb cannot hold it), an enum number the contract does not define
/// (<c>type = 99</c>), a NaN or infinite number (no field of this API means one, and JSON cannot hold it) and a
/// google.protobuf.Duration that is not normalised. Field paths are proto names from the message's root:
/// <c>spec.labels</c>, <c>states[2]</c>.
/// </summary>
public static class ProtoValues
{
    public static List<FieldViolation> Violations(IMessage message, string path = "")
    {
        var violations = new List<FieldViolation>();
        Visit(message, path, violations);
        return violations;
    }

    static void Visit(IMessage message, string path, List<FieldViolation> violations)
    {
        if (message is Duration duration)
        {
            if (!IsNormalized(duration))
                violations.Add(new(path, $"{{seconds: {duration.Seconds}, nanos: {duration.Nanos}}} is not a valid duration"));
            return;
        }
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            var name = path.Length == 0 ? field.Name : $"{path}.{field.Name}";
            var value = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (DictionaryEntry entry in (IDictionary)value)
                {
                    if (entry.Key is string key && key.Contains('\0'))
                        violations.Add(new(name, $"key '{Echo.Short(key)}' holds a NUL character"));
                    Check(valueField, entry.Value, entry.Key is string k ? $"{name}[\"{Echo.Short(k)}\"]" : name, violations);
                }
            }
            else if (field.IsRepeated)
            {
                var index = 0;
                foreach (var item in (IList)value) Check(field, item, $"{name}[{index++}]", violations);
            }
            else Check(field, value, name, violations);
        }
    }

    static void Check(FieldDescriptor field, object? value, string name, List<FieldViolation> violations)
    {
        switch (field.FieldType)
        {
            case FieldType.String when value is string text && text.Contains('\0'):
                violations.Add(new(name, $"'{Echo.Short(text)}' holds a NUL character"));
                break;
            case FieldType.Enum when value is not null && field.EnumType.FindValueByNumber(Convert.ToInt32(value)) is null:
                violations.Add(new(name, $"is {Convert.ToInt32(value)}; not a {field.EnumType.Name} (one of {string.Join(", ", ProtoEnums.ShortNames(field.EnumType))})"));
                break;
            case FieldType.Double or FieldType.Float when value is double or float && !double.IsFinite(Convert.ToDouble(value)):
                violations.Add(new(name, $"is {Convert.ToDouble(value)}; must be a finite number"));
                break;
            case FieldType.Message when value is IMessage child:
                Visit(child, name, violations);
                break;
        }
    }

    /// <summary>What Duration.ToTimeSpan accepts: seconds within ±10,000 years, nanos within a second, both of one sign.</summary>
    static bool IsNormalized(Duration duration) =>
        duration.Seconds is >= Duration.MinSeconds and <= Duration.MaxSeconds
        && duration.Nanos is > -Duration.NanosecondsPerSecond and < Duration.NanosecondsPerSecond
        && !(duration.Seconds < 0 && duration.Nanos > 0 || duration.Seconds > 0 && duration.Nanos < 0);
}

/// <summary>Proto enum values by the short names users type: <c>JOB_TYPE_DISTILL</c> is <c>distill</c>.</summary>
public static class ProtoEnums
{
    /// <summary>The short names of the defined values, without the zero (unspecified) one.</summary>
    public static IEnumerable<string> ShortNames(EnumDescriptor type) =>
        type.Values.Where(v => v.Number != 0).Select(v => ShortName(v));

    public static string ShortName(EnumValueDescriptor value) => value.Name[Prefix(value.EnumDescriptor).Length..].ToLowerInvariant();

    /// <summary>JOB_TYPE_ for JobType: proto enum values carry their type's name as a prefix.</summary>
    public static string Prefix(EnumDescriptor type) =>
        string.Concat(type.Name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant() + "_";
}
