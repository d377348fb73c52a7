using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Sets VER_FLG_WEAK on the .gnu.version_r entry named <see cref="VersionName"/> in every
/// libLibTorchSharp.so under <see cref="Folder"/>, when the system's libstdc++ lacks that version.
/// ELF64 little-endian only (linux-x64), which is the only platform TorchSharp-cpu ships this file for.
/// </summary>
public class WeakenGlibcxxRequirement : Task
{
    [Required] public string Folder { get; set; } = "";
    [Required] public string VersionName { get; set; } = "";

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    static readonly string[] LibStdCxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
    };

    public override bool Execute()
    {
        if (!Directory.Exists(Folder)) return true;
        var libraries = Directory.GetFiles(Folder, "libLibTorchSharp.so", SearchOption.AllDirectories);
        if (libraries.Length == 0) return true;
        if (SystemHasVersion())
        {
            Log.LogMessage(MessageImportance.Low, "System libstdc++ provides {0}; TorchSharp needs no fix.", VersionName);
            return true;
        }
        foreach (var library in libraries)
        {
            try
            {
                var changed = Weaken(library);
                Log.LogMessage(MessageImportance.Normal, changed
                    ? "Marked {0} weak in {1} (system libstdc++ lacks it)."
                    : "{1}: {0} already weak or absent.", VersionName, library);
            }
            catch (Exception e)
            {
                Log.LogError("Could not patch {0} so that TorchSharp loads on this system ({1}). " +
                             "Install a libstdc++ that provides {2} (GCC 13+) or preload a shim.", library, e.Message, VersionName);
            }
        }
        return !Log.HasLoggedErrors;
    }

    bool SystemHasVersion()
    {
        var needle = Encoding.ASCII.GetBytes(VersionName + "\0");
        foreach (var candidate in LibStdCxxCandidates)
        {
            if (!File.Exists(candidate)) continue;
            var bytes = File.ReadAllBytes(candidate);
            if (IndexOf(bytes, needle) >= 0) return true;
            return false;
        }
        return true; // no libstdc++ found where we look: do not touch anything
    }

    static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    bool Weaken(string path)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("not ELF64 little-endian");

        long sectionHeaders = BitConverter.ToInt64(elf, 0x28);
        int sectionHeaderSize = BitConverter.ToUInt16(elf, 0x3A);
        int sectionCount = BitConverter.ToUInt16(elf, 0x3C);
        bool changed = false;
        for (int s = 0; s < sectionCount; s++)
        {
            long header = sectionHeaders + (long)s * sectionHeaderSize;
            if (BitConverter.ToUInt32(elf, (int)header + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, (int)header + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)header + 0x28);
            long stringTable = BitConverter.ToInt64(elf, (int)(sectionHeaders + (long)link * sectionHeaderSize + 0x18));

            long need = offset;
            while (true)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    uint nameOffset = BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadString(elf, stringTable + nameOffset) == VersionName)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlagWeak) == 0)
                        {
                            flags |= VerFlagWeak;
                            elf[aux + 4] = (byte)(flags & 0xff);
                            elf[aux + 5] = (byte)(flags >> 8);
                            changed = true;
                        }
                    }
                    uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint nextNeed = BitConverter.ToUInt32(elf, (int)need + 12);
                if (nextNeed == 0) break;
                need += nextNeed;
            }
        }
        if (changed)
        {
            var temporary = path + ".patching";
            File.WriteAllBytes(temporary, elf);
            File.Copy(temporary, path, true);
            File.Delete(temporary);
        }
        return changed;
    }

    static string ReadString(byte[] bytes, long start)
    {
        long end = start;
        while (end < bytes.Length && bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)start, (int)(end - start));
    }
}
