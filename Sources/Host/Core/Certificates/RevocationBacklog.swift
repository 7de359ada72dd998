import Foundation
import NIOConcurrencyHelpers

/// The revocation outbox as this instance last counted it (each round of
/// `RevocationForwarder`): what `/healthz` and `acmeeh_revocations_pending` show, without
/// a query of their own.
final class RevocationBacklog: Sendable {
    private let state = NIOLockedValueBox<(count: RevocationBacklogCount, at: Date?)>((.empty, nil))

    init() {}

    func update(_ count: RevocationBacklogCount, at date: Date = Date()) {
        state.withLockedValue { $0 = (count, date) }
    }

    /// The last count and when it was taken (nil: not counted yet).
    var current: (count: RevocationBacklogCount, at: Date?) { state.withLockedValue { $0 } }
}
