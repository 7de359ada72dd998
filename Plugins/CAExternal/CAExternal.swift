import PluginAPI
import PluginKit

/// A CA behind an HTTPS signing API (Vault/EJBCA-style): `ca.external`.
/// This build registers and parses the config; signing comes later, so
/// sign and self_check fail (a host never starts on a CA that cannot sign).
nonisolated(unsafe) let descriptor = PluginDescriptor.ca(
    name: "CAExternal", version: "0.1.0",
    description: "External CA over an HTTPS signing API (ca.external); signing not implemented in this build",
    create: { createInstance(CAExternal.self, $0, $1, $2) })

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

final class CAExternal: CAInstance {
    let config: CAExternalConfig
    let log: HostLog

    init(_ context: CreateContext) throws {
        config = try context.decodeConfig(CAExternalConfig.self)
        log = context.log
        if config.signURL.lowercased().hasPrefix("http://") {
            context.log.warning("\(context.configPath).sign_url uses plain http: CSRs and credentials travel unencrypted")
        }
    }

    func sign(_ request: SignRequest) throws -> SignOutcome {
        throw PluginError.unsupported("certificate signing is not implemented in this build of CAExternal")
    }

    /// The host has recorded the revocation; without a revoke_url that is all there is to do.
    func revoke(_ request: RevokeRequest) throws {
        guard config.revokeURL != nil else {
            log.info("revocation of serial \(request.serialHex): no revoke_url, recorded by the host only")
            return
        }
        throw PluginError.unsupported("revocation through revoke_url is not implemented in this build of CAExternal")
    }

    func selfCheck(deadline: Deadline) throws {
        throw PluginError.unsupported("certificate signing is not implemented in this build of CAExternal")
    }
}
