using System.Buffers.Binary;
using System.Text;

namespace Delivery.Docker;

/// <summary>
/// Splits the engine's log stream into lines. Without a TTY the engine multiplexes stdout and stderr in frames with
/// an 8-byte header: stream type (1 = stdout, 2 = stderr), three zero bytes, then the payload size (big-endian uint32).
/// </summary>
public static class ContainerLogDecoder
{
    public static IReadOnlyList<ContainerLogLine> Decode(ReadOnlySpan<byte> data)
    {
        var lines = new List<ContainerLogLine>();
        if (!LooksMultiplexed(data))
        {
            AddLines(lines, LogStream.StdOut, Encoding.UTF8.GetString(data), flush: true, out _);
            return lines;
        }

        var pending = new Dictionary<LogStream, string> { [LogStream.StdOut] = "", [LogStream.StdErr] = "" };
        var offset = 0;
        while (offset + 8 <= data.Length)
        {
            var kind = data[offset] == 2 ? LogStream.StdErr : LogStream.StdOut;
            var size = (int)BinaryPrimitives.ReadUInt32BigEndian(data.Slice(offset + 4, 4));
            var available = Math.Min(size, data.Length - offset - 8);
            var payload = Encoding.UTF8.GetString(data.Slice(offset + 8, available));
            AddLines(lines, kind, pending[kind] + payload, flush: false, out var rest);
            pending[kind] = rest;
            offset += 8 + available;
        }
        foreach (var (kind, rest) in pending)
            if (rest.Length > 0) lines.Add(new ContainerLogLine(kind, rest.TrimEnd('\r')));
        return lines;
    }

    static bool LooksMultiplexed(ReadOnlySpan<byte> data) =>
        data.Length >= 8 && data[0] <= 2 && data[1] == 0 && data[2] == 0 && data[3] == 0;

    static void AddLines(List<ContainerLogLine> lines, LogStream kind, string text, bool flush, out string rest)
    {
        var start = 0;
        int newline;
        while ((newline = text.IndexOf('\n', start)) >= 0)
        {
            lines.Add(new ContainerLogLine(kind, text[start..newline].TrimEnd('\r')));
            start = newline + 1;
        }
        rest = text[start..];
        if (flush && rest.Length > 0)
        {
            lines.Add(new ContainerLogLine(kind, rest.TrimEnd('\r')));
            rest = "";
        }
    }
}
