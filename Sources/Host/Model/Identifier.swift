/// An ACME identifier (RFC 8555 §9.7.7; RFC 8738 for `ip`).
struct Identifier: Sendable, Hashable, Codable {
    var type: String
    var value: String
}
