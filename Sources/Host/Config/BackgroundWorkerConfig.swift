/// `challenges.background_worker`: the worker that validates deferred challenges and
/// retries, and releases stale locks (one leader among the instances, advisory lock 712003).
struct BackgroundWorkerConfig: Sendable, Equatable {
    /// false: this instance never runs the challenge worker (another instance must, for
    /// `auto_validate: false` and retries). The reference's default is false, which leaves
    /// deferred challenges processing for ever; acmeeh's is true.
    var enabled: Bool = true
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
