using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using PoolAI.Jobs;

namespace PoolAI.Webhooks;

/// <summary>
/// Checks a job's webhook address when the job is submitted, by the rule delivery applies (<see cref="WebhookSender"/>):
/// unless <see cref="WebhookOptions.AllowPrivateAddresses"/> is on, the host must resolve to at least one public
/// address. A refused address is refused for good, so it is bad input at submission (HTTP 400), not six failed
/// deliveries later. A lookup that fails for a passing reason (no answer from DNS) lets the job in: delivery checks
/// again and retries.
/// </summary>
public sealed class WebhookTargets(IOptions<WebhookOptions> options)
{
    /// <summary>Checks <paramref name="url"/> (already known to be an absolute http or https URL); null passes.</summary>
    /// <exception cref="JobValidationException">Field <c>webhook_url</c>: the host resolves only to loopback, private,
    /// link-local, CGNAT or unspecified addresses, or it does not exist.</exception>
    public async Task CheckAsync(string? url)
    {
        if (url is null || options.Value.AllowPrivateAddresses || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
            return;
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.HostNotFound)
        {
            throw new JobValidationException("webhook_url", $"the host '{uri.Host}' does not exist (DNS has no address for it)");
        }
        catch (SocketException)
        {
            return; // DNS did not answer now; delivery checks again
        }

        if (addresses.Length > 0 && addresses.All(WebhookSender.IsPrivate))
            throw new JobValidationException("webhook_url", $"must reach a public address; '{uri.Host}' is a loopback or private address ({string.Join(", ", addresses.Select(a => a.ToString()))}), which webhooks may not call (PoolAI:Webhooks:AllowPrivateAddresses is off)");
    }
}
