import Dispatch

/// One worker's claim to leadership: a PostgreSQL session of its own (never a pooled
/// connection) that holds a session-level advisory lock. The lock lives as long as the
/// session, so when the leader's process dies PostgreSQL frees it and a standby's next
/// `confirm()` takes it. libpq blocks, so the session runs on its own serial queue.
final class LeaderSession: @unchecked Sendable {
    let key: Int
    private let config: DatabaseConfig
    private let queue: DispatchQueue
    /// Touched only on `queue`.
    private var connection: Connection?

    init(key: Int, config: DatabaseConfig) {
        self.key = key
        self.config = config
        self.queue = DispatchQueue(label: "acmeeh.leader-\(key)")
    }

    /// Whether this instance leads now: keeps or takes the lock, reconnecting when the
    /// session was lost (which also lost the lock). Throws when PostgreSQL is unreachable.
    func confirm() async throws -> Bool {
        try await onQueue { session in
            if let connection = session.connection, connection.isBroken {
                connection.close()
                session.connection = nil
            }
            let connection = try session.connection ?? Connection(config: session.config)
            session.connection = connection
            do {
                return try connection.holdOrTakeAdvisoryLock(session.key)
            } catch {
                connection.close()
                session.connection = nil
                throw error
            }
        }
    }

    /// Frees the lock and ends the session, so that another instance takes over at once.
    func resign() async {
        _ = try? await onQueue { session in
            if let connection = session.connection {
                _ = try? connection.releaseAdvisoryLock(session.key)
                connection.close()
            }
            session.connection = nil
        }
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable (LeaderSession) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(self) }) }
        }
    }
}
