import Foundation

/// Rules that involve more than one key (the reference's "cross-field errors"), run
/// after every section has been read. Each problem names the key to change.
struct ConfigCrossChecks {
    let config: AppConfig
    let diagnostics: ConfigDiagnostics

    func run() {
        checkServer()
        checkCA()
        checkChallenges()
        checkAccountsAndAdmin()
        checkLimits()
        checkDelivery()
    }

    private func fail(_ path: String, _ message: String) {
        diagnostics.add(path: path, line: config.document.keyLine(at: path), message)
    }

    private func checkServer() {
        let url = config.server.externalURL
        guard !url.isEmpty else { return }  // already reported as missing or empty
        let scheme = URLComponents(string: url)?.scheme?.lowercased()
        if scheme != "http" && scheme != "https" || (URLComponents(string: url)?.host ?? "").isEmpty {
            fail("server.external_url", "\"\(url)\" must be an absolute http:// or https:// URL")
        } else if url.hasSuffix("/") {
            fail("server.external_url", "\"\(url)\" must not end with \"/\"")
        }
        if config.proxy.enabled, (config.document.node(at: "proxy.trusted_proxies")?.count ?? 0) == 0 {
            fail("proxy.trusted_proxies", "proxy.enabled is true but no trusted proxies are listed")
        }
        for (key, name) in [("forwarded_for_header", config.proxy.forwardedForHeader),
                            ("forwarded_proto_header", config.proxy.forwardedProtoHeader)] where !HTTPToken.isToken(name) {
            fail("proxy.\(key)", "\"\(name)\" is not an HTTP header name")
        }
    }

    private func checkCA() {
        let ca = config.ca
        if ca.defaultValidityDays > ca.maxValidityDays {
            fail("ca.default_validity_days",
                 "\(ca.defaultValidityDays) is greater than ca.max_validity_days (\(ca.maxValidityDays))")
        }
        for (name, profile) in ca.profiles.sorted(by: { $0.key < $1.key }) {
            if let days = profile.validityDays, days > (profile.maxValidityDays ?? ca.maxValidityDays) {
                fail("ca.profiles.\(name).validity_days",
                     "\(days) is greater than the profile's maximum validity (\(profile.maxValidityDays ?? ca.maxValidityDays))")
            }
        }
        // A refused `ca.backend` has already been reported; do not check the default's keys.
        let backendRefused = diagnostics.problems.contains { $0.path == "ca.backend" }
        let backends = (backendRefused ? [] : [ca.backend]) + ca.failover
        if backends.contains(.internal) {
            if ca.internal.rootCertPath.isEmpty {
                fail("ca.internal.root_cert_path", "required by the internal CA backend")
            }
            if ca.internal.rootKeyPath.isEmpty {
                fail("ca.internal.root_key_path", "required by the internal CA backend")
            }
        }
        if backends.contains(.external), ca.external.signURL.isEmpty {
            fail("ca.external.sign_url", "required by the external CA backend")
        }
    }

    private func checkChallenges() {
        let c = config.challenges
        if c.enabled.contains(.dnsPersist01), c.dnspersist01.issuerDomainNames.isEmpty {
            fail("challenges.dnspersist01.issuer_domain_names",
                 "dns-persist-01 is enabled but no issuer domain names are configured")
        }
        if c.autoAccept, config.ca.backend == .internal, !diagnostics.problems.contains(where: { $0.path == "ca.backend" }), !config.security.identifierPolicy.enforceAccountAllowlist {
            fail("challenges.auto_accept", "auto_accept with the internal CA requires "
                 + "security.identifier_policy.enforce_account_allowlist: true")
        }
        if c.backoffBaseSeconds > c.backoffMaxSeconds {
            fail("challenges.backoff_base_seconds",
                 "\(c.backoffBaseSeconds) is greater than challenges.backoff_max_seconds (\(c.backoffMaxSeconds))")
        }
    }

    private func checkAccountsAndAdmin() {
        if config.tos.requireAgreement, (config.tos.url ?? "").isEmpty {
            fail("tos.url", "tos.require_agreement is true but no terms-of-service URL is set")
        }
        // acme.eab_required needs no admin API: `acmeeh eab create` issues credentials.
        let admin = config.adminAPI
        guard admin.enabled else { return }
        if admin.maxPageSize < admin.defaultPageSize {
            fail("admin_api.default_page_size", "\(admin.defaultPageSize) is greater than admin_api.max_page_size (\(admin.maxPageSize))")
        }
        if let port = admin.port, port == config.server.port {
            fail("admin_api.port", "\(port) is also server.port; leave admin_api.port unset to share that listener")
        }
        if admin.initialAdminEmail.isEmpty {
            fail("admin_api.initial_admin_email", "required when the admin API is enabled")
        }
        if admin.tokenSecret.count < 16 {
            fail("admin_api.token_secret", "must be at least 16 characters when the admin API is enabled "
                 + "(found \(admin.tokenSecret.count))")
        }
        if !admin.basePath.hasPrefix("/") || admin.basePath.hasSuffix("/") || admin.basePath.count < 2 {
            fail("admin_api.base_path", "must be an absolute path without a trailing slash, such as /api (found \"\(admin.basePath)\")")
        }
        if admin.basePath == config.api.basePath {
            fail("admin_api.base_path", "\"\(admin.basePath)\" is also api.base_path; the admin API needs its own prefix")
        }
    }

    private func checkLimits() {
        if config.nonce.length < 16 {
            fail("nonce.length", "must be at least 16 (found \(config.nonce.length))")
        }
        let security = config.security
        if security.minRSAKeySize < 2048 {
            fail("security.min_rsa_key_size", "must be at least 2048 (found \(security.minRSAKeySize))")
        } else if security.minRSAKeySize > security.maxRSAKeySize {
            fail("security.min_rsa_key_size",
                 "\(security.minRSAKeySize) is greater than security.max_rsa_key_size (\(security.maxRSAKeySize))")
        }
        let db = config.database
        if db.minConnections > db.maxConnections {
            fail("database.min_connections",
                 "\(db.minConnections) is greater than database.max_connections (\(db.maxConnections))")
        }
    }

    private func checkDelivery() {
        if config.smtp.enabled {
            if config.smtp.host.isEmpty { fail("smtp.host", "required when smtp.enabled is true") }
            if config.smtp.fromAddress.isEmpty { fail("smtp.from_address", "required when smtp.enabled is true") }
        }
        if config.ctLogging.enabled, (config.document.node(at: "ct_logging.logs")?.count ?? 0) == 0 {
            fail("ct_logging.logs", "ct_logging.enabled is true but no CT logs are listed")
        }
        for (index, log) in config.ctLogging.logs.enumerated() {
            let scheme = log.url.prefix { $0 != ":" }.lowercased()
            if !log.url.isEmpty, (scheme != "http" && scheme != "https") || !log.url.contains("://") {
                fail("ct_logging.logs[\(index)].url", "\"\(log.url)\" is not an http or https URL")
            }
        }
    }
}

extension ConfigNode {
    /// Number of elements of a list (0 for anything else).
    var count: Int {
        if case .sequence(let items, _) = self { return items.count }
        return 0
    }

    /// The line of the deepest key of `keyPath` present in the document (1 if none is).
    func keyLine(at keyPath: String) -> Int {
        var node: ConfigNode = self
        var line = 1
        for part in keyPath.split(separator: ".") {
            guard case .mapping(let entries, _) = node, let entry = entries.first(where: { $0.key == part }) else { break }
            line = entry.line
            node = entry.value
        }
        return line
    }
}
