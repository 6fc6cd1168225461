using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace WebApp.Hosting;

/// <summary>
/// Data-protection keys kept only in memory. The app runs on a read-only root filesystem with no writable HOME and
/// protects nothing that must survive a restart (no auth cookies; antiforgery tokens are per page view), so
/// nothing is written to disk.
/// </summary>
internal sealed class InMemoryKeyRepository : IXmlRepository
{
    private readonly Lock _lock = new();
    private readonly List<XElement> _elements = [];

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        lock (_lock)
            return _elements.Select(e => new XElement(e)).ToArray();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        lock (_lock)
            _elements.Add(new XElement(element));
    }
}
