import ArgumentParser
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle

/// `acmeeh serve`: the server, until SIGTERM or SIGINT (SIGHUP reloads the configuration).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the server (the default command).")

    @OptionGroup var globals: GlobalOptions

    func run() async throws {
        guard let invocation = Invocation.start(globals) else { return }
        let config = invocation.config
        let logger = Logger(label: "acmeeh")
        let eventLoops = EventLoops.takeOver(workers: config.server.workers)
        for warning in config.warnings { logger.warning("\(warning)") }

        let runtime: Runtime
        let acme: ACMEServices
        let metrics: ServerMetrics
        do {
            metrics = try ServerMetrics.make(config: config)
            runtime = try await Runtime.start(config: config, logger: logger, metrics: metrics, auditing: true,
                                              notifying: true, withHooks: true)
            acme = try await ACMEServices.start(core: runtime.core(urls: ACMEURLs(config: config)),
                                                urls: ACMEURLs(config: config), logger: Logger(label: "acmeeh.acme"))
        } catch {
            invocation.fail(error)
        }
        let core = acme.core
        do {
            try await core.maintenance.refresh()
        } catch {
            invocation.fail(CLIError("cannot read maintenance mode: \(error)"))
        }
        // OCSP: each instance has the CA issue its own responder certificate before it listens.
        let ocsp = core.makeOCSPResponder()
        if let ocsp {
            do {
                try await ocsp.start()
            } catch {
                invocation.fail(CLIError("ocsp.enabled: ca.backend \(config.ca.backend) cannot issue the OCSP responder certificate: \(error)"))
            }
        }
        var admin: AdminAPI? = nil
        if config.adminAPI.enabled {
            let api = AdminAPI(config: config.adminAPI, core: core, logger: Logger(label: "acmeeh.admin"))
            do {
                if let password = try await api.users.bootstrap() {
                    // Shown once, on stderr only: never logged, never stored.
                    FileHandle.standardError.write(Data("""
                        acmeeh: the admin API had no users; created "admin" (\(config.adminAPI.initialAdminEmail)) \
                        with the password \(password)
                        It is shown only now.

                        """.utf8))
                }
            } catch {
                invocation.fail(CLIError("admin_api: cannot create the first admin user: \(error)"))
            }
            admin = api
        }
        let lifecycle = Lifecycle()
        let workersOfThisInstance = BackgroundWorkers(core: core, metrics: metrics.workers)
        let workerStates = workersOfThisInstance.states
        var probes = runtime.healthProbes(crl: core.crl, workers: { WorkerHealthProbe.report(workerStates) })
        probes.maintenance = { core.maintenance.isOn }
        if let ocsp { probes.ocsp = Self.ocspProbe(ocsp) }
        probes.revocations = { [backlog = core.revocationBacklog] in RevocationBacklogProbe.render(backlog) }
        let health = HealthMonitor(probes: probes, lifecycle: lifecycle)
        let background = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await workersOfThisInstance.run() }
                group.addTask { await core.maintenance.run(logger: Logger(label: "acmeeh.maintenance")) }
                if let ocsp { group.addTask { await ocsp.run() } }
            }
        }
        let shutdown = GracefulShutdown(runtime: runtime, maintenance: core.maintenance, background: background, logger: logger)
        let application: any Service
        var adminApplication: (any Service)? = nil
        do {
            var server = HTTPServer(config: config, health: health, acme: acme, logger: Logger(label: "acmeeh.http"),
                                    metrics: metrics, metricsEnabled: { core.reloadable.metricsEnabled }, ocsp: ocsp)
            if config.metrics.authRequired, admin == nil {
                // No admin API, so no token can exist: refuse every scrape rather than serve it unauthenticated.
                logger.warning("metrics.auth_required is true but admin_api is off: every scrape of \(config.metrics.path) is refused (401)")
                server.metricsAuthorization = { _ in false }
            }
            if let admin {
                if config.metrics.authRequired { server.metricsAuthorization = { await admin.authorizeMetrics($0) } }
                if let port = config.adminAPI.port {
                    adminApplication = try server.makeSeparateApplication(
                        bind: config.adminAPI.bind, port: port, routes: { try admin.register(on: $0) }, eventLoopGroup: eventLoops)
                } else {
                    server.additionalRoutes = { try admin.register(on: $0) }
                }
            }
            application = try server.makeApplication(eventLoopGroup: eventLoops)
        } catch {
            background.cancel()
            await runtime.close()
            invocation.fail(error)
        }
        let reloader = ConfigReloader(path: globals.config ?? "", started: config, reloadable: core.reloadable,
                                      forcedLevel: globals.debug || globals.dev ? .debug : nil,
                                      logger: Logger(label: "acmeeh.config"))

        // Services stop in reverse order: the watcher first marks the shutdown for /healthz.
        var groupConfig = ServiceGroupConfiguration(
            services: [
                .init(service: application),
            ] + (adminApplication.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? []) + [
                .init(service: reloader, successTerminationBehavior: .ignore),
                .init(service: ShutdownWatcher(lifecycle: lifecycle, shutdown: shutdown),
                      successTerminationBehavior: .ignore),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfig.maximumGracefulShutdownDuration = shutdown.gracefulTimeout
        lifecycle.markStarted()
        logger.info("acmeeh \(AcmeehVersion.string) serving \(config.server.externalURL) on \(config.server.bind):\(config.server.port)")
        var failure: (any Error)? = nil
        do {
            try await ServiceGroup(configuration: groupConfig).run()
        } catch {
            failure = error
        }
        await shutdown.finish()
        if let failure { invocation.fail(failure) }
        logger.info("acmeeh stopped")
    }

    /// `/healthz` `ocsp`: ok with the responder certificate in use, error without a valid one.
    private static func ocspProbe(_ responder: OCSPResponder) -> @Sendable () async -> ComponentHealth {
        return {
            guard let current = await responder.health() else {
                return .failed(.error, "no valid OCSP responder certificate: requests get tryLater")
            }
            return ComponentHealth(status: .ok, fields: ["responder_serial": current.serial,
                                                         "responder_not_after": current.notAfter.ISO8601Format()])
        }
    }
}

/// Marks the process as shutting down as soon as a graceful shutdown begins, and returns
/// this instance's processing challenges to pending once in-flight requests had
/// `server.graceful_timeout` to finish (a request still validating then loses its claim).
struct ShutdownWatcher: Service {
    let lifecycle: Lifecycle
    let shutdown: GracefulShutdown

    func run() async throws {
        try? await gracefulShutdown()
        lifecycle.markShuttingDown()
        let shutdown = self.shutdown
        Task {
            try? await Task.sleep(for: shutdown.gracefulTimeout)
            await shutdown.drainChallenges()
        }
    }
}
