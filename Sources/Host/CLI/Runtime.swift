import Foundation
import Logging

/// What a running acmeeh holds once started: the configuration, the database pool
/// and the loaded plugin instances. Built by `serve` and the CLI commands that need
/// the same parts, and closed by them.
final class Runtime: Sendable {
    let config: AppConfig
    let database: Database
    let plugins: PluginRegistry
    /// The CA backends (`ca.backend`, then `ca.failover`) behind their circuit breakers.
    let ca: GuardedCA
    /// One validator per entry of `challenges.enabled`, keyed by challenge type.
    let validators: [String: ChallengePluginInstance]
    /// The metrics of a serving process (`metrics.enabled`), nil otherwise.
    let metrics: ServerMetrics?
    /// Where a serving process writes its audit records (file, syslog), closed by `close()`.
    let audit: AuditSinks?
    /// `ct_logging` when enabled, its log keys read.
    let transparency: CertificateTransparency?
    /// The notification templates (`notifications.enabled` in a serving process) and the
    /// SMTP notifier that delivers them (`smtp.enabled` too).
    let notificationTemplates: NotificationTemplates?
    let mailer: NotifierPluginInstance?
    /// The lifecycle hooks of a serving process (`hooks.registered`), nil when none is loaded.
    let hooks: HookDispatcher?

    /// The bound on each plugin call made for a request (`server.timeout`).
    var pluginTimeout: Duration { .seconds(config.server.timeout) }

    private init(config: AppConfig, database: Database, plugins: PluginRegistry,
                 ca: GuardedCA, validators: [String: ChallengePluginInstance], metrics: ServerMetrics?,
                 audit: AuditSinks?, transparency: CertificateTransparency?,
                 notificationTemplates: NotificationTemplates?, mailer: NotifierPluginInstance?, hooks: HookDispatcher?) {
        self.config = config
        self.database = database
        self.plugins = plugins
        self.ca = ca
        self.validators = validators
        self.metrics = metrics
        self.audit = audit
        self.transparency = transparency
        self.notificationTemplates = notificationTemplates
        self.mailer = mailer
        self.hooks = hooks
    }

    /// Opens the database (migrating when `database.auto_setup` is true, refusing an
    /// out-of-date schema otherwise), loads the CA plugin and checks it, and loads every
    /// enabled challenge validator. Any failure stops here with a message naming the part.
    /// With `metrics`, the CA's and the validators' calls are timed into it. With
    /// `auditing` (serve), `logging.audit.file` is opened; with `notifying` (serve), the
    /// notification templates are read and the SMTP notifier loaded; with `withHooks`
    /// (serve), the notifiers of `hooks.registered` are loaded and their workers started.
    static func start(config: AppConfig, logger: Logger, withValidators: Bool = true,
                      metrics: ServerMetrics? = nil, auditing: Bool = false, notifying: Bool = false,
                      withHooks: Bool = false) async throws -> Runtime {
        var audit: AuditSinks? = nil
        if auditing {
            let auditLogger = Logger(label: "acmeeh.audit")
            do {
                audit = try AuditSinks.open(config) { auditLogger.error("\($0)") }
            } catch {
                throw CLIError("\(error)")
            }
        }
        let database = Database(config: config.database, logger: Logger(label: "acmeeh.store"))
        try await database.start()
        for migration in try await Migrator(database: database).prepareForStartup() {
            logger.info("applied migration \(migration.version) \(migration.name)")
        }

        // Hook deliveries get threads of their own, so a slow receiver never holds up a CA or a validator.
        let hookThreads = withHooks && (!config.hooks.active.isEmpty || config.auditExport.webhookURL != nil)
            ? config.hooks.maxWorkers : 0
        let plugins = PluginRegistry(threadPool: PluginThreadPool(
            numberOfThreads: max(4, config.server.workers * 4) + hookThreads)) {
            Logger(label: $0)
        }
        let directory = PluginReference.directory(configured: config.plugins.directory)
        let ca = try await loadGuardedCA(config: config, plugins: plugins, directory: directory, logger: logger,
                                         observer: metrics?.pluginObserver ?? .none)
        try await checkCA(ca, config: config, logger: logger)
        var transparency: CertificateTransparency? = nil
        if config.ctLogging.enabled {
            do {
                transparency = try CertificateTransparency(config: config.ctLogging, logger: Logger(label: "acmeeh.ct"))
            } catch {
                throw CLIError(error.description)
            }
        }

        var validators: [String: ChallengePluginInstance] = [:]
        if withValidators {
            for (index, entry) in config.challenges.enabled.enumerated() {
                let instances = try await plugins.loadChallenges(
                    entry: entry.description, configKey: "challenges.enabled[\(index)]", directory: directory,
                    configJSON: validatorConfigJSON(entry, config: config),
                    configPath: entry.configPath ?? "challenges.enabled[\(index)]")
                for instance in instances {
                    for type in instance.challengeTypes { validators[type.challengeType] = instance }
                }
            }
        }
        var templates: NotificationTemplates? = nil
        var mailer: NotifierPluginInstance? = nil
        if notifying, config.notifications.enabled {
            do {
                templates = try NotificationTemplates.load(directory: config.smtp.templatesPath)
            } catch {
                throw CLIError("smtp.templates_path: \(error)")
            }
            if config.smtp.enabled {
                mailer = try await plugins.loadNotifier(reference: "smtp", configKey: "smtp", directory: directory,
                                                        configJSON: config.smtp.pluginConfigJSON, configPath: "smtp")
            }
        }
        let hooks = withHooks ? try await loadHooks(config: config, plugins: plugins, directory: directory,
                                                    metrics: metrics, logger: logger) : nil
        return Runtime(config: config, database: database, plugins: plugins, ca: ca, validators: validators,
                       metrics: metrics, audit: audit, transparency: transparency, notificationTemplates: templates,
                       mailer: mailer, hooks: hooks)
    }

