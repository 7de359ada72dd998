import PluginAPI

/// What `create` hands an instance: its configuration and the host's services.
public struct CreateContext: Sendable {
    /// The configuration subtree as JSON ("{}" when empty).
    public let configJSON: String
    /// Where the config came from, e.g. "ca.internal", for messages.
    public let configPath: String
    /// Challenge kind only: the challenge type this instance serves.
    public let challengeType: String?
    /// Logging through the host.
    public let log: HostLog

    public init(configJSON: String, configPath: String, challengeType: String?, log: HostLog) {
        self.configJSON = configJSON
        self.configPath = configPath
        self.challengeType = challengeType
        self.log = log
    }

    /// Decodes the configuration strictly (unknown keys rejected, key named in errors).
    public func decodeConfig<C: StrictConfig>(_ type: C.Type) throws(PluginError) -> C {
        try C.decode(json: configJSON, path: configPath)
    }
}

/// One instance of a plugin, created by `create` and released by `destroy`.
///
/// Every method except `init` and deinit may run concurrently on several host
/// threads (header, "Threading"), hence `Sendable`.
public protocol PluginInstance: AnyObject, Sendable {
    /// Reads the configuration and prepares the instance; throw to refuse it.
    init(_ context: CreateContext) throws
    /// Checks the instance can work now. The default says healthy.
    func selfCheck(deadline: Deadline) throws
}

extension PluginInstance {
    public func selfCheck(deadline: Deadline) throws {}
}

/// A CA instance (`ACMEEH_KIND_CA`).
public protocol CAInstance: PluginInstance {
    func sign(_ request: SignRequest) throws -> SignOutcome
    /// Only called when the descriptor was built with `poll: true`.
    func poll(handle: String, deadline: Deadline) throws -> SignOutcome
    func revoke(_ request: RevokeRequest) throws
    /// Signs a CRL and returns its DER (ABI 1.1 `ca_sign_crl`). Only called when the
    /// descriptor was built with `crl: true`.
    func signCRL(_ request: CRLRequest) throws -> [UInt8]
}

extension CAInstance {
    public func poll(handle: String, deadline: Deadline) throws -> SignOutcome {
        throw PluginError.unsupported("this CA never answers PENDING")
    }

    public func signCRL(_ request: CRLRequest) throws -> [UInt8] {
        throw PluginError.unsupported("this CA does not sign CRLs")
    }
}

/// A challenge validator instance (`ACMEEH_KIND_CHALLENGE`).
public protocol ChallengeInstance: PluginInstance {
    /// Returns when the challenge is satisfied; throws otherwise.
    func validate(_ request: ChallengeRequest) throws
    /// Releases anything validate left behind. Errors are ignored by the host.
    func cleanup(_ request: ChallengeRequest)
}

extension ChallengeInstance {
    public func cleanup(_ request: ChallengeRequest) {}
}

/// `acmeeh_ca_sign_request`, copied out of the borrowed C struct.
public struct SignRequest: Sendable {
    public var csrDER: [UInt8]
    public var profile: String
    public var profileJSON: String
    /// Unix seconds; 0 = now.
    public var notBefore: Int64
    /// Unix seconds; 0 = notBefore + validityDays.
    public var notAfter: Int64
    public var validityDays: UInt32
    /// Lowercase hex chosen by the host, or nil: the plugin chooses.
    public var serialHex: String?
    public var deadline: Deadline
    /// Since 1.1. URL for the leaf's CRL Distribution Points extension (RFC 5280 §4.2.1.13),
    /// or nil: the host publishes no CRL (always nil from a 1.0 host).
    public var crlDistributionPoint: String?
    /// Since 1.1. URL for the leaf's Authority Information Access id-ad-ocsp (RFC 5280 §4.2.2.1),
    /// or nil: no OCSP responder (always nil from a 1.0 host).
    public var ocspURL: String?
    /// Since 1.1, for a CA built with `precertificate: true`. Sign an RFC 6962 precertificate:
    /// the leaf plus the critical poison extension, last (always false from a 1.0 host).
    public var precertificate: Bool
    /// Since 1.1. A TLS-encoded SignedCertificateTimestampList to embed in the leaf as its last
    /// extension (RFC 6962 §3.3), or nil.
    public var sctList: [UInt8]?

    public init(csrDER: [UInt8], profile: String = "default", profileJSON: String = "{}",
                notBefore: Int64 = 0, notAfter: Int64 = 0, validityDays: UInt32,
                serialHex: String? = nil, deadline: Deadline,
                crlDistributionPoint: String? = nil, ocspURL: String? = nil,
                precertificate: Bool = false, sctList: [UInt8]? = nil) {
        self.precertificate = precertificate
        self.sctList = sctList
        self.csrDER = csrDER
        self.profile = profile
        self.profileJSON = profileJSON
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.validityDays = validityDays
        self.serialHex = serialHex
        self.deadline = deadline
        self.crlDistributionPoint = crlDistributionPoint
        self.ocspURL = ocspURL
    }
}

/// The answer to sign or poll.
public enum SignOutcome: Sendable {
    /// Issued. `pemChain`: leaf first, then the issuers.
    case issued(pemChain: String, serialHex: String, notBefore: Int64, notAfter: Int64)
    /// Accepted; ask again with `handle` after `retryAfterSeconds`.
    case pending(handle: String, retryAfterSeconds: UInt32)
}

/// `acmeeh_ca_revoke_request`, copied out of the borrowed C struct.
public struct RevokeRequest: Sendable {
    public var serialHex: String
    public var certificateDER: [UInt8]
    /// RFC 5280 CRLReason, or nil when none was given.
    public var reason: Int32?
    public var deadline: Deadline
}

/// `acmeeh_challenge_request`, copied out of the borrowed C struct.
public struct ChallengeRequest: Sendable {
    public var challengeType: String
    /// "dns" or "ip".
    public var identifierType: String
    /// Lowercase A-label or IP text; never starts with "*.".
    public var identifierValue: String
    public var token: String?
    public var keyAuthorization: String?
    public var accountURL: String
    public var wildcard: Bool
    public var deadline: Deadline
}
