import Foundation

/// An admin bearer token: `base64url(claims JSON) "." base64url(HMAC-SHA256(token_secret, first part))`.
/// The claims name the user, the role at issue and the issue time (milliseconds); the token
/// expires `token_expiry_seconds` after issue. The MAC is checked in constant time before
/// any claim is read.
struct AdminToken: Sendable, Equatable {
    let userID: UUID
    let username: String
    let role: AdminUser.Role
    /// Milliseconds since the Unix epoch.
    let issuedAtMillis: Int64
    /// Random, so two tokens issued in the same millisecond differ.
    let nonce: String

    var issuedAt: Date { Date(timeIntervalSince1970: Double(issuedAtMillis) / 1000) }

    init(user: AdminUser, now: Date = Date()) {
        userID = user.id
        username = user.username
        role = user.role
        issuedAtMillis = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        nonce = Base64URL.encode(RandomBytes.draw(12))
    }

    private init(userID: UUID, username: String, role: AdminUser.Role, issuedAtMillis: Int64, nonce: String) {
        self.userID = userID
        self.username = username
        self.role = role
        self.issuedAtMillis = issuedAtMillis
        self.nonce = nonce
    }

    /// The signed token text.
    func signed(secret: String) -> String {
        let claims: [String: Any] = ["uid": userID.uuidString.lowercased(), "usr": username, "role": role.rawValue,
                                     "iat": issuedAtMillis, "jti": nonce]
        let payload = Base64URL.encode(JSONResponse.bytes(claims))
        return payload + "." + Base64URL.encode(Self.mac(payload, secret: secret))
    }

    /// Why a presented token is refused.
    enum Refusal: Error, Equatable {
        case malformed, badSignature, expired
    }

    /// The token's claims when its MAC verifies and it has not expired.
    static func verify(_ text: String, secret: String, lifetimeSeconds: Int, now: Date = Date()) throws(Refusal) -> AdminToken {
        guard text.utf8.count <= 2048 else { throw .malformed }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Base64URL.decode(parts[1]) else { throw .malformed }
        guard Digest.constantTimeEqual(mac, Self.mac(String(parts[0]), secret: secret)) else { throw .badSignature }
        guard let json = Base64URL.decode(parts[0]),
              let claims = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let uid = (claims["uid"] as? String).flatMap(UUID.init(uuidString:)),
              let username = claims["usr"] as? String,
              let role = (claims["role"] as? String).flatMap(AdminUser.Role.init(rawValue:)),
              let iat = (claims["iat"] as? NSNumber)?.int64Value,
              let nonce = claims["jti"] as? String
        else { throw .malformed }
        let token = AdminToken(userID: uid, username: username, role: role, issuedAtMillis: iat, nonce: nonce)
        let age = now.timeIntervalSince1970 - Double(iat) / 1000
        guard age < Double(lifetimeSeconds), age > -60 else { throw .expired }
        return token
    }

    /// What the revocation list stores: the SHA-256 of the whole token text.
    static func digest(_ text: String) -> [UInt8] { Digest.sha256(Array(text.utf8)) }

    private static func mac(_ payload: String, secret: String) -> [UInt8] {
        Digest.hmac(.sha256, key: Array(secret.utf8), data: Array(payload.utf8))
    }
}