    /// Loads the notifier of every enabled `hooks.registered[i]` (its `config` as the
    /// plugin's configuration) and, with `audit_export.webhook_url`, a webhook for the
    /// audited events, and starts the delivery workers; nil without any. A plugin that
    /// cannot be loaded stops startup, naming `hooks.registered[i].notifier`.
    static func loadHooks(config: AppConfig, plugins: PluginRegistry, directory: String,
                          metrics: ServerMetrics?, logger: Logger) async throws -> HookDispatcher? {
        let hooks = config.hooks
        guard !hooks.active.isEmpty || config.auditExport.webhookURL != nil else { return nil }
        var targets: [HookTarget] = []
        for (index, hook) in hooks.active {
            let instance = try await plugins.loadNotifier(
                reference: hook.notifier, configKey: "hooks.registered[\(index)].notifier", directory: directory,
                configJSON: hook.configJSON, configPath: "hooks.registered[\(index)].config")
            targets.append(HookTarget(key: "hooks.registered[\(index)]", notifier: hook.notifier, events: hook.wantedEvents,
                                      timeout: .seconds(hook.timeoutSeconds ?? hooks.timeoutSeconds), instance: instance))
            let events = hook.events.isEmpty ? "every event" : hook.events.joined(separator: ", ")
            logger.info("hooks.registered[\(index)]: \(instance.name) (\(hook.notifier)) receives \(events)")
        }
        if let url = config.auditExport.webhookURL {
            // The reference's AuditWebhookHook: registrations, issuances and revocations.
            let json = String(decoding: try JSONSerialization.data(withJSONObject: ["url": url]), as: UTF8.self)
            let instance = try await plugins.loadNotifier(reference: "webhook", configKey: "audit_export.webhook_url",
                                                          directory: directory, configJSON: json, configPath: "audit_export")
            targets.append(HookTarget(key: "audit_export.webhook_url", notifier: "webhook",
                                      events: ["account.registration", "certificate.issuance", "certificate.revocation"],
                                      timeout: .seconds(hooks.timeoutSeconds), instance: instance))
            logger.info("audit_export.webhook_url: registrations, issuances and revocations are posted to the webhook")
        }
        let events = targets.reduce(into: Set<String>()) { $0.formUnion($1.events) }
        let dispatcher = HookDispatcher(
            targets: targets, maxWorkers: hooks.maxWorkers, maxRetries: hooks.maxRetries,
            deadLetterLog: hooks.deadLetterLog.map(HookDeadLetterLog.init(path:)),
            observer: metrics?.hookObserver(events: events) ?? .none, logger: Logger(label: "acmeeh.hooks"))
        dispatcher.start()
        return dispatcher
    }

