namespace SpectralDiffusion.Orchestrator.Security;

/// <summary>Which credential each gRPC method needs. Health and reflection are open; unknown spectral methods need submit.</summary>
public static class AccessPolicy
{
    public static Credential For(string method)
    {
        // method: "/spectral.v1.Jobs/Submit"
        var parts = method.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !parts[0].StartsWith("spectral.", StringComparison.Ordinal)) return Credential.None;
        return (Service: parts[0][(parts[0].LastIndexOf('.') + 1)..], Method: parts[1]) switch
        {
            ("Workers", "List") => Credential.ReadKey,
            ("Workers", _) or ("Rendezvous", _) => Credential.WorkerToken,
            ("Jobs", "Get" or "List" or "Watch") or ("RunHistory", _) => Credential.ReadKey,
            _ => Credential.SubmitKey,
        };
    }
}

public enum Credential { None, WorkerToken, ReadKey, SubmitKey }
