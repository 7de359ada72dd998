import COpenSSL

/// The X-Acmeeh-Signature header: "sha256=" + lowercase hex of HMAC-SHA256 (RFC 2104)
/// keyed with the configured secret over the exact request body. A receiver recomputes
/// it and compares in constant time.
enum WebhookSignature {
    static let headerName = "X-Acmeeh-Signature"

    /// The header value for `body`, or nil when OpenSSL fails.
    static func value(secret: String, body: [UInt8]) -> String? {
        let key = Array(secret.utf8)
        var mac = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBufferPointer { k in
            body.withUnsafeBufferPointer { b in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), b.baseAddress, b.count, &mac, &length)
            }
        }
        guard result != nil, length == 32 else { return nil }
        let digits = Array("0123456789abcdef")
        return "sha256=" + String(mac[0..<Int(length)].flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
    }
}
