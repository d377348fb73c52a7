using System.Globalization;
using System.Text;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>One sample of a scrape: the metric name, its labels and value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A reader of the Prometheus text exposition format (version 0.0.4) as a scraper reads it: comment lines skipped,
/// <c>name{label="value",...} value [timestamp]</c>, label values unescaped (<c>\\</c>, <c>\"</c>, <c>\n</c>).
/// </summary>
public static class PrometheusText
{
    public static List<PrometheusSample> Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var nameEnd = line.IndexOfAny(['{', ' ']);
            var name = line[..nameEnd];
            var labels = new Dictionary<string, string>();
            var position = nameEnd;
            if (line[position] == '{')
            {
                position++;
                while (line[position] != '}')
                {
                    var equals = line.IndexOf('=', position);
                    var label = line[position..equals].Trim();
                    if (line[equals + 1] != '"') throw new FormatException($"label {label} is not quoted: {line}");
                    var value = new StringBuilder();
                    position = equals + 2;
                    for (; line[position] != '"'; position++)
                    {
                        if (line[position] != '\\') { value.Append(line[position]); continue; }
                        position++;
                        value.Append(line[position] switch { 'n' => '\n', var escaped => escaped });
                    }
                    labels[label] = value.ToString();
                    position++;
                    if (line[position] == ',') position++;
                }
                position++;
            }
            var fields = line[position..].Trim().Split(' ');
            samples.Add(new PrometheusSample(name, labels, ParseValue(fields[0])));
        }
        return samples;
    }

    static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    /// <summary>The value of the one sample of <paramref name="name"/> with exactly these labels among others; null when there is none.</summary>
    public static double? Value(this IEnumerable<PrometheusSample> samples, string name, params (string Label, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value))
            .Select(s => (double?)s.Value).SingleOrDefault();
}
