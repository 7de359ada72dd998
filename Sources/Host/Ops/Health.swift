import Foundation

/// The state of one subsystem as `/healthz` reports it.
struct ComponentHealth: Sendable {
    enum Status: String, Sendable { case ok, error, degraded, stale, unreachable, disabled }
    var status: Status
    /// Extra fields of the component's JSON object (pool sizes, an error detail).
    var fields: [String: any Sendable] = [:]

    static let ok = ComponentHealth(status: .ok)
    static func failed(_ status: Status, _ detail: String) -> ComponentHealth {
        ComponentHealth(status: status, fields: ["detail": detail])
    }
}

/// Computes the liveness, readiness and health reports (`/livez`, `/readyz`, `/healthz`,
/// as the reference ACMEEH 2.1 serves them) from real probes of each subsystem.
struct HealthMonitor: Sendable {
    struct Probes: Sendable {
        var database: @Sendable () async -> ComponentHealth
        var caBackend: @Sendable () async -> ComponentHealth
        /// nil while CRL publishing is disabled.
        var crl: (@Sendable () async -> ComponentHealth)?
        var smtp: @Sendable () async -> ComponentHealth
        var dnsResolver: @Sendable () async -> ComponentHealth
        /// The background workers of this process.
        var workers: @Sendable () -> WorkersHealth
        /// Whether maintenance mode is on (shown; it does not make the instance unhealthy).
        var maintenance: @Sendable () -> Bool = { false }
        /// nil while the OCSP responder is disabled.
        var ocsp: (@Sendable () async -> ComponentHealth)? = nil
        /// The revocations not yet confirmed by their CA backend (shown; they do not make
        /// the instance unhealthy: the database holds them and the forwarder retries them).
        var revocations: (@Sendable () -> ComponentHealth)? = nil
    }

    let probes: Probes
    let lifecycle: Lifecycle

    /// `GET /livez`: the process serves HTTP; nothing else is checked.
    func liveness() -> [String: any Sendable] {
        ["alive": true, "version": AcmeehVersion.string]
    }

    /// `GET /healthz`: every subsystem; unhealthy when the database, the CA backend, an
    /// enabled CRL or an enabled OCSP responder (without a valid certificate) is unhealthy, a background worker is dead or overdue, or the server is
    /// shutting down.
    func health() async -> (healthy: Bool, body: [String: any Sendable]) {
        async let database = probes.database()
        async let ca = probes.caBackend()
        async let smtp = probes.smtp()
        async let dns = probes.dnsResolver()
        let crl: ComponentHealth? = if let probe = probes.crl { await probe() } else { nil }
        let ocsp: ComponentHealth? = if let probe = probes.ocsp { await probe() } else { nil }
        let (db, caResult, smtpResult, dnsResult) = await (database, ca, smtp, dns)
        let workers = probes.workers()

        var checks: [String: any Sendable] = [
            "database": Self.render(db),
            "ca_backend": Self.render(caResult),
            "workers": workers.running,
            "worker_states": workers.states.mapValues(Self.render),
            "smtp": Self.render(smtpResult),
            "dns_resolver": Self.render(dnsResult),
        ]
        checks["crl"] = crl.map(Self.render) ?? ["status": "disabled"]
        checks["ocsp"] = ocsp.map(Self.render) ?? ["status": "disabled"]
        if let revocations = probes.revocations { checks["revocations"] = Self.render(revocations()) }
        let shuttingDown = lifecycle.isShuttingDown
        let healthy = db.status == .ok && caResult.status == .ok
            && (crl.map { $0.status == .ok } ?? true) && (ocsp.map { $0.status == .ok } ?? true)
            && !workers.degraded && !shuttingDown
        return (healthy, [
            "status": healthy ? "ok" : "degraded",
            "checks": checks,
            "shutting_down": shuttingDown,
            "maintenance_mode": probes.maintenance(),
        ])
    }

    /// `GET /readyz`: ready once startup finished, while the database answers, the CA
    /// backend passes its self-check and no shutdown is under way.
    func readiness() async -> (ready: Bool, reason: String?) {
        if lifecycle.isShuttingDown { return (false, "shutting down") }
        if !lifecycle.isStarted { return (false, "starting") }
        let db = await probes.database()
        if db.status != .ok { return (false, "database unavailable") }
        let ca = await probes.caBackend()
        if ca.status != .ok { return (false, "CA backend unavailable") }
        return (true, nil)
    }

    private static func render(_ health: ComponentHealth) -> [String: any Sendable] {
        var object = health.fields
        object["status"] = health.status.rawValue
        return object
    }
}
