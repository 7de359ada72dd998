import Foundation

/// Renders the background workers' states for `/healthz`: a disabled worker is
/// `disabled`; an enabled one is `ok`, or `degraded` when its task ended or its lock
/// check is overdue (see `WorkerState.Snapshot.overdue`).
enum WorkerHealthProbe {
    static func report(_ states: [WorkerState], now: Date = Date()) -> WorkersHealth {
        var report = WorkersHealth(running: [:], states: [:])
        for snapshot in states.map(\.snapshot) {
            report.running[snapshot.name] = snapshot.enabled && snapshot.running
            report.states[snapshot.name] = render(snapshot, now: now)
        }
        return report
    }

    static func render(_ s: WorkerState.Snapshot, now: Date) -> ComponentHealth {
        var fields: [String: any Sendable] = ["lock_id": s.lockID]
        guard s.enabled else { return ComponentHealth(status: .disabled, fields: fields) }
        let dates = Date.ISO8601FormatStyle()
        fields["role"] = s.role.rawValue
        fields["interval_seconds"] = s.intervalSeconds
        if let lastCheck = s.lastCheck { fields["last_check"] = lastCheck.formatted(dates) }
        if let lastRun = s.lastRun { fields["last_run"] = lastRun.formatted(dates) }
        if let lastError = s.lastError { fields["last_error"] = lastError }
        if let at = s.lastErrorAt { fields["last_error_at"] = at.formatted(dates) }
        if s.ended {
            fields["detail"] = "the worker's task ended"
        } else if s.overdue(at: now) {
            fields["detail"] = "no lock check for over \(3 * s.intervalSeconds + 30) s"
        }
        return ComponentHealth(status: s.isDegraded(at: now) ? .degraded : .ok, fields: fields)
    }
}
