import CCurl
import PluginKit
import PluginNetwork

/// One URL of a validation (the first one or a redirect target), parsed by libcurl's
/// own URL parser so that what is checked is what libcurl will fetch.
struct ChallengeURL: CustomStringConvertible {
    /// The URL as libcurl normalised it.
    let text: String
    /// Lowercase: "http", "https" or whatever a redirect named.
    let scheme: String
    /// Without brackets; a lowercase domain name without a final dot, or an IP address
    /// (or anything else a redirect named, for the caller to refuse).
    let host: String
    /// Set when `host` is an IP address literal.
    let address: IPAddress?
    /// The explicit port, else the scheme's default.
    let port: Int

    /// nil when libcurl cannot parse `text` as an absolute URL.
    init?(_ text: String) {
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, text, UInt32(CURLU_NON_SUPPORT_SCHEME)) == CURLUE_OK else { return nil }
        func part(_ which: CURLUPart, _ flags: Int32 = 0) -> String? {
            var value: UnsafeMutablePointer<CChar>? = nil
            guard curl_url_get(handle, which, &value, UInt32(flags)) == CURLUE_OK, let value else { return nil }
            defer { curl_free(value) }
            return String(cString: value)
        }
        guard let url = part(CURLUPART_URL), let scheme = part(CURLUPART_SCHEME) else { return nil }
        // Empty for URLs without a host (file:///...): refused by the caller, by scheme first.
        var host = part(CURLUPART_HOST) ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        host = host.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        self.text = url
        self.scheme = scheme.lowercased()
        self.host = host
        self.address = IPAddress(host)
        if let explicit = part(CURLUPART_PORT), let number = Int(explicit) {
            port = number
        } else {
            port = self.scheme == "https" ? 443 : 80
        }
    }

    var description: String { text }
}
