import COpenSSL

/// Checking a JWS signature (RFC 7515 §5.2) with OpenSSL: ECDSA over raw r‖s
/// (RFC 7518 §3.4), RSASSA-PKCS1-v1_5 (§3.3), Ed25519 (RFC 8037 §3.1), HMAC (§3.2).
extension FlattenedJWS {
    /// Whether the signature verifies under `key` for the header's `alg`. False, never a
    /// crash, for any hostile input: wrong lengths, a key that does not fit the
    /// algorithm, a MAC algorithm.
    func verify(key: JWK) -> Bool {
        SignatureVerifier.verify(header.alg, key: key, signingInput: signingInput, signature: signature)
    }

    /// Whether an HMAC JWS (EAB) verifies under `key`, compared in constant time.
    func verifyMAC(key: [UInt8]) -> Bool {
        guard header.alg.isMAC, let hash = header.alg.hash, signature.count == hash.size else { return false }
        return Digest.constantTimeEqual(Digest.hmac(hash, key: key, data: signingInput), signature)
    }
}

/// The public-key signature checks behind `FlattenedJWS.verify(key:)`.
enum SignatureVerifier {
    static func verify(_ alg: JWSAlgorithm, key: JWK, signingInput: [UInt8], signature: [UInt8]) -> Bool {
        switch (alg, key.keyType) {
        case (.es256, .ec(let curve)), (.es384, .ec(let curve)), (.es512, .ec(let curve)):
            // RFC 7518 §3.4: r and s, each exactly the coordinate size, concatenated.
            guard curve == alg.curve, signature.count == 2 * curve.coordinateSize else { return false }
            let half = curve.coordinateSize
            let der = DER.sequence(DER.unsignedInteger(signature[..<half]), DER.unsignedInteger(signature[half...]))
            return key.publicKey.verifies(der, over: signingInput, md: alg.hash?.md)
        case (.rs256, .rsa(let bits, _)), (.rs384, .rsa(let bits, _)), (.rs512, .rsa(let bits, _)):
            // RFC 8017 §8.2.2: the signature is exactly as long as the modulus.
            guard signature.count == (bits + 7) / 8 else { return false }
            return key.publicKey.verifies(signature, over: signingInput, md: alg.hash?.md)
        case (.edDSA, .ed25519):
            guard signature.count == 64 else { return false }
            return key.publicKey.verifies(signature, over: signingInput, md: nil)
        default:
            return false
        }
    }
}
