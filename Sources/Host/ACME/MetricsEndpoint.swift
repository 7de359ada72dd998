import Hummingbird
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// `GET {metrics.path}`: refreshes the values read at scrape time — uptime, the database
/// pool gauges, `acmeeh_db_round_trips_total` (the pool's own count, carried into the
/// counter as the difference since the last scrape) and the revocation outbox gauges (the
/// revocation forwarder's last count) — and renders the registry.
struct MetricsEndpoint: Sendable {
    let metrics: ServerMetrics
    let database: Database
    private let uptime: Gauge
    private let pool: [(gauge: Gauge, read: Swift.KeyPath<Database.Stats, Int> & Sendable)]
    private let roundTrips: Counter
    private let countedRoundTrips = NIOLockedValueBox(0)
    private let revocationBacklog: RevocationBacklog?
    private let revocationsPending: Gauge
    private let revocationsFailed: Gauge

    init(metrics: ServerMetrics, database: Database, revocationBacklog: RevocationBacklog? = nil) {
        self.metrics = metrics
        self.database = database
        self.revocationBacklog = revocationBacklog
        revocationsPending = metrics.gauge("acmeeh_revocations_pending")
        revocationsFailed = metrics.gauge("acmeeh_revocations_failed")
        uptime = metrics.gauge("acmeeh_uptime_seconds")
        pool = [
            (metrics.gauge("acmeeh_db_pool_connections"), \.size),
            (metrics.gauge("acmeeh_db_pool_idle_connections"), \.available),
            (metrics.gauge("acmeeh_db_pool_in_use_connections"), \.inUse),
            (metrics.gauge("acmeeh_db_pool_waiting_checkouts"), \.waiting),
            (metrics.gauge("acmeeh_db_pool_max_connections"), \.maxConnections),
        ]
        roundTrips = metrics.counter("acmeeh_db_round_trips_total")
    }

    /// Serves the scrape at `path` while `isEnabled()`; answers 404 otherwise, as for a path
    /// the server does not serve.
    /// With `authorize` (`metrics.auth_required`), a scrape without an admin bearer token
    /// that `authorize` accepts gets 401.
    func register<Context: RequestContext>(on router: Router<Context>, path: String,
                                           isEnabled: @escaping @Sendable () -> Bool,
                                           authorize: (@Sendable (HTTPFields) async -> Bool)? = nil) {
        router.get(RouterPath(path)) { request, _ in
            guard isEnabled() else { throw HTTPError(.notFound) }
            if let authorize, !(await authorize(request.headers)) {
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: #"Bearer realm="acmeeh-admin""#,
                                                                 .contentType: "text/plain; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: "an admin bearer token is required\n")))
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: scrape())))
        }
    }

    /// The exposition text, with the scrape-time values brought up to date.
    func scrape() -> [UInt8] {
        uptime.record((ContinuousClock.now - metrics.started) / .seconds(1))
        let stats = database.stats
        for (gauge, read) in pool { gauge.record(stats[keyPath: read]) }
        if let count = revocationBacklog?.current.count {
            revocationsPending.record(count.pending)
            revocationsFailed.record(count.failed)
        }
        countedRoundTrips.withLockedValue { counted in
            let total = database.roundTrips
            if total > counted { roundTrips.increment(by: total - counted) }
            counted = max(counted, total)
        }
        return metrics.exposition()
    }
}
