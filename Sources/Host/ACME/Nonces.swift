import COpenSSL
import Foundation

/// Issues and redeems the anti-replay nonces of RFC 8555 §6.5.
///
/// A nonce carries its own proof: base64url(expiry ‖ random ‖ MAC), the MAC an HMAC-SHA256
/// (truncated to 128 bits) under a key that every instance shares through the database.
/// Issuing therefore needs no database work at all; redeeming checks MAC and expiry
/// locally, and the request's first batch then records the nonce as used (its
/// `RequestGuard`, without `ON CONFLICT`), which makes each nonce good once across all
/// instances.
struct Nonces: Sendable {
    let key: [UInt8]
    let config: NonceConfig

    static let macLength = 16
    static let expiryLength = 8

    /// A new nonce: expiry, `nonce.length` random bytes (at least 16), MAC.
    func issue() throws -> String {
        let expiry = UInt64(Date().timeIntervalSince1970) + UInt64(config.expirySeconds)
        var bytes = (0..<Self.expiryLength).map { UInt8(truncatingIfNeeded: expiry >> (8 * (7 - $0))) }
        var random = [UInt8](repeating: 0, count: max(16, config.length))
        guard RAND_bytes(&random, Int32(random.count)) == 1 else {
            throw Problem(.serverInternal, "cannot draw random bytes for a nonce")
        }
        bytes += random
        bytes += mac(bytes)
        return Base64URL.encode(bytes)
    }

    /// When `value` is a nonce this server issued that has not expired: its expiry (the
    /// used-nonce record lives that long); nil otherwise. Whether it was already used is
    /// the database's to say.
    func expiry(of value: String) -> Date? {
        // Refuse anything out of shape before decoding it.
        guard (1...256).contains(value.utf8.count), let bytes = Base64URL.decode(value),
              bytes.count >= Self.expiryLength + 16 + Self.macLength else { return nil }
        let body = Array(bytes.dropLast(Self.macLength))
        guard Digest.constantTimeEqual(mac(body), Array(bytes.suffix(Self.macLength))) else { return nil }
        let seconds = body.prefix(Self.expiryLength).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let expiry = Date(timeIntervalSince1970: TimeInterval(seconds))
        return expiry > Date() ? expiry : nil
    }

    private func mac(_ body: [UInt8]) -> [UInt8] {
        Array(Digest.hmac(.sha256, key: key, data: body).prefix(Self.macLength))
    }
}
