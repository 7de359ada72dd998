import Foundation

/// An order (RFC 8555 §7.1.3) as stored.
struct Order: Sendable, Equatable {
    /// RFC 8555 §7.1.6 order states.
    enum Status: String, Sendable { case pending, ready, processing, valid, invalid }

    var id: UUID
    var accountID: UUID
    var status: Status
    /// As requested, normalised (lowercase A-labels, `*.` kept for wildcards).
    var identifiers: [Identifier]
    var expires: Date
    var notBefore: Date?
    var notAfter: Date?
    var profile: String?
    /// RFC 9773 §5 certID of the certificate this order replaces.
    var replaces: String?
    /// The problem document (JSON text) of an invalid order.
    var errorJSON: String?
    var certificateID: UUID?
    var authorizationIDs: [UUID]
    var updatedAt: Date
}

/// An authorization (RFC 8555 §7.1.4) as stored; `identifier.value` is the base name
/// (no `*.`), `wildcard` says whether it was created for a wildcard.
struct Authorization: Sendable, Equatable {
    /// RFC 8555 §7.1.6 authorization states.
    enum Status: String, Sendable { case pending, valid, invalid, deactivated, expired, revoked }

    var id: UUID
    var accountID: UUID
    var identifier: Identifier
    var wildcard: Bool
    var status: Status
    var expires: Date
}

/// A challenge (RFC 8555 §7.1.5, §8) as stored.
struct Challenge: Sendable, Equatable {
    /// RFC 8555 §7.1.6 challenge states.
    enum Status: String, Sendable { case pending, processing, valid, invalid }

    var id: UUID
    var authorizationID: UUID
    var type: String
    var token: String?
    var status: Status
    var errorJSON: String?
    var validatedAt: Date?
    var retryCount: Int
    var nextRetryAt: Date?
}

/// An issued certificate as the order resources need it.
struct IssuedCertificate: Sendable, Equatable {
    var id: UUID
    var accountID: UUID
    var orderID: UUID?
    var serial: String
    var pemChain: String
    var notBefore: Date
    var notAfter: Date
    var revokedAt: Date?
}
