namespace Delivery.Core;

/// <summary>
/// A failure the user can act on. Its message is one line, shown as is, without a stack trace.
/// </summary>
public class DeliveryException : Exception
{
    public DeliveryException(string message) : base(OneLine(message)) { }
    public DeliveryException(string message, Exception inner) : base(OneLine(message), inner) { }

    static string OneLine(string message) =>
        string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
