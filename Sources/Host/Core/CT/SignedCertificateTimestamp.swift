import Foundation

/// A Signed Certificate Timestamp (RFC 6962 §3.2): a log's promise to include an entry,
/// as `add-chain` / `add-pre-chain` return it in JSON (§4.1) and as the TLS-encoded
/// struct that the SCT list extension carries (§3.3).
struct SignedCertificateTimestamp: Sendable, Equatable {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// 0 = v1, the only version RFC 6962 defines.
    var version: UInt8
    /// SHA-256 of the log's DER SubjectPublicKeyInfo.
    var logID: [UInt8]
    /// Milliseconds since the epoch.
    var timestamp: UInt64
    var extensions: [UInt8]
    /// The DigitallySigned struct (RFC 5246 §4.7): hash and signature algorithm, signature.
    var hashAlgorithm: UInt8
    var signatureAlgorithm: UInt8
    var signature: [UInt8]

    /// TLS HashAlgorithm sha256, the only hash RFC 6962 §2.1.4 allows.
    static let sha256: UInt8 = 4

    /// Decodes a log's JSON answer; every field must be present and well-formed.
    init(json: [UInt8]) throws(Malformed) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw Malformed(description: "the answer is not a JSON object")
        }
        guard let version = object["sct_version"] as? Int, version == 0 else {
            throw Malformed(description: "sct_version is not 0 (v1)")
        }
        guard let id = (object["id"] as? String).flatMap({ Data(base64Encoded: $0) }), id.count == 32 else {
            throw Malformed(description: "id is not a base64 32-byte log ID")
        }
        guard let timestamp = object["timestamp"] as? NSNumber, timestamp.int64Value >= 0 else {
            throw Malformed(description: "timestamp is missing or negative")
        }
        guard let extensions = (object["extensions"] as? String).flatMap({ Data(base64Encoded: $0) }), extensions.count <= 0xFFFF else {
            throw Malformed(description: "extensions is not base64")
        }
        guard let signed = (object["signature"] as? String).flatMap({ Data(base64Encoded: $0) }).map(Array.init),
              signed.count >= 4, Int(signed[2]) << 8 | Int(signed[3]) == signed.count - 4
        else {
            throw Malformed(description: "signature is not a base64 DigitallySigned struct")
        }
        self.version = 0
        self.logID = Array(id)
        self.timestamp = timestamp.uint64Value
        self.extensions = Array(extensions)
        self.hashAlgorithm = signed[0]
        self.signatureAlgorithm = signed[1]
        self.signature = Array(signed[4...])
    }

    /// The struct as TLS encodes it (§3.2), one item of the SCT list.
    var encoded: [UInt8] {
        var out: [UInt8] = [version] + logID
        out.appendBigEndian(timestamp, bytes: 8)
        out.appendBigEndian(UInt64(extensions.count), bytes: 2)
        out += extensions
        out += [hashAlgorithm, signatureAlgorithm]
        out.appendBigEndian(UInt64(signature.count), bytes: 2)
        return out + signature
    }

    /// What the log signed (§3.2 `digitally-signed struct`) for `entry`.
    func signedData(for entry: CTEntry) -> [UInt8] {
        var out: [UInt8] = [version, 0 /* certificate_timestamp */]
        out.appendBigEndian(timestamp, bytes: 8)
        out += entry.signedEntry
        out.appendBigEndian(UInt64(extensions.count), bytes: 2)
        return out + extensions
    }

    /// A SignedCertificateTimestampList (§3.3): each SCT length-prefixed, the whole list too.
    static func list(_ scts: [SignedCertificateTimestamp]) -> [UInt8] {
        var items: [UInt8] = []
        for sct in scts {
            let encoded = sct.encoded
            items.appendBigEndian(UInt64(encoded.count), bytes: 2)
            items += encoded
        }
        var out: [UInt8] = []
        out.appendBigEndian(UInt64(items.count), bytes: 2)
        return out + items
    }
}

extension Array where Element == UInt8 {
    /// Appends the low `bytes` bytes of `value`, most significant first (TLS's uintN).
    mutating func appendBigEndian(_ value: UInt64, bytes: Int) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
