import PluginAPI
import PluginKit

/// The http-01 validator (RFC 8555 §8.3; IP identifiers per RFC 8738 §7).
/// This build registers and parses `challenges.http01`; validation comes later.
nonisolated(unsafe) let descriptor = PluginDescriptor.challenge(
    name: "ChallengeHTTP01", version: "0.1.0",
    description: "http-01 validator (challenges.http01); validation not implemented in this build",
    types: [ChallengeTypeInfo("http-01", identifierTypes: ACMEEH_IDENTIFIER_DNS | ACMEEH_IDENTIFIER_IP)],
    create: { createInstance(ChallengeHTTP01.self, $0, $1, $2) })

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

/// `challenges.http01`.
struct HTTP01Config: StrictConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case port, timeout_seconds, max_retries, auto_validate, max_response_bytes, blocked_networks
    }
    static let defaultBlockedNetworks = ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10"]

    /// Port to fetch from (80).
    let port: Int
    /// Per-request timeout (10 s).
    let timeoutSeconds: Int
    /// Read by the host's retry logic (3); accepted here because it lives in this subtree.
    let maxRetries: Int
    /// Read by the host (true); accepted here because it lives in this subtree.
    let autoValidate: Bool
    /// Response body cap (1 MiB).
    let maxResponseBytes: Int
    /// Networks never connected to, CIDR (loopback and link-local by default).
    let blockedNetworks: [String]

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        port = try c.decode(.port, default: 80, in: 1...65535)
        timeoutSeconds = try c.decode(.timeout_seconds, default: 10, in: 1...3600)
        maxRetries = try c.decode(.max_retries, default: 3, in: 0...1000)
        autoValidate = try c.decode(.auto_validate, default: true)
        maxResponseBytes = try c.decode(.max_response_bytes, default: 1_048_576, in: 1...(1 << 30))
        blockedNetworks = try c.decode(.blocked_networks, default: Self.defaultBlockedNetworks)
        for network in blockedNetworks where NetworkSyntax.cidr(network) == nil {
            throw ConfigValueError(CodingKeys.blocked_networks, "\"\(network)\" is not an IP network in CIDR form")
        }
    }
}

final class ChallengeHTTP01: ChallengeInstance {
    let config: HTTP01Config
    let challengeType: String

    init(_ context: CreateContext) throws {
        challengeType = context.challengeType ?? "http-01"
        guard challengeType == "http-01" else {
            throw PluginError.config("\(context.configPath): ChallengeHTTP01 serves http-01, not \(challengeType)")
        }
        config = try context.decodeConfig(HTTP01Config.self)
    }

    /// Never claims success it did not earn: validation is not written yet.
    func validate(_ request: ChallengeRequest) throws {
        throw PluginError.unsupported("\(challengeType) validation is not implemented in this build of ChallengeHTTP01")
    }
}
