import Foundation
import NIOConcurrencyHelpers

/// What one ACME request's changes stand on (RFC 8555 §6.2, §6.5, §7.3.6): its nonce,
/// redeemed once, and — for a `kid`-signed request — the account its JWS was verified
/// against, still valid with the same key. Store turns it into the statements that open
/// the request's first batch, so that a replayed nonce, a rotated key or a deactivated
/// account aborts the batch and nothing of the request is committed. It is taken once:
/// by that batch, or, when the request makes none, by the gateway at its end.
final class RequestGuard: Sendable {
    let nonce: String
    let nonceExpiry: Date
    /// The signer's account and key thumbprint (nil for a `jwk`-signed request).
    let account: (id: UUID, thumbprint: String)?
    private let taken = NIOLockedValueBox(false)
    private let charges = NIOLockedValueBox<[RateLimitCharge]>([])

    init(nonce: String, nonceExpiry: Date, account: (id: UUID, thumbprint: String)?) {
        self.nonce = nonce
        self.nonceExpiry = nonceExpiry
        self.account = account
    }

    /// True for the one caller that takes it.
    func take() -> Bool {
        taken.withLockedValue { taken in
            defer { taken = true }
            return !taken
        }
    }

    var isTaken: Bool { taken.withLockedValue { $0 } }

    /// Adds a rate-limit counter to the statements of the first batch; false when that batch
    /// has already been sent.
    func charge(_ charge: RateLimitCharge) -> Bool {
        taken.withLockedValue { taken in
            guard !taken else { return false }
            charges.withLockedValue { $0.append(charge) }
            return true
        }
    }

    /// The counters the first batch increments.
    var rateLimitCharges: [RateLimitCharge] { charges.withLockedValue { $0 } }
}
