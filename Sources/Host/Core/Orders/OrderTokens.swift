import Foundation

/// Random tokens and hashes for orders and challenges.
enum OrderTokens {
    /// RFC 8555 §8.1: a token with at least 128 bits of entropy; 32 bytes, base64url.
    static func challengeToken() -> String {
        Base64URL.encode(RandomBytes.draw(32))
    }

    /// Lowercase hex SHA-256 of the sorted "type:value" pairs: the newOrder dedup key.
    static func identifiersHash(_ identifiers: [Identifier]) -> String {
        let text = identifiers.map { "\($0.type):\($0.value)" }.sorted().joined(separator: "\n")
        return Hex.encode(Digest.sha256(Array(text.utf8)))
    }
}