    /// The CA must be able to sign at startup: the primary passes its self-check or, with
    /// `ca.failover`, at least one backend does. A backend that fails is reported; its
    /// breaker handles it once serving.
    static func checkCA(_ ca: GuardedCA, config: AppConfig, logger: Logger) async throws {
        if config.crl.enabled {
            for (index, backend) in ca.backends.enumerated() {
                let key = index == 0 ? "ca.backend" : "ca.failover[\(index - 1)]"
                if !backend.instance.canSignCRL {
                    throw CLIError("crl.enabled: \(key): CA plugin \(backend.instance.name) (\(backend.name)) cannot sign CRLs "
                                   + "(it has no ca_sign_crl, ABI 1.1); turn crl.enabled off or use a CA plugin that has it")
                }
                // CAExternal has ca_sign_crl, but an instance without crl_url answers UNSUPPORTED.
                if backend.name == CABackendRef.external.description, config.ca.external.crlURL.isEmpty {
                    throw CLIError("crl.enabled: \(key): CA plugin \(backend.instance.name) (\(backend.name)) cannot sign CRLs "
                                   + "without ca.external.crl_url; set it or turn crl.enabled off")
                }
            }
        }
        if config.ctLogging.enabled, config.ctLogging.submitPrecert {
            for (index, backend) in ca.backends.enumerated() where !backend.instance.signsPrecertificates {
                let key = index == 0 ? "ca.backend" : "ca.failover[\(index - 1)]"
                throw CLIError("ct_logging.submit_precert: \(key): CA plugin \(backend.instance.name) (\(backend.name)) cannot sign "
                               + "precertificates (its ca_features lack ACMEEH_CA_FEATURE_PRECERTIFICATE, ABI 1.1); "
                               + "set submit_precert to false (the issued chain is then logged after issuance) or use a CA plugin that has it")
            }
        }
        var primaryFailure: PluginError? = nil
        var healthy = 0
        for (index, backend) in ca.backends.enumerated() {
            do {
                try await backend.instance.selfCheck(timeout: .seconds(config.server.timeout))
                healthy += 1
            } catch {
                if index == 0 { primaryFailure = error }
                let key = index == 0 ? "ca.backend" : "ca.failover[\(index - 1)]"
                logger.warning("\(key): CA backend \(backend.name) failed its self-check: \(error.detail)")
            }
        }
        if let primaryFailure, healthy == 0 || ca.backends.count == 1 {
            throw CLIError("ca.backend: CA plugin \(config.ca.backend) failed its self-check: \(primaryFailure.detail)")
        }
    }

    /// Loads `ca.backend` and every `ca.failover` backend (each once, with its own config
    /// subtree), each behind a circuit breaker set by `ca.circuit_breaker_*`.
    static func loadGuardedCA(config: AppConfig, plugins: PluginRegistry, directory: String,
                              logger: Logger, observer: PluginCallObserver = .none) async throws -> GuardedCA {
        var backends: [GuardedCA.Backend] = []
        for (index, ref) in ([config.ca.backend] + config.ca.failover).enumerated() {
            let name = ref.description
            guard !backends.contains(where: { $0.name == name }) else {
                logger.warning("ca.failover[\(index - 1)]: \(name) is already a CA backend; ignored")
                continue
            }
            let instance = try await loadCA(ref, configKey: index == 0 ? "ca.backend" : "ca.failover[\(index - 1)]",
                                            config: config, plugins: plugins, directory: directory)
            // The CRL this backend's leaves point to: where CRLEndpoint serves it (same index).
            let crlURL = config.crl.enabled ? config.server.externalURL + config.crl.path(forBackendAt: backends.count) : nil
            backends.append(GuardedCA.Backend(
                name: name, instance: instance,
                breaker: CircuitBreaker(failureThreshold: config.ca.circuitBreakerFailureThreshold,
                                        recoveryTimeout: config.ca.circuitBreakerRecoveryTimeout),
                crlDistributionPoint: crlURL))
        }
        return GuardedCA(backends: backends, logger: Logger(label: "acmeeh.ca"), observer: observer,
                         ocspURL: config.ocspResponderURL)
    }

    /// Loads a CA backend with its configuration subtree: `ca.internal` for CAFile,
    /// `ca.external` for CAExternal, and the `ca` keys acmeeh does not know for `ext:` plugins.
    static func loadCA(_ backend: CABackendRef, configKey: String, config: AppConfig,
                       plugins: PluginRegistry, directory: String) async throws -> CAPluginInstance {
        let (json, path): (String, String) = switch backend {
        case .internal: (config.pluginConfigJSON(at: "ca.internal"), "ca.internal")
        case .external: (config.pluginConfigJSON(at: "ca.external"), "ca.external")
        case .plugin: (config.caPluginConfigJSON(), "ca")
        }
        return try await plugins.loadCA(backend: backend.description, configKey: configKey,
                                        directory: directory, configJSON: json, configPath: path)
    }

