import Foundation

/// An ACME account (RFC 8555 §7.1.2) as stored.
struct Account: Sendable, Equatable {
    enum Status: String, Sendable { case valid, deactivated, revoked }

    var id: UUID
    /// The account key as canonical JWK JSON (RFC 7638 members).
    var jwk: String
    var thumbprint: String
    var status: Status
    var contacts: [String]
    var termsOfServiceAgreed: Bool
    var eabKID: String?
    var createdAt: Date
}
