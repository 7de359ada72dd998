import Metrics
import Prometheus

/// The metrics of one serving process: a private Prometheus registry
/// and the swift-metrics factory that writes to it. Metrics are made through swift-metrics
/// (`Counter`, `Timer`, `Gauge`) with this factory, so nothing depends on the global
/// `MetricsSystem`; `/metrics` renders the registry. docs/metrics.md lists every metric.
final class ServerMetrics: Sendable {
    let factory: any MetricsFactory
    private let registry: PrometheusCollectorRegistry
    /// When this process started serving (`acmeeh_uptime_seconds`).
    let started = ContinuousClock.now
    /// The counters the background workers bump.
    let workers: WorkerMetrics

    /// The metrics for `config`, made whether or not `metrics.enabled` is on, so that a
    /// SIGHUP can switch them on (counting is a few atomic increments; the HTTP timing and
    /// the endpoint follow the switch). Refuses a path that is not absolute.
    static func make(config: AppConfig) throws -> ServerMetrics {
        let metrics = config.metrics
        guard metrics.path.hasPrefix("/"), metrics.path.count > 1 else {
            throw MetricsSetupError("metrics.path must be an absolute path such as /metrics, not \"\(metrics.path)\"")
        }
        return ServerMetrics(config: config)
    }

    private init(config: AppConfig) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = MetricBuckets.byName
        self.registry = registry
        self.factory = factory
        workers = WorkerMetrics(factory: factory)
        Metrics.Gauge(label: "acmeeh_config", dimensions: ConfigInfo.labels(config), factory: factory).record(1)
    }

    func counter(_ name: String, _ dimensions: [(String, String)] = []) -> Metrics.Counter {
        Metrics.Counter(label: name, dimensions: dimensions, factory: factory)
    }

    func timer(_ name: String, _ dimensions: [(String, String)] = []) -> Metrics.Timer {
        Metrics.Timer(label: name, dimensions: dimensions, factory: factory)
    }

    func gauge(_ name: String, _ dimensions: [(String, String)] = []) -> Metrics.Gauge {
        Metrics.Gauge(label: name, dimensions: dimensions, factory: factory)
    }

    /// The registry in the Prometheus text exposition format 0.0.4.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}

/// A metrics setting the server refuses to start with.
struct MetricsSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
