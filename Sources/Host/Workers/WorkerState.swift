import Foundation
import NIOConcurrencyHelpers

/// What a background worker of this instance is doing, as `/healthz` reports it: its role,
/// when it last checked its lock and last ran, its last error, and whether its task is alive.
final class WorkerState: Sendable {
    enum Role: String, Sendable { case leader, standby }

    struct Snapshot: Sendable, Equatable {
        var name: String
        var lockID: Int
        var intervalSeconds: Int
        var enabled: Bool
        var role: Role = .standby
        /// The task runs its loop (false before it starts and after it ended).
        var running = false
        /// The loop ran and ended: the worker is dead until the process restarts.
        var ended = false
        /// The last lock check (every interval, leader or standby).
        var lastCheck: Date?
        /// The last round this instance ran as leader.
        var lastRun: Date?
        var lastError: String?
        var lastErrorAt: Date?
        let createdAt = Date()

        /// A check is overdue when no lock check happened for three intervals and 30 s
        /// (a long round delays the next check; a hung one does not clear this).
        func overdue(at now: Date) -> Bool {
            guard enabled, !ended else { return false }
            let last = lastCheck ?? createdAt
            return now.timeIntervalSince(last) > Double(3 * intervalSeconds + 30)
        }

        /// Enabled, and either dead or overdue.
        func isDegraded(at now: Date) -> Bool { enabled && (ended || overdue(at: now)) }
    }

    private let box: NIOLockedValueBox<Snapshot>

    init(name: String, lockID: Int, intervalSeconds: Int, enabled: Bool) {
        box = NIOLockedValueBox(Snapshot(name: name, lockID: lockID, intervalSeconds: intervalSeconds, enabled: enabled))
    }

    var snapshot: Snapshot { box.withLockedValue { $0 } }

    func started() { box.withLockedValue { $0.running = true } }
    func ended() { box.withLockedValue { $0.running = false; $0.ended = true; $0.role = .standby } }

    func checked(leader: Bool) {
        box.withLockedValue {
            $0.role = leader ? .leader : .standby
            $0.lastCheck = Date()
        }
    }

    func ran() { box.withLockedValue { $0.lastRun = Date() } }

    func failed(_ error: any Error) {
        box.withLockedValue {
            $0.lastError = "\(error)"
            $0.lastErrorAt = Date()
        }
    }
}
