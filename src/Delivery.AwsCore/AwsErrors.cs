namespace Delivery.Aws;

/// <summary>How SDK failures are put in one line.</summary>
internal static class AwsErrors
{
    public static string OneLine(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return "(no message)";
        var line = string.Join(" ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= 400 ? line : line[..400] + "…";
    }

    public static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is { } inner) ex = inner;
        return ex;
    }

    public static bool IsUnreachable(Exception ex, CancellationToken cancellationToken)
    {
        if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested) return false;
        for (Exception? e = ex; e is not null; e = e.InnerException)
            if (e is HttpRequestException or TimeoutException or System.Net.Sockets.SocketException
                || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
                return true;
        return false;
    }
}
