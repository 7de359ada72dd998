import Foundation
import NIOConcurrencyHelpers

/// The accounts that signed recently, by id, so that a `kid`-signed request is verified
/// without a database round trip. An entry may be stale (another instance rotated the key
/// or deactivated the account): the request's batch opens with a guard that re-checks the
/// key and the status in PostgreSQL, and a failed guard evicts the entry. A full cache
/// drops an arbitrary entry; the bound holds the accounts active at one time.
final class AccountCache: Sendable {
    private let entries = NIOLockedValueBox<[UUID: Account]>([:])
    let capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    func account(_ id: UUID) -> Account? { entries.withLockedValue { $0[id] } }

    func remember(_ account: Account) {
        entries.withLockedValue { entries in
            if entries[account.id] == nil, entries.count >= capacity, let any = entries.indices.first {
                entries.remove(at: any)
            }
            entries[account.id] = account
        }
    }

    func forget(_ id: UUID) { _ = entries.withLockedValue { $0.removeValue(forKey: id) } }
}
