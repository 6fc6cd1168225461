namespace Delivery.Provisioning;

/// <summary>Just enough ELF to tell a static executable (no PT_INTERP program header) from a dynamic one.</summary>
public static class Elf
{
    const uint ProgramInterpreter = 3;

    public static bool IsStatic(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != 'E' || bytes[2] != 'L' || bytes[3] != 'F' || bytes[5] != 1) return false;
            var is64 = bytes[4] == 2;
            var headerOffset = is64 ? (long)BitConverter.ToUInt64(bytes, 0x20) : BitConverter.ToUInt32(bytes, 0x1C);
            var entrySize = BitConverter.ToUInt16(bytes, is64 ? 0x36 : 0x2A);
            var count = BitConverter.ToUInt16(bytes, is64 ? 0x38 : 0x2C);
            for (var i = 0; i < count; i++)
            {
                var at = headerOffset + (long)i * entrySize;
                if (at + 4 > bytes.Length) return false;
                if (BitConverter.ToUInt32(bytes, (int)at) == ProgramInterpreter) return false;
            }
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
