import Foundation

/// Renders the revocation outbox for `/healthz` `checks.revocations`, from the forwarder's
/// last count: `ok` when every revocation reached its CA backend, `degraded` while some
/// wait for a retry (`pending`, `oldest_pending_seconds`) or a backend refused some for good
/// (`failed`). Informational: it never makes `/healthz` answer 503.
enum RevocationBacklogProbe {
    static func render(_ backlog: RevocationBacklog, now: Date = Date()) -> ComponentHealth {
        let (count, at) = backlog.current
        guard let at else { return ComponentHealth(status: .ok, fields: ["detail": "not counted yet"]) }
        var fields: [String: any Sendable] = [
            "pending": count.pending, "failed": count.failed, "counted_at": at.formatted(Date.ISO8601FormatStyle()),
        ]
        if let oldest = count.oldestPending { fields["oldest_pending_seconds"] = max(0, Int(now.timeIntervalSince(oldest))) }
        return ComponentHealth(status: count.pending == 0 && count.failed == 0 ? .ok : .degraded, fields: fields)
    }
}
