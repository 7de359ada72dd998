import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// The HTTP front end: the router with the protocol-wide middleware, the health
/// endpoints and the ACME resources, bound to `server.bind`/`server.port` on
/// `server.workers` event-loop threads.
struct HTTPServer {
    let config: AppConfig
    let health: HealthMonitor
    let acme: ACMEServices
    /// The requests' logger (`acmeeh.http`): each request's context gets a copy.
    let logger: Logger
    /// Serves `metrics.path` and times every request when set, while `metricsEnabled`
    /// (`metrics.enabled`, which SIGHUP reloads) says so.
    var metrics: ServerMetrics? = nil
    var metricsEnabled: @Sendable () -> Bool = { false }
    /// Serves `ocsp.path` when set (`ocsp.enabled`).
    var ocsp: OCSPResponder? = nil
    /// Routes served beside the ACME resources (the admin API, when it shares this listener).
    var additionalRoutes: (@Sendable (Router<ACMERequestContext>) throws -> Void)? = nil
    /// Checks the bearer token of a metrics scrape (`metrics.auth_required`).
    var metricsAuthorization: (@Sendable (HTTPFields) async -> Bool)? = nil

    /// Throws when `metrics.path` is a path the server already serves.
    func makeApplication(eventLoopGroup: any EventLoopGroup) throws -> some ApplicationProtocol {
        let router = Router(context: ACMERequestContext.self)
        // Outermost, so that it sees the status of every answer, refusals and NotFound included.
        if let metrics { router.middlewares.add(HTTPMetricsMiddleware(factory: metrics.factory, isEnabled: metricsEnabled)) }
        router.middlewares.add(RequestOriginMiddleware(forwarded: ForwardedClient(config.proxy),
                                                       probePaths: ["/livez", "/readyz", "/healthz", config.metrics.path]))
        router.middlewares.add(SecurityHeadersMiddleware(
            externalURL: config.server.externalURL,
            hstsMaxAgeSeconds: config.security.hstsMaxAgeSeconds))
        addHealthRoutes(to: router)
        addACMERoutes(to: router)
        try additionalRoutes?(router)
        if let metrics { try addMetricsRoute(metrics, to: router) }
        if let crl = acme.core.crl {
            try Self.ensureFree(config.crl.path, key: "crl.path", in: router)
            CRLEndpoint(publisher: crl).register(on: router, config: config.crl)
        }
        if let ocsp {
            let path = config.ocsp.path
            if router.routes.contains(where: { [path, path + "/**"].contains($0.path.description) || $0.path.description.hasPrefix(path + "/") }) {
                throw RouteConflict(description: "ocsp.path \(path) is already served by acmeeh; choose another path")
            }
            OCSPEndpoint(responder: ocsp).register(on: router, path: path)
        }
        let idle: TimeAmount? = config.server.keepalive > 0 ? .seconds(Int64(config.server.keepalive)) : nil
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: .init(address: .hostname(config.server.bind, port: config.server.port), serverName: nil),
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger
        )
    }

    /// A listener of its own for `routes` (the admin API on `admin_api.bind`/`port`), with
    /// the same origin and security-header middleware as the ACME listener.
    func makeSeparateApplication(bind: String, port: Int, routes: @escaping @Sendable (Router<ACMERequestContext>) throws -> Void,
                                 eventLoopGroup: any EventLoopGroup) throws -> some ApplicationProtocol {
        let router = Router(context: ACMERequestContext.self)
        router.middlewares.add(RequestOriginMiddleware(forwarded: ForwardedClient(config.proxy)))
        router.middlewares.add(SecurityHeadersMiddleware(
            externalURL: config.server.externalURL, hstsMaxAgeSeconds: config.security.hstsMaxAgeSeconds))
        try routes(router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(bind, port: port), serverName: nil),
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger)
    }

    private func addHealthRoutes(to router: Router<ACMERequestContext>) {
        let health = self.health
        router.get("/livez") { _, _ in JSONResponse.make(health.liveness()) }
        router.get("/healthz") { _, _ in
            let report = await health.health()
            return JSONResponse.make(report.body, status: report.healthy ? .ok : .serviceUnavailable)
        }
        router.get("/readyz") { _, _ in
            let (ready, reason) = await health.readiness()
            return ready
                ? JSONResponse.make(["ready": true])
                : JSONResponse.make(["ready": false, "reason": reason ?? "not ready"], status: .serviceUnavailable)
        }
    }

    /// `GET {metrics.path}` (404 while metrics are disabled), refused when another route has
    /// that path.
    private func addMetricsRoute(_ metrics: ServerMetrics, to router: Router<ACMERequestContext>) throws {
        try Self.ensureFree(config.metrics.path, key: "metrics.path", in: router)
        MetricsEndpoint(metrics: metrics, database: acme.core.database, revocationBacklog: acme.core.revocationBacklog)
            .register(on: router, path: config.metrics.path, isEnabled: metricsEnabled, authorize: metricsAuthorization)
    }

    /// Refuses a configured `path` that another route already has (the router would trap).
    private static func ensureFree(_ path: String, key: String, in router: Router<ACMERequestContext>) throws {
        let route = RouterPath(path)
        if router.routes.contains(where: { $0.method == .get && $0.path.description == route.description }) {
            throw RouteConflict(description: "\(key) \(path) is already served by acmeeh; choose another path")
        }
    }

    private func addACMERoutes(to router: Router<ACMERequestContext>) {
        let urls = ACMEURLs(config: config)
        let directory = Directory(urls: urls, config: config)
        router.get(RouterPath(urls.route(urls.paths.directory))) { _, _ in
            JSONResponse.make(directory.json(), headers: [.cacheControl: "public, max-age=0, no-cache"])
        }
        // RFC 8555 §6.3: POST-as-GET as well as GET.
        acme.gateway.postAsGet(router, urls.route(urls.paths.directory)) { ACMEReply(.json(directory.json())) }
        acme.register(on: router)
    }
}

/// A configured path (`metrics.path`, `crl.path`, `ocsp.path`) that another route already serves.
struct RouteConflict: Error, CustomStringConvertible {
    let description: String
}
