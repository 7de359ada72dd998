/// The `server` section: the public URL clients use and where the HTTP server listens.
///
/// `workers`, `worker_class`, `timeout`, `graceful_timeout`, `keepalive`, `max_requests` and
/// `max_requests_jitter` were gunicorn settings in the reference; they are accepted so its
/// files load unchanged.
struct ServerConfig: Sendable, Equatable {
    /// Gunicorn worker model of the reference; accepted for compatibility.
    enum WorkerClass: String, Sendable, CaseIterable {
        case sync, gthread, gevent
    }

    /// Public base URL (`https://acme.example.com`), without a trailing `/`.
    var externalURL: String
    var bind: String = "0.0.0.0"
    var port: Int = 8443
    var workers: Int = 4
    var workerClass: WorkerClass = .sync
    var timeout: Int = 30
    var gracefulTimeout: Int = 30
    var keepalive: Int = 2
    var maxRequests: Int = 0
    var maxRequestsJitter: Int = 0
}

extension ServerConfig {
    init(reading r: ConfigObjectReader) {
        self.init(externalURL: r.requiredString("external_url"))
        r.read("bind", into: &bind)
        r.read("port", into: &port, min: 1, max: 65535)
        r.read("workers", into: &workers, min: 1)
        r.read("worker_class", into: &workerClass)
        r.read("timeout", into: &timeout, min: 1)
        r.read("graceful_timeout", into: &gracefulTimeout, min: 0)
        r.read("keepalive", into: &keepalive, min: 0)
        r.read("max_requests", into: &maxRequests, min: 0)
        r.read("max_requests_jitter", into: &maxRequestsJitter, min: 0)
        r.finish()
    }
}
