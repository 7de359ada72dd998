import COpenSSL
import Foundation

/// Issues and redeems the anti-replay nonces of RFC 8555 §6.5, stored in PostgreSQL so
/// that every instance behind a load balancer accepts every other's.
struct Nonces: Sendable {
    let database: Database
    let config: NonceConfig

    /// A new nonce: `nonce.length` random bytes, base64url.
    func issue() async throws -> String {
        var bytes = [UInt8](repeating: 0, count: max(16, config.length))
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else {
            throw Problem(.serverInternal, "cannot draw random bytes for a nonce")
        }
        let value = Base64URL.encode(bytes)
        let expires = Date().addingTimeInterval(TimeInterval(config.expirySeconds))
        try await database.withConnection { try $0.insertNonce(value, expiresAt: expires) }
        return value
    }

    /// Redeems a nonce once; false when it is unknown, used or expired.
    func redeem(_ value: String) async throws -> Bool {
        // Nonces are base64url of at most a few dozen bytes: refuse anything else unseen.
        guard (1...128).contains(value.utf8.count), Base64URL.decode(value) != nil else { return false }
        return try await database.withConnection { try $0.consumeNonce(value) }
    }
}
