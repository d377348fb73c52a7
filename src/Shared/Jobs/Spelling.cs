namespace SpectralDiffusion.Shared.Jobs;

/// <summary>"Did you mean" hints: the candidate with the smallest edit distance, if it is close enough.</summary>
public static class Spelling
{
    /// <summary>Longer words are no misspelling of a short name (and would make the edit distance costly).</summary>
    const int MaxWordLength = 64;

    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        if (word.Length > MaxWordLength) return null;
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = EditDistance(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance) (best, bestDistance) = (candidate, distance);
        }
        return best is not null && bestDistance <= Math.Max(2, word.Length / 3) ? best : null;
    }

    public static string Hint(string word, IEnumerable<string> candidates) =>
        Closest(word, candidates) is { } closest ? $" (did you mean '{closest}'?)" : "";

    /// <summary>Levenshtein distance with one rolling row.</summary>
    public static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
