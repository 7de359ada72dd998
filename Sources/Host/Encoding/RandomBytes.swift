import COpenSSL
import Foundation

/// Random bytes and ids from OpenSSL's DRBG: no system call per draw. (Foundation's
/// `RandomBytes.uuid()` opens /dev/urandom on Linux and `UInt8.random` makes one getrandom call per
/// byte: ~40 system calls per issuance flow before this.)
enum RandomBytes {
    /// `count` cryptographically strong bytes; falls back to the system generator in the
    /// unlikely case the DRBG refuses.
    static func draw(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        if RAND_bytes(&bytes, Int32(count)) != 1 {
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = generator.next() }
        }
        return bytes
    }

    /// A version 4 (random) UUID, RFC 9562 §5.4.
    static func uuid() -> UUID {
        var b = draw(16)
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                           b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}
