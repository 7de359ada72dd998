import PluginAPI
import PluginKit

/// The tls-alpn-01 validator (RFC 8737; IP identifiers per RFC 8738 §6).
/// This build registers and parses `challenges.tlsalpn01`; validation comes later.
nonisolated(unsafe) let descriptor = PluginDescriptor.challenge(
    name: "ChallengeTLSALPN", version: "0.1.0",
    description: "tls-alpn-01 validator (challenges.tlsalpn01); validation not implemented in this build",
    types: [ChallengeTypeInfo("tls-alpn-01", identifierTypes: ACMEEH_IDENTIFIER_DNS | ACMEEH_IDENTIFIER_IP)],
    create: { createInstance(ChallengeTLSALPN.self, $0, $1, $2) })

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

/// `challenges.tlsalpn01`.
struct TLSALPN01Config: StrictConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case port, timeout_seconds, max_retries, auto_validate
    }
    /// Port to connect to (443).
    let port: Int
    /// Connect + handshake timeout (10 s).
    let timeoutSeconds: Int
    /// Read by the host (3); accepted here because it lives in this subtree.
    let maxRetries: Int
    /// Read by the host (true); accepted here because it lives in this subtree.
    let autoValidate: Bool

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        port = try c.decode(.port, default: 443, in: 1...65535)
        timeoutSeconds = try c.decode(.timeout_seconds, default: 10, in: 1...3600)
        maxRetries = try c.decode(.max_retries, default: 3, in: 0...1000)
        autoValidate = try c.decode(.auto_validate, default: true)
    }
}

final class ChallengeTLSALPN: ChallengeInstance {
    let config: TLSALPN01Config
    let challengeType: String

    init(_ context: CreateContext) throws {
        challengeType = context.challengeType ?? "tls-alpn-01"
        guard challengeType == "tls-alpn-01" else {
            throw PluginError.config("\(context.configPath): ChallengeTLSALPN serves tls-alpn-01, not \(challengeType)")
        }
        config = try context.decodeConfig(TLSALPN01Config.self)
    }

    /// Never claims success it did not earn: validation is not written yet.
    func validate(_ request: ChallengeRequest) throws {
        throw PluginError.unsupported("\(challengeType) validation is not implemented in this build of ChallengeTLSALPN")
    }
}
