import Foundation

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
        return Hex.encode(Digest.sha256(Array(text.utf8)))
    }
}
