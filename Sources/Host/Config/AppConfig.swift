/// The whole acmeeh configuration, typed and checked, as `ConfigLoader` produces it.
///
/// The sections and keys are those of the reference (ACMEEH 2.1), so its files load
/// unchanged, plus `plugins` (ours). `document` keeps the substituted file, so a
/// plugin can be handed its own settings as JSON.
struct AppConfig: Sendable {
    var server: ServerConfig
    var proxy = ProxyConfig()
    var security = SecurityConfig()
    var acme = AcmeConfig()
    var api = ApiConfig()
    var challenges = ChallengesConfig()
    var ca = CAConfig()
    var dns = DnsConfig()
    var email = EmailConfig()
    var account = AccountConfig()
    var smtp = SmtpConfig()
    var logging = LoggingConfig()
    var database: DatabaseConfig
    var notifications = NotificationsConfig()
    var hooks = HooksConfig()
    var nonce = NonceConfig()
    var order = OrderConfig()
    var tos = TosConfig()
    var crl = CrlConfig()
    var ocsp = OcspConfig()
    var metrics = MetricsConfig()
    var ctLogging = CTLoggingConfig()
    var auditRetention = AuditRetentionConfig()
    var adminAPI = AdminAPIConfig()
    var ari = AriConfig()
    var auditExport = AuditExportConfig()
    var retention = RetentionConfig()
    var quotas = QuotasConfig()
    var plugins = PluginsConfig()
    /// The file after `${VAR}` substitution.
    var document: ConfigNode
    /// Keys that load but do less than asked (`ConfigKeyPolicy`), for the startup log.
    var warnings: [ConfigWarning] = []

    /// The mapping at `keyPath` (`"ca"`, `"ca.internal"`, `"challenges.http01"`) as compact
    /// JSON text, with scalars typed as YAML types them after substitution (a plain
    /// `${PIN}` holding `1234` becomes the number 1234; write `'${PIN}'` to keep a string);
    /// `{}` when there is no mapping there.
    func pluginConfigJSON(at keyPath: String) -> String {
        guard let node = document.node(at: keyPath), case .mapping = node else { return "{}" }
        return node.jsonText
    }

    /// The configuration of an `ext:` CA plugin: the `ca` keys acmeeh itself does not
    /// read (`ca.pluginKeys`), as a JSON object.
    func caPluginConfigJSON() -> String {
        guard case .mapping(let entries, let line)? = document.node(at: "ca") else { return "{}" }
        let own = Set(ca.pluginKeys)
        return ConfigNode.mapping(entries.filter { own.contains($0.key) }, line: line).jsonText
    }
}

extension AppConfig {
    init(reading r: ConfigObjectReader, document: ConfigNode) {
        self.init(server: ServerConfig(reading: r.object("server")),
                  database: DatabaseConfig(reading: r.object("database")),
                  document: document)
        proxy = ProxyConfig(reading: r.object("proxy"))
        security = SecurityConfig(reading: r.object("security"))
        acme = AcmeConfig(reading: r.object("acme"))
        api = ApiConfig(reading: r.object("api"))
        challenges = ChallengesConfig(reading: r.object("challenges"))
        ca = CAConfig(reading: r.object("ca"))
        dns = DnsConfig(reading: r.object("dns"))
        email = EmailConfig(reading: r.object("email"))
        account = AccountConfig(reading: r.object("account"))
        smtp = SmtpConfig(reading: r.object("smtp"))
        logging = LoggingConfig(reading: r.object("logging"))
        notifications = NotificationsConfig(reading: r.object("notifications"))
        hooks = HooksConfig(reading: r.object("hooks"))
        nonce = NonceConfig(reading: r.object("nonce"))
        order = OrderConfig(reading: r.object("order"))
        tos = TosConfig(reading: r.object("tos"))
        crl = CrlConfig(reading: r.object("crl"))
        ocsp = OcspConfig(reading: r.object("ocsp"))
        metrics = MetricsConfig(reading: r.object("metrics"))
        ctLogging = CTLoggingConfig(reading: r.object("ct_logging"))
        auditRetention = AuditRetentionConfig(reading: r.object("audit_retention"))
        adminAPI = AdminAPIConfig(reading: r.object("admin_api"))
        ari = AriConfig(reading: r.object("ari"))
        auditExport = AuditExportConfig(reading: r.object("audit_export"))
        retention = RetentionConfig(reading: r.object("retention"))
        quotas = QuotasConfig(reading: r.object("quotas"))
        plugins = PluginsConfig(reading: r.object("plugins"))
        r.finish(allowComment: true)  // top-level `_comment` may hold anything
    }
}

/// A configuration holds secrets (the database and SMTP passwords, the external CA's
/// credentials): printing one, as a service description in a debug line does, names the
/// server only, never the values.
extension AppConfig: CustomStringConvertible, CustomDebugStringConvertible {
    var description: String { "AppConfig(\(server.externalURL))" }
    var debugDescription: String { description }
}
