import Foundation
import HummingbirdBcrypt
import NIOPosix

/// Admin passwords: generated at random, stored only as bcrypt hashes, hashed and checked
/// on a thread pool (bcrypt is slow on purpose; it must not hold an event loop).
enum AdminPasswords {
    /// bcrypt's cost: 2^11 rounds (about 0.1 s on one core).
    static let cost: UInt8 = 11
    private static let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
    /// Hash checked when the username is unknown, so that a miss takes as long as a wrong password.
    private static let decoy = Bcrypt.hash(Base64URL.encode(RandomBytes.draw(18)), cost: cost)

    /// A random password of `length` characters from an alphabet without look-alikes.
    static func generate(length: Int) -> String {
        // Rejection sampling keeps every character equally likely.
        let limit = UInt8(256 - 256 % alphabet.count)
        var result = ""
        while result.count < length {
            for byte in RandomBytes.draw(length * 2) where byte < limit && result.count < length {
                result.append(alphabet[Int(byte) % alphabet.count])
            }
        }
        return result
    }

    static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (unknown user) a decoy is checked and false returned.
    static func verify(_ password: String, hash: String?) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive {
            guard let hash else {
                _ = Bcrypt.verify(password, hash: decoy)
                return false
            }
            return Bcrypt.verify(password, hash: hash)
        }
    }
}
