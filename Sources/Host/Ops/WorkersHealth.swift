/// The background workers as `/healthz` reports them: `checks.workers` keeps the guide's
/// shape (each worker's name → whether it runs in this process), and
/// `checks.worker_states` adds each one's role, lock, last run and last error.
struct WorkersHealth: Sendable {
    /// Worker name → enabled here and its task alive.
    var running: [String: Bool]
    /// Worker name → its state object (`status`, `role`, `lock_id`, `last_run`, …).
    var states: [String: ComponentHealth]

    /// A dead worker or one whose round is overdue degrades the server.
    var degraded: Bool { states.values.contains { $0.status == .degraded } }
}
