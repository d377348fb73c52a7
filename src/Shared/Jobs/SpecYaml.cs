using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// A job's spec written as the YAML a user submits (snake_case keys, short lower-case enum names, only the fields that
/// are set), so it can be read and resubmitted with <c>orchestrator submit</c>. Strings YAML could misread (empty, leading
/// symbols, ': ', '#', true/null or number look-alikes) are double-quoted the JSON way.
/// </summary>
public static partial class SpecYaml
{
    public static string From(IMessage message)
    {
        var yaml = new StringBuilder();
        WriteMessage(yaml, message, 0);
        return yaml.ToString();
    }

    static void WriteMessage(StringBuilder yaml, IMessage message, int indent)
    {
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder().Where(f => IsSet(f, message)))
        {
            yaml.Append(' ', indent).Append(field.Name).Append(':');
            var value = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                yaml.Append('\n');
                foreach (DictionaryEntry entry in (IDictionary)value)
                    WriteValue(yaml.Append(' ', indent + 2).Append(Scalar(Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!)).Append(':'),
                        field.MessageType.FindFieldByNumber(2), entry.Value!, indent + 2);
            }
            else if (field.IsRepeated)
            {
                yaml.Append('\n');
                foreach (var item in (IList)value) WriteValue(yaml.Append(' ', indent + 2).Append('-'), field, item!, indent + 2);
            }
            else WriteValue(yaml, field, value, indent);
        }
    }

    static void WriteValue(StringBuilder yaml, FieldDescriptor field, object value, int indent)
    {
        switch (value)
        {
            case IMessage nested:
                yaml.Append('\n');
                WriteMessage(yaml, nested, indent + 2);
                return;
            case string text: yaml.Append(' ').Append(Scalar(text)); break;
            case bool flag: yaml.Append(flag ? " true" : " false"); break;
            case ByteString bytes: yaml.Append(' ').Append(Scalar(bytes.ToBase64())); break;
            case IFormattable number when field.FieldType != FieldType.Enum:
                yaml.Append(' ').Append(number.ToString(null, CultureInfo.InvariantCulture)); break;
            default:
                var enumValue = field.EnumType.FindValueByNumber(Convert.ToInt32(value, CultureInfo.InvariantCulture));
                yaml.Append(' ').Append(enumValue is null ? Convert.ToString(value, CultureInfo.InvariantCulture) : ProtoEnums.ShortName(enumValue));
                break;
        }
        yaml.Append('\n');
    }

    /// <summary>Set: a message present, a list or map not empty, an optional field present, a plain scalar not its default.</summary>
    static bool IsSet(FieldDescriptor field, IMessage message)
    {
        var value = field.Accessor.GetValue(message);
        if (field.IsMap || field.IsRepeated) return ((ICollection)value).Count > 0;
        if (field.HasPresence) return field.Accessor.HasValue(message);
        return value switch
        {
            string text => text.Length > 0,
            bool flag => flag,
            ByteString bytes => bytes.Length > 0,
            _ => Convert.ToDouble(value, CultureInfo.InvariantCulture) != 0,
        };
    }

    static string Scalar(string text) => Plain().IsMatch(text) && !Reserved().IsMatch(text) ? text : JsonSerializer.Serialize(text);

    [GeneratedRegex(@"^[A-Za-z0-9_./][A-Za-z0-9_./ :,=+-]*$")]
    private static partial Regex Plain();

    [GeneratedRegex(@"^(true|false|yes|no|on|off|null|~|[-+.0-9eE]+)$|: |\s$", RegexOptions.IgnoreCase)]
    private static partial Regex Reserved();
}
