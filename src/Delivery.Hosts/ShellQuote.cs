using Delivery.Core;

namespace Delivery.Hosts;

/// <summary>Quotes values for the POSIX shell: everything inside single quotes is literal, except the quote itself.</summary>
public static class ShellQuote
{
    public static string Quote(string value)
    {
        if (value.Contains('\0'))
            throw new DeliveryException("A value for the host script contains a NUL character, which no shell can carry.");
        return "'" + value.Replace("'", "'\\''") + "'";
    }
}
