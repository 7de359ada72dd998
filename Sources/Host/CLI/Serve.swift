import ArgumentParser
import Logging
import NIOPosix
import ServiceLifecycle

/// `acmeeh serve`: the server, until SIGTERM or SIGINT.
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
        let metrics: ServerMetrics?
        do {
            metrics = try ServerMetrics.make(config: config)
            runtime = try await Runtime.start(config: config, logger: logger, metrics: metrics)
            acme = try await ACMEServices.start(core: runtime.core(urls: ACMEURLs(config: config)),
                                                urls: ACMEURLs(config: config), logger: Logger(label: "acmeeh.acme"))
        } catch {
            invocation.fail(error)
        }
        let lifecycle = Lifecycle()
        let background = BackgroundWorkers(core: acme.core, metrics: metrics?.workers ?? .disabled)
        let workerStates = background.states
        let health = HealthMonitor(
            probes: runtime.healthProbes(workers: { WorkerHealthProbe.report(workerStates) }),
            lifecycle: lifecycle)
        let workers = Task { await background.run() }
        let application: any Service
        do {
            application = try HTTPServer(config: config, health: health, acme: acme, logger: logger, metrics: metrics)
                .makeApplication(eventLoopGroup: eventLoops)
        } catch {
            workers.cancel()
            await runtime.close()
            invocation.fail(error)
        }

        // Services stop in reverse order: the watcher first marks the shutdown for /healthz.
        var groupConfig = ServiceGroupConfiguration(
            services: [
                .init(service: application),
                .init(service: ShutdownWatcher(lifecycle: lifecycle), successTerminationBehavior: .ignore),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfig.maximumGracefulShutdownDuration = .seconds(config.server.gracefulTimeout)
        lifecycle.markStarted()
        logger.info("acmeeh \(AcmeehVersion.string) serving \(config.server.externalURL) on \(config.server.bind):\(config.server.port)")
        do {
            try await ServiceGroup(configuration: groupConfig).run()
        } catch {
            workers.cancel()
            await runtime.close()
            invocation.fail(error)
        }
        workers.cancel()
        await runtime.close()
        logger.info("acmeeh stopped")
    }
}

/// Marks the process as shutting down as soon as a graceful shutdown begins.
struct ShutdownWatcher: Service {
    let lifecycle: Lifecycle

    func run() async throws {
        try? await gracefulShutdown()
        lifecycle.markShuttingDown()
    }
}
