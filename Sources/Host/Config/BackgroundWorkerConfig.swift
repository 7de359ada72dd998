/// `challenges.background_worker`: the worker that validates deferred challenges and
/// releases stale locks.
struct BackgroundWorkerConfig: Sendable, Equatable {
    /// Read for compatibility only: the worker always runs (ConfigKeyCatalog warns when false).
    var enabled: Bool = false
    var pollSeconds: Int = 10
    /// A challenge locked for longer than this is released for another attempt.
    var staleSeconds: Int = 300
}

extension BackgroundWorkerConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("poll_seconds", into: &pollSeconds, min: 1)
        r.read("stale_seconds", into: &staleSeconds, min: 1)
        r.finish()
    }
}
