namespace Delivery.Hosts.Scripts;

/// <summary>The markers that start the host scripts' output lines (written by <c>lib/output.sh</c>), so the caller can
/// tell progress, errors and machine-readable data apart on any host (local bash or SSM).</summary>
public static class ScriptLibrary
{
    public const string Marker = "webapp-deploy: ";
    public const string ErrorMarker = "webapp-deploy: error: ";
    public const string DataMarker = "webapp-deploy: data: ";
    public const string LogMarker = "webapp-deploy: log: ";
}
