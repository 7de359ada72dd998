import PluginAPI
import PluginKit

/// The dns-01 (RFC 8555 §8.4) and dns-persist-01 validator; the create params'
/// `challenge_type` says which one an instance serves and which config it reads.
/// This build registers and parses the configs; validation comes later.
nonisolated(unsafe) let descriptor = PluginDescriptor.challenge(
    name: "ChallengeDNS01", version: "0.1.0",
    description: "dns-01 (challenges.dns01) and dns-persist-01 (challenges.dnspersist01) validator; validation not implemented in this build",
    types: [
        ChallengeTypeInfo("dns-01", identifierTypes: ACMEEH_IDENTIFIER_DNS),
        // dns-persist-01 has no token: the TXT record names the account instead.
        ChallengeTypeInfo("dns-persist-01", identifierTypes: ACMEEH_IDENTIFIER_DNS, usesToken: false),
    ],
    create: { createInstance(ChallengeDNS01.self, $0, $1, $2) })

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

final class ChallengeDNS01: ChallengeInstance {
    enum Settings {
        case dns01(DNS01Config)
        case dnsPersist01(DNSPersist01Config)
    }
    let settings: Settings
    let challengeType: String

    init(_ context: CreateContext) throws {
        switch context.challengeType {
        case "dns-01":
            settings = .dns01(try context.decodeConfig(DNS01Config.self))
        case "dns-persist-01":
            settings = .dnsPersist01(try context.decodeConfig(DNSPersist01Config.self))
        case let other:
            throw PluginError.config("\(context.configPath): ChallengeDNS01 serves dns-01 and dns-persist-01, not \(other ?? "an unnamed challenge type")")
        }
        challengeType = context.challengeType ?? ""
    }

    /// Never claims success it did not earn: validation is not written yet.
    func validate(_ request: ChallengeRequest) throws {
        throw PluginError.unsupported("\(challengeType) validation is not implemented in this build of ChallengeDNS01")
    }
}
