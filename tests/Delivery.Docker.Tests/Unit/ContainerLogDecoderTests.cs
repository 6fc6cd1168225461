using System.Buffers.Binary;
using System.Text;

namespace Delivery.Docker.Tests.Unit;

public sealed class ContainerLogDecoderTests
{
    static byte[] Frame(byte stream, string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var frame = new byte[8 + payload.Length];
        frame[0] = stream;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)payload.Length);
        payload.CopyTo(frame, 8);
        return frame;
    }

    [Fact]
    public void Multiplexed_frames_become_lines_per_stream()
    {
        var data = Frame(1, "out one\nout ").Concat(Frame(2, "err one\n")).Concat(Frame(1, "two\r\n")).Concat(Frame(2, "tail without newline")).ToArray();

        var lines = ContainerLogDecoder.Decode(data);

        Assert.Equal(
        [
            new ContainerLogLine(LogStream.StdOut, "out one"),
            new ContainerLogLine(LogStream.StdErr, "err one"),
            new ContainerLogLine(LogStream.StdOut, "out two"),
            new ContainerLogLine(LogStream.StdErr, "tail without newline"),
        ], lines);
    }

    [Fact]
    public void A_tty_stream_is_plain_text()
    {
        var lines = ContainerLogDecoder.Decode(Encoding.UTF8.GetBytes("hello\nworld\n"));
        Assert.Equal(["hello", "world"], lines.Select(l => l.Text));
        Assert.All(lines, l => Assert.Equal(LogStream.StdOut, l.Stream));
    }

    [Fact]
    public void A_truncated_frame_keeps_what_arrived()
    {
        var frame = Frame(1, "complete\npartial");
        var lines = ContainerLogDecoder.Decode(frame.AsSpan(0, frame.Length - 3));
        Assert.Equal(["complete", "part"], lines.Select(l => l.Text));
        Assert.Empty(ContainerLogDecoder.Decode([]));
    }
}
