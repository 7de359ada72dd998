import COpenSSL
import Foundation

/// A CT log's public key (`ct_logging.logs[].public_key_path`, PEM SubjectPublicKeyInfo):
/// the log ID an SCT must carry and the key its signature must verify under.
struct CTLogKey: Sendable {
    let key: PublicKey
    /// SHA-256 of the DER SubjectPublicKeyInfo (RFC 6962 §3.2).
    let logID: [UInt8]

    struct Unusable: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads the PEM file; the error says what is wrong with it (not the path: the caller names the key).
    init(pemFile path: String) throws(Unusable) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Unusable(description: "cannot read \(path)")
        }
        let begin = "-----BEGIN PUBLIC KEY-----", end = "-----END PUBLIC KEY-----"
        guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex),
              let der = Data(base64Encoded: String(text[start.upperBound..<stop.lowerBound]), options: .ignoreUnknownCharacters),
              let key = PublicKey.fromSubjectPublicKeyInfo(Array(der))
        else {
            throw Unusable(description: "\(path) holds no PEM public key (\(begin))")
        }
        self.key = key
        self.logID = Digest.sha256(Array(der))
    }

    /// Whether the SCT names this log and its signature (SHA-256, the log's key type) covers `entry`.
    func verifies(_ sct: SignedCertificateTimestamp, for entry: CTEntry) -> Bool {
        guard Digest.constantTimeEqual(sct.logID, logID), sct.hashAlgorithm == SignedCertificateTimestamp.sha256 else {
            return false
        }
        return key.verifies(sct.signature, over: sct.signedData(for: entry), md: EVP_sha256())
    }
}
