namespace SpectralDiffusion.Shared.Rpc;

/// <summary>
/// The one form of an orchestrator address every client takes: <c>host:port</c> (plain HTTP/2, as grpcurl and the Python
/// client write it) or <c>http://host:port</c> / <c>https://host:port</c>. An active orchestrator and its standby are
/// given as a comma-separated list (<c>a:5080,b:5080</c>); clients follow whichever is active (<see cref="FailoverInvoker"/>).
/// </summary>
public static class OrchestratorAddress
{
    public const string Default = "http://127.0.0.1:5080";

    /// <summary>The address as a URL; <paramref name="setting"/> names the flag or variable it came from, for the error.</summary>
    public static Uri Parse(string? text, string setting)
    {
        var value = text?.Trim() ?? "";
        var withScheme = value.Contains("://", StringComparison.Ordinal) ? value : "http://" + value;
        if (value.Length > 0 && Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && uri.Host.Length > 0 && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.UserInfo.Length == 0)
            return uri;
        throw new OrchestratorAddressException($"{setting} '{value}' is not an orchestrator address: give host:port or http(s)://host:port (e.g. {Default} or 127.0.0.1:5080)");
    }

    /// <summary>One or more addresses separated by commas (the active orchestrator and its standbys, in any order).</summary>
    public static IReadOnlyList<Uri> ParseList(string? text, string setting)
    {
        var parts = (text ?? "").Split(',', StringSplitOptions.TrimEntries);
        var addresses = parts.Select(part => Parse(part, setting)).ToList();
        if (addresses.Distinct().Count() != addresses.Count)
            throw new OrchestratorAddressException($"{setting} '{text}' names one address twice; give each orchestrator once");
        return addresses;
    }
}

/// <summary>An address that is neither host:port nor an http(s) URL; the message names the flag and shows both forms.</summary>
public sealed class OrchestratorAddressException(string message) : ArgumentException(message);
