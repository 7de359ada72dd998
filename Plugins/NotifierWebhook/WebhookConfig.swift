import PluginKit

/// The `webhook` notifier's configuration: where to POST, how to sign, what to trust.
struct WebhookConfig: StrictConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, secret, ca_file, timeout_seconds, headers
    }
    /// An http or https URL. Required.
    let url: String
    /// Key of the X-Acmeeh-Signature HMAC; nil = unsigned. Never logged.
    let secret: String?
    /// PEM bundle that verifies the receiver's certificate (nil = system trust).
    let caFile: String?
    /// Per-delivery limit, within the call's deadline (10 s).
    let timeoutSeconds: Int
    /// Extra request header fields, e.g. an Authorization the receiver wants.
    let headers: [(name: String, value: String)]

    /// Header fields the plugin sets itself (compared case-insensitively).
    static let reservedHeaders: Set<String> = [
        "content-type", "content-length", "transfer-encoding", "host", "expect", "connection",
        "x-acmeeh-signature", "x-acmeeh-event",
    ]

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func optionalString(_ key: CodingKeys) throws -> String? {
            let value = try c.decodeIfPresent(String.self, forKey: key)
            return (value?.isEmpty ?? true) ? nil : value
        }
        guard let url = try optionalString(.url) else { throw ConfigValueError(CodingKeys.url, "is required") }
        guard NetworkSyntax.isHTTPURL(url) else {
            throw ConfigValueError(CodingKeys.url, "\"\(url)\" is not an http or https URL")
        }
        self.url = url
        secret = try optionalString(.secret)
        caFile = try optionalString(.ca_file)
        timeoutSeconds = try c.decode(.timeout_seconds, default: 10, in: 1...3600)
        let map: [String: String] = try c.decode(.headers, default: [:])
        // RFC 9110 §5.1: a field name is a token; §5.5: a value has no CR, LF or NUL.
        let tchar = Set("!#$%&'*+-.^_`|~".utf8)
        var headers: [(name: String, value: String)] = []
        for name in map.keys.sorted() {
            let value = map[name]!
            guard !name.isEmpty, name.utf8.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || tchar.contains($0)
            }) else {
                throw ConfigValueError(CodingKeys.headers, "\"\(name)\" is not an HTTP header name")
            }
            guard !Self.reservedHeaders.contains(name.lowercased()) else {
                throw ConfigValueError(CodingKeys.headers, "\(name) is set by the plugin and cannot be configured")
            }
            guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw ConfigValueError(CodingKeys.headers, "the value of \(name) must not contain a line break")
            }
            headers.append((name, value))
        }
        self.headers = headers
    }
}
