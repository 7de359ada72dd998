import COpenSSL

/// The hashes and MACs the JWS layer needs (JWK thumbprints, EAB's HMAC), from OpenSSL.
enum Digest {
    /// A hash function of the SHA-2 family, as named by the JWA algorithms.
    enum Hash: Sendable {
        case sha256, sha384, sha512

        /// The output length in bytes.
        var size: Int {
            switch self {
            case .sha256: 32
            case .sha384: 48
            case .sha512: 64
            }
        }

        /// OpenSSL's EVP_MD (static, never freed).
        var md: OpaquePointer {
            switch self {
            case .sha256: EVP_sha256()
            case .sha384: EVP_sha384()
            case .sha512: EVP_sha512()
            }
        }
    }

    static func sha256(_ data: [UInt8]) -> [UInt8] {
        hash(.sha256, data)
    }

    static func hash(_ hash: Hash, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: hash.size)
        var length: UInt32 = 0
        let ok = data.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, hash.md, nil)
            }
        }
        precondition(ok == 1 && Int(length) == hash.size, "EVP_Digest failed")
        return out
    }

    /// HMAC (RFC 2104) of `data` under `key`.
    static func hmac(_ hash: Hash, key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: hash.size)
        var length: UInt32 = 0
        // A zero-length key must still pass a non-NULL pointer to HMAC().
        let keyBytes = key.isEmpty ? [UInt8(0)] : key
        let result = keyBytes.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { o in
                    HMAC(hash.md, k.baseAddress, Int32(key.count), d.baseAddress, d.count, o.baseAddress, &length)
                }
            }
        }
        precondition(result != nil && Int(length) == hash.size, "HMAC failed")
        return out
    }

    /// Compares in time that depends only on the lengths (CRYPTO_memcmp).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0
            }
        }
    }
}