    /// The Core operations over this runtime's parts, with their event dispatcher (which
    /// logs every event at debug level, writes the audit trail (`logging.audit`), with
    /// metrics counts them, and queues them for the hooks).
    func core(urls: ACMEURLs) -> CoreServices {
        let events = EventDispatcher()
        EventLog.subscribe(events, logger: Logger(label: "acmeeh.events"))
        if let metrics { EventCounters.subscribe(events, metrics: metrics) }
        hooks?.subscribe(events)
        if config.logging.audit.enabled {
            if let audit { AuditTrail.subscribe(events) { audit.write($0) } }
            if audit?.file == nil { AuditTrail.subscribe(events, logger: Logger(label: "acmeeh.audit")) }
        }
        let reloadable = ReloadableSettings(config)
        var notifications: (NotificationRecorder, NotificationDelivery?)? = nil
        if let notificationTemplates {
            let recorder = NotificationRecorder(
                database: database, templates: notificationTemplates, settings: { reloadable.current.notifications },
                deliverable: mailer != nil, serverURL: config.server.externalURL, bell: WorkerBell(),
                logger: Logger(label: "acmeeh.notifications"))
            recorder.subscribe(events)
            let delivery = mailer.map {
                NotificationDelivery(database: database, notifier: $0, settings: { reloadable.current.notifications },
                                     timeoutSeconds: config.smtp.timeoutSeconds,
                                     observer: metrics.map { NotificationCounters(metrics: $0).observer } ?? .none,
                                     logger: Logger(label: "acmeeh.notifications"))
            }
            notifications = (recorder, delivery)
        }
        return CoreServices(config: config, database: database, ca: ca, validators: validators, events: events,
                            workerBell: WorkerBell(), accountURL: { urls.resource("acct", $0) },
                            maintenance: MaintenanceMode(config: config.database), reloadable: reloadable,
                            logger: Logger(label: "acmeeh.core"),
                            rateLimiter: RateLimiter(settings: { reloadable.current.rateLimits }, database: database),
                            pluginObserver: metrics?.pluginObserver ?? .none, transparency: transparency,
                            notificationRecorder: notifications?.0, notificationDelivery: notifications?.1)
    }

    /// The health probes of this runtime's parts (`crl`: the CRL publisher, when enabled).
    func healthProbes(crl publisher: CRLPublisher? = nil,
                      workers: @escaping @Sendable () -> WorkersHealth) -> HealthMonitor.Probes {
        let database = self.database, ca = self.ca, config = self.config
        return HealthMonitor.Probes(
            database: {
                let stats = database.stats
                let pool: [String: any Sendable] = ["size": stats.size, "available": stats.available, "waiting": stats.waiting,
                                                    "round_trips": database.roundTrips]
                do {
                    try await database.ping()
                    return ComponentHealth(status: .ok, fields: ["pool": pool])
                } catch {
                    return ComponentHealth(status: .error, fields: ["pool": pool, "detail": "\(error)"])
                }
            },
            caBackend: {
                do {
                    try await ca.selfCheck(timeout: .seconds(5))
                    return .ok
                } catch {
                    return .failed(.error, (error as? PluginError)?.detail ?? "\(error)")
                }
            },
            crl: publisher.map(Self.crlProbe),
            smtp: { await NetworkProbe.smtp(config.smtp) },
            dnsResolver: { await NetworkProbe.dnsResolver(config.dns) },
            workers: workers)
    }

    /// `/healthz` `crl`: ok, or stale (503) when older than twice the rebuild interval.
    private static func crlProbe(_ publisher: CRLPublisher) -> @Sendable () async -> ComponentHealth {
        return {
            let (stale, number, detail) = await publisher.health()
            var fields: [String: any Sendable] = ["stale": stale]
            if let number { fields["crl_number"] = number }
            if let detail { fields["detail"] = detail }
            return ComponentHealth(status: stale ? .stale : .ok, fields: fields)
        }
    }

    func close() async {
        await hooks?.close()
        await plugins.closeAll()
        await database.shutdown()
        await audit?.close()
    }
}

/// A validator's configuration: its `challenges.*` subtree, where an absent or empty
/// `resolvers` becomes `dns.resolvers` for every built-in type (http-01 and tls-alpn-01
/// resolve the name, dns-01 and dns-persist-01 look up its TXT records; CAA uses the same
/// resolvers). With both empty, the plugin asks the system's resolver.
func validatorConfigJSON(_ entry: ChallengeRef, config: AppConfig) -> String {
    guard let path = entry.configPath else { return "{}" }
    let subtree = config.pluginConfigJSON(at: path)
    guard !config.dns.resolvers.isEmpty,
          var object = (try? JSONSerialization.jsonObject(with: Data(subtree.utf8))) as? [String: Any],
          (object["resolvers"] as? [Any] ?? []).isEmpty
    else { return subtree }
    object["resolvers"] = config.dns.resolvers
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return subtree }
    return String(decoding: data, as: UTF8.self)
}

extension ChallengeRef {
    /// Where this challenge type's settings live in the configuration (nil for `ext:` plugins).
    var configPath: String? {
        switch self {
        case .http01: "challenges.http01"
        case .dns01: "challenges.dns01"
        case .tlsALPN01: "challenges.tlsalpn01"
        case .dnsPersist01: "challenges.dnspersist01"
        case .plugin: nil
        }
    }
}
