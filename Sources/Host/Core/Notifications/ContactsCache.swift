import Foundation
import NIOConcurrencyHelpers

/// The accounts' contacts as the notification recorder last saw them, so a notification
/// costs no lookup: filled by the events that carry contacts (registration, update) and by
/// lookups, each entry kept `ttl` (a change made at another instance is seen after at most
/// that long). Bounded: when full it starts over.
final class ContactsCache: Sendable {
    private struct Entry {
        var contacts: [String]
        var at: ContinuousClock.Instant
    }

    private let entries = NIOLockedValueBox<[UUID: Entry]>([:])
    let ttl: Duration
    let capacity: Int

    init(ttl: Duration = .seconds(60), capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The contacts of `account` if seen within `ttl`.
    func contacts(of account: UUID) -> [String]? {
        let now = ContinuousClock.now
        return entries.withLockedValue { entries in
            guard let entry = entries[account], now - entry.at < ttl else { return nil }
            return entry.contacts
        }
    }

    func remember(_ contacts: [String], of account: UUID) {
        let entry = Entry(contacts: contacts, at: .now)
        entries.withLockedValue { entries in
            if entries.count >= capacity, entries[account] == nil { entries.removeAll(keepingCapacity: true) }
            entries[account] = entry
        }
    }
}
