import Foundation

/// The login lockout: 5 failed logins of one username from one client IP within 300 s lock
/// that pair out for 15 minutes (429). The failures live in PostgreSQL, so every instance
/// sees them and a restart forgets nothing.
struct AdminLoginThrottle: Sendable {
    static let maxFailures = 5
    static let windowSeconds = 300
    static let lockoutSeconds = 900

    let database: Database

    /// Seconds until the pair may try again; nil when it is not locked out.
    func lockedFor(ip: String, username: String) async throws -> Int? {
        let (failures, now) = try await database.withConnection { connection in
            (try connection.adminLoginFailures(ip: ip, username: username,
                                                withinSeconds: Self.windowSeconds + Self.lockoutSeconds),
             try connection.databaseNow())
        }
        return Self.remainingLockout(failuresNewestFirst: failures, now: now)
    }

    /// The lockout that `failures` cause at `now`: a lockout starts at the failure that
    /// completes `maxFailures` within `windowSeconds` and lasts `lockoutSeconds`.
    static func remainingLockout(failuresNewestFirst failures: [Date], now: Date) -> Int? {
        guard failures.count >= maxFailures else { return nil }
        for index in 0...(failures.count - maxFailures) {
            let completing = failures[index], first = failures[index + maxFailures - 1]
            guard completing.timeIntervalSince(first) <= TimeInterval(windowSeconds) else { continue }
            let remaining = completing.addingTimeInterval(TimeInterval(lockoutSeconds)).timeIntervalSince(now)
            if remaining > 0 { return Int(remaining.rounded(.up)) }
        }
        return nil
    }

    func recordFailure(ip: String, username: String) async throws {
        try await database.withConnection {
            try $0.recordAdminLoginFailure(ip: ip, username: username, keepSeconds: Self.windowSeconds + Self.lockoutSeconds)
        }
    }

    func recordSuccess(ip: String, username: String) async throws {
        try await database.withConnection { try $0.clearAdminLoginFailures(ip: ip, username: username) }
    }
}
