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

extension Problem {
    /// The problem document as JSON text, for `orders.error` / `challenges.error`.
    var documentJSON: String {
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// Random tokens and hashes for orders and challenges.
enum OrderTokens {
    /// RFC 8555 §8.1: a token with at least 128 bits of entropy; 32 bytes, base64url.
    static func challengeToken() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        return Base64URL.encode(bytes)
    }

    /// Lowercase hex SHA-256 of the sorted "type:value" pairs: the newOrder dedup key.
    static func identifiersHash(_ identifiers: [Identifier]) -> String {
        let text = identifiers.map { "\($0.type):\($0.value)" }.sorted().joined(separator: "\n")
        return PostgresHex.encode(Digest.sha256(Array(text.utf8)))
    }
}
