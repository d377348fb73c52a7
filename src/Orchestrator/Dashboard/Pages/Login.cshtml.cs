using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>The one page served without a key: a form that checks the key and starts a session cookie.</summary>
public sealed class LoginModel(DashboardAccess access) : PageModel
{
    [BindProperty(SupportsGet = true)] public string ReturnUrl { get; set; } = DashboardSetup.PathBase;
    public string? Problem { get; private set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(string? key)
    {
        if (!access.IsValidKey(key))
        {
            Problem = string.IsNullOrEmpty(key) ? "Enter an API key." : "That API key is not valid.";
            if (!string.IsNullOrEmpty(key)) access.RecordFailure(HttpContext);
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        await access.SignInAsync(HttpContext, key!);
        return LocalRedirect(SafeReturnUrl());
    }

    public async Task<IActionResult> OnPostSignOutAsync()
    {
        await access.SignOutAsync(HttpContext);
        return LocalRedirect(DashboardSetup.LoginPath);
    }

    /// <summary>Only a page of the dashboard itself; anything else (another site, the login page) goes to the job list.</summary>
    string SafeReturnUrl() =>
        Url.IsLocalUrl(ReturnUrl) && ReturnUrl.StartsWith(DashboardSetup.PathBase, StringComparison.Ordinal)
        && !ReturnUrl.StartsWith(DashboardSetup.LoginPath, StringComparison.Ordinal) ? ReturnUrl : DashboardSetup.PathBase;
}
