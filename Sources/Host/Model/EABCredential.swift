import Foundation

/// An external account binding credential (RFC 8555 §7.3.4): a MAC key the CA handed out
/// with its key identifier, to be redeemed by a newAccount request.
struct EABCredential: Sendable, Equatable {
    var id: UUID
    var kid: String
    /// The raw MAC key (clients receive it base64url-encoded).
    var hmacKey: [UInt8]
    var label: String?
    /// The account it was last bound to.
    var accountID: UUID?
    var used: Bool
    var usedAt: Date?
    var revoked: Bool
    var createdAt: Date
    /// The admin user who created it (nil: `acmeeh eab create`, or the user was deleted).
    var createdBy: UUID? = nil
}
