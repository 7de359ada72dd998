import PluginKit

/// The `smtp` notifier's configuration: which server, how to reach it, who sends and
/// who else receives every message.
struct SMTPConfig: StrictConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, username, password, use_tls, from_address, cc, bcc, timeout_seconds, ca_file
    }
    /// A DNS name (lowercased) or an IP address. Required.
    let host: String
    /// 587 (submission, RFC 6409) when use_tls, else 25.
    let port: Int
    /// AUTH (RFC 4954) credentials; both or neither. The password is never logged.
    let username: String?
    let password: String?
    /// true (the default): TLS is required, implicit on port 465 (RFC 8314 §3.3),
    /// STARTTLS (RFC 3207) on any other port; a server without it fails the delivery.
    let useTLS: Bool
    /// The envelope sender (MAIL FROM) and the From header. Required.
    let fromAddress: String
    /// Added to every message: cc in the Cc header and the envelope, bcc in the envelope only.
    let cc: [String]
    let bcc: [String]
    /// Per-delivery limit, within the call's deadline (30 s).
    let timeoutSeconds: Int
    /// PEM bundle that verifies the server's certificate (nil = system trust).
    let caFile: String?

    /// smtps:// (TLS from the first byte) rather than smtp:// (+ STARTTLS when useTLS).
    var implicitTLS: Bool { useTLS && port == 465 }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func optionalString(_ key: CodingKeys) throws -> String? {
            let value = try c.decodeIfPresent(String.self, forKey: key)
            return (value?.isEmpty ?? true) ? nil : value
        }
        guard let host = try optionalString(.host)?.lowercased() else { throw ConfigValueError(CodingKeys.host, "is required") }
        guard NetworkSyntax.ipAddress(host) != nil || NetworkSyntax.isDomainName(host) else {
            throw ConfigValueError(CodingKeys.host, "\"\(MailAddress.printable(host))\" is neither a DNS name nor an IP address")
        }
        self.host = host
        useTLS = try c.decode(.use_tls, default: true)
        port = try c.decode(.port, default: useTLS ? 587 : 25, in: 1...65535)
        username = try optionalString(.username)
        password = try optionalString(.password)
        if (username == nil) != (password == nil) {
            throw ConfigValueError(username == nil ? CodingKeys.username : CodingKeys.password,
                                   "is required when \(username == nil ? "password" : "username") is set")
        }
        for (key, value) in [(CodingKeys.username, username), (.password, password)] {
            if let value, value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
                throw ConfigValueError(key, "must not contain a line break")
            }
        }
        guard let from = try optionalString(.from_address) else { throw ConfigValueError(CodingKeys.from_address, "is required") }
        if let problem = MailAddress.problem(from) { throw ConfigValueError(CodingKeys.from_address, problem) }
        fromAddress = from
        func addresses(_ key: CodingKeys) throws -> [String] {
            let list: [String] = try c.decode(key, default: [])
            for (index, address) in list.enumerated() {
                if let problem = MailAddress.problem(address) { throw ConfigValueError(key, "[\(index)] \(problem)") }
            }
            return list
        }
        cc = try addresses(.cc)
        bcc = try addresses(.bcc)
        timeoutSeconds = try c.decode(.timeout_seconds, default: 30, in: 1...3600)
        caFile = try optionalString(.ca_file)
    }
}
