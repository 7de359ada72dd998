import Foundation
import XCTest

@testable import Host

final class ConfigTests: XCTestCase {
    // MARK: - Helpers

    /// The smallest configuration that loads (the internal CA needs its two paths).
    static let minimal = """
        server:
          external_url: https://acme.example.com
        database:
          database: acmeeh
          user: acmeeh
        ca:
          internal:
            root_cert_path: /ca/root.pem
            root_key_path: /ca/root-key.pem

        """

    private func load(_ yaml: String, env: [String: String] = [:]) throws -> AppConfig {
        try ConfigLoader.load(yaml: yaml, source: "test.yaml", environment: env)
    }

    /// The problems loading `yaml` produces; fails the test if it loads.
    private func problems(_ yaml: String, env: [String: String] = [:],
                          file: StaticString = #filePath, line: UInt = #line) -> [ConfigProblem] {
        do {
            _ = try load(yaml, env: env)
            XCTFail("expected the configuration to be refused", file: file, line: line)
        } catch let error as ConfigError {
            return error.problems
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return []
    }

    /// The problem at `path`; fails the test if there is none.
    private func problem(_ path: String, in list: [ConfigProblem],
                         file: StaticString = #filePath, line: UInt = #line) -> ConfigProblem? {
        let found = list.first { $0.path == path }
        if found == nil {
            XCTFail("no problem at \(path); got:\n\(list.map(\.description).joined(separator: "\n"))", file: file, line: line)
        }
        return found
    }

    /// 1-based line of the first line of `yaml` that contains `needle`.
    private func line(of needle: String, in yaml: String) -> Int {
        let lines = yaml.components(separatedBy: "\n")
        return (lines.firstIndex { $0.contains(needle) } ?? -1) + 1
    }

    // MARK: - Defaults

    func testMinimalConfigHasReferenceDefaults() throws {
        let c = try load(Self.minimal)
        XCTAssertEqual(c.server.externalURL, "https://acme.example.com")
        XCTAssertEqual(c.server.bind, "0.0.0.0")
        XCTAssertEqual(c.server.port, 8443)
        XCTAssertEqual(c.server.workers, 4)
        XCTAssertEqual(c.server.workerClass, .sync)
        XCTAssertEqual(c.server.maxRequests, 0)
        XCTAssertFalse(c.proxy.enabled)
        XCTAssertEqual(c.proxy.forwardedForHeader, "X-Forwarded-For")
        XCTAssertEqual(c.security.allowedAlgorithms, [.es256, .rs256])
        XCTAssertEqual(c.security.minRSAKeySize, 2048)
        XCTAssertEqual(c.security.maxRSAKeySize, 8192)
        XCTAssertEqual(c.security.allowedECCurves, [.p256, .p384])
        XCTAssertEqual(c.security.maxRequestBodyBytes, 65536)
        XCTAssertEqual(c.security.allowedCSRSignatureAlgorithms.count, 6)
        XCTAssertEqual(c.security.hstsMaxAgeSeconds, 63_072_000)
        XCTAssertTrue(c.security.rateLimits.enabled)
        XCTAssertEqual(c.security.rateLimits.backend, .memory)
        XCTAssertEqual(c.security.rateLimits.newNonce, .init(requests: 100, windowSeconds: 60))
        XCTAssertEqual(c.security.rateLimits.newOrderPerIdentifier, .init(requests: 50, windowSeconds: 604_800))
        XCTAssertEqual(c.security.rateLimits.challengeValidation, .init(requests: 30, windowSeconds: 60))
        XCTAssertEqual(c.security.rateLimits.gcMaxAgeSeconds, 7200)
        XCTAssertTrue(c.security.identifierPolicy.allowWildcards)
        XCTAssertFalse(c.security.identifierPolicy.allowIP)
        XCTAssertEqual(c.security.identifierPolicy.maxIdentifierValueLength, 253)
        XCTAssertEqual(c.acme.paths.newNonce, "/new-nonce")
        XCTAssertEqual(c.acme.paths.keyChange, "/key-change")
        XCTAssertNil(c.acme.websiteURL)
        XCTAssertTrue(c.acme.caaEnforce)
        XCTAssertEqual(c.acme.ordersPageSize, 50)
        XCTAssertEqual(c.api.basePath, "")
        XCTAssertEqual(c.challenges.enabled, [.http01])
        XCTAssertEqual(c.challenges.retryAfterSeconds, 3)
        XCTAssertEqual(c.challenges.backoffBaseSeconds, 5)
        XCTAssertEqual(c.challenges.backoffMaxSeconds, 300)
        XCTAssertEqual(c.challenges.http01.maxResponseBytes, 1_048_576)
        XCTAssertEqual(c.challenges.http01.blockedNetworks, ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10"])
        XCTAssertFalse(c.challenges.dns01.autoValidate)
        XCTAssertEqual(c.challenges.dns01.timeoutSeconds, 30)
        XCTAssertEqual(c.challenges.tlsalpn01.port, 443)
        XCTAssertTrue(c.challenges.dnspersist01.allowWildcardPolicy)
        XCTAssertFalse(c.challenges.dnspersist01.allowSubdomainPolicy)
        XCTAssertEqual(c.challenges.backgroundWorker.staleSeconds, 300)
        XCTAssertEqual(c.ca.backend, .internal)
        XCTAssertEqual(c.ca.defaultValidityDays, 90)
        XCTAssertEqual(c.ca.maxValidityDays, 397)
        XCTAssertEqual(c.ca.circuitBreakerFailureThreshold, 5)
        XCTAssertEqual(c.ca.circuitBreakerRecoveryTimeout, 30.0)
        XCTAssertEqual(c.ca.profiles["default"], .implicitDefault)
        XCTAssertEqual(c.ca.internal.serialSource, .database)
        XCTAssertEqual(c.ca.external.authHeader, "Authorization")
        XCTAssertEqual(c.ca.external.retryDelaySeconds, 1.0)
        XCTAssertEqual(c.dns.timeoutSeconds, 10)
        XCTAssertFalse(c.email.requireContact)
        XCTAssertTrue(c.account.allowDeactivation)
        XCTAssertEqual(c.smtp.port, 587)
        XCTAssertTrue(c.smtp.useTLS)
        XCTAssertEqual(c.logging.level, .info)
        XCTAssertEqual(c.logging.format, .json)
        XCTAssertEqual(c.logging.audit.maxFileSizeBytes, 104_857_600)
        XCTAssertEqual(c.logging.audit.backupCount, 10)
        XCTAssertEqual(c.database.host, "localhost")
        XCTAssertEqual(c.database.port, 5432)
        XCTAssertEqual(c.database.sslmode, "prefer")
        XCTAssertEqual(c.database.minConnections, 2)
        XCTAssertEqual(c.database.maxConnections, 8)
        // Only the minimum raised (as a configuration written for the reference's default of 50 may be): the pool follows it.
        let raised = try load(minimal(replacing: "  user: acmeeh", with: "  user: acmeeh\n  min_connections: 12"))
        XCTAssertEqual(raised.database.minConnections, 12)
        XCTAssertEqual(raised.database.maxConnections, 12)
        XCTAssertEqual(c.database.connectionTimeout, 10)
        XCTAssertEqual(c.database.maxIdleSeconds, 300)
        XCTAssertNil(c.database.password)
        XCTAssertEqual(c.notifications.expirationWarningDays, [30, 14, 7, 1])
        XCTAssertEqual(c.notifications.retryBackoffMultiplier, 2.0)
        XCTAssertEqual(c.hooks.maxWorkers, 4)
        XCTAssertEqual(c.nonce.length, 32)
        XCTAssertEqual(c.nonce.expirySeconds, 3600)
        XCTAssertEqual(c.order.expirySeconds, 604_800)
        XCTAssertEqual(c.order.authorizationExpirySeconds, 2_592_000)
        XCTAssertEqual(c.order.staleProcessingThresholdSeconds, 600)
        XCTAssertFalse(c.tos.requireAgreement)
        XCTAssertEqual(c.crl.path, "/crl")
        XCTAssertEqual(c.crl.nextUpdateSeconds, 86400)
        XCTAssertEqual(c.metrics.path, "/metrics")
        XCTAssertFalse(c.ctLogging.enabled)
        XCTAssertEqual(c.auditRetention.maxAgeDays, 90)
        XCTAssertEqual(c.adminAPI.basePath, "/api")
        XCTAssertEqual(c.adminAPI.maxPageSize, 1000)
        XCTAssertEqual(c.ari.renewalPercentage, 0.6667)
        XCTAssertEqual(c.ari.path, "/renewalInfo")
        XCTAssertEqual(c.auditExport.syslogPort, 514)
        XCTAssertEqual(c.retention.expirationNoticeMaxAgeDays, 90)
        XCTAssertEqual(c.retention.cleanupLoopIntervalSeconds, 60)
        XCTAssertFalse(c.quotas.enabled)
        XCTAssertNil(c.plugins.directory)
    }

    func testValuesAreRead() throws {
        let c = try load(Self.minimal + """
            security:
              rate_limits:
                new_nonce: {requests: 7, window_seconds: 9}
            plugins: {directory: /opt/acmeeh/plugins}

            """)
        XCTAssertEqual(c.security.rateLimits.newNonce, .init(requests: 7, windowSeconds: 9))
        XCTAssertEqual(c.security.rateLimits.newOrder, .init(requests: 300, windowSeconds: 3600))
        XCTAssertEqual(c.plugins.directory, "/opt/acmeeh/plugins")
    }

    // MARK: - Substitution

    func testSubstitutionOfAWholeValue() throws {
        let c = try load(Self.minimal + "tos: {url: '${TOS}'}\n", env: ["TOS": "https://x.example/tos"])
        XCTAssertEqual(c.tos.url, "https://x.example/tos")
    }

    func testSubstitutionInsideALongerString() throws {
        let c = try load(Self.minimal.replacingOccurrences(
            of: "https://acme.example.com", with: "https://${HOST}:${PORT:-8443}/acme"),
            env: ["HOST": "ca.example.net"])
        XCTAssertEqual(c.server.externalURL, "https://ca.example.net:8443/acme")
    }

    func testNumberAndBooleanFromEnvironment() throws {
        let yaml = Self.minimal.replacingOccurrences(of: "  user: acmeeh", with: """
              user: acmeeh
              port: ${DB_PORT:-5432}
              max_connections: ${DB_MAX}
              auto_setup: ${AUTO}
              password: ${DB_PASSWORD}
            """)
        let c = try load(yaml, env: ["DB_MAX": "12", "AUTO": "true", "DB_PASSWORD": "12345"])
        XCTAssertEqual(c.database.port, 5432)
        XCTAssertEqual(c.database.maxConnections, 12)
        XCTAssertTrue(c.database.autoSetup)
        XCTAssertEqual(c.database.password, "12345", "a string field keeps digits from the environment as text")
        XCTAssertEqual(c.pluginConfigJSON(at: "database"),
                       #"{"database":"acmeeh","user":"acmeeh","port":5432,"max_connections":12,"auto_setup":true,"password":12345}"#)
    }

    func testDefaultIsUsedWhenVariableIsUnsetOrEmpty() throws {
        let yaml = Self.minimal + "logging: {level: '${LOG_LEVEL:-WARNING}'}\nsmtp: {username: '${SMTP_USER:-}'}\n"
        XCTAssertEqual(try load(yaml).logging.level, .warning)
        XCTAssertEqual(try load(yaml, env: ["LOG_LEVEL": ""]).logging.level, .warning)
        XCTAssertEqual(try load(yaml, env: ["LOG_LEVEL": "DEBUG"]).logging.level, .debug)
        XCTAssertEqual(try load(yaml).smtp.username, "")
    }

    func testMissingVariableNamesKeyAndVariable() {
        let yaml = Self.minimal.replacingOccurrences(of: "  user: acmeeh", with: "  user: acmeeh\n  password: ${DB_PASSWORD}")
        let list = problems(yaml)
        XCTAssertEqual(list.count, 1)
        let p = problem("database.password", in: list)
        XCTAssertEqual(p?.line, line(of: "password:", in: yaml))
        XCTAssertTrue(p?.message.contains("DB_PASSWORD") ?? false)
        XCTAssertTrue(p?.description.hasPrefix("test.yaml:\(line(of: "password:", in: yaml)): database.password: ") ?? false)
    }

    func testSubstitutionLeavesOtherDollarTextAlone() {
        let env = ["A": "1"]
        XCTAssertEqual(EnvironmentSubstitution.substitute("p$ss${A}$HOME${1}${", environment: env).text, "p$ss1$HOME${1}${")
        XCTAssertEqual(EnvironmentSubstitution.substitute("${B:-x:y}", environment: env).text, "x:y")
        XCTAssertEqual(EnvironmentSubstitution.substitute("${B}${C}", environment: env).missing, ["B", "C"])
    }

    // MARK: - Strictness

    func testUnknownKeyHasFullPathAndLine() {
        let yaml = Self.minimal + """
            security:
              rate_limits:
                new_nonce:
                  requestz: 5
                  window_seconds: 60

            """
        let list = problems(yaml)
        let p = problem("security.rate_limits.new_nonce.requestz", in: list)
        XCTAssertEqual(p?.line, line(of: "requestz", in: yaml))
        XCTAssertTrue(p?.message.contains("unknown key") ?? false)
        // The rule's required `requests` is reported too.
        XCTAssertNotNil(problem("security.rate_limits.new_nonce.requests", in: list))
    }

    func testStringWhereIntegerIsExpected() {
        let yaml = Self.minimal.replacingOccurrences(of: "  external_url: https://acme.example.com",
                                                     with: "  external_url: https://acme.example.com\n  port: \"8443\"")
        let p = problem("server.port", in: problems(yaml))
        XCTAssertEqual(p?.line, line(of: "port:", in: yaml))
        XCTAssertTrue(p?.message.contains("expected an integer") ?? false)
    }

    func testListWhereMappingIsExpected() {
        let yaml = Self.minimal + "proxy:\n  - enabled\n"
        let list = problems(yaml)
        XCTAssertEqual(list.count, 1)
        let p = problem("proxy", in: list)
        XCTAssertEqual(p?.line, line(of: "proxy:", in: yaml))
        XCTAssertTrue(p?.message.contains("expected a mapping, found a list") ?? false)
    }

    func testBadListElementsCarryTheirIndex() {
        let yaml = Self.minimal + """
            challenges:
              enabled:
                - http-01
                - http-02
                - [dns-01]
            security:
              allowed_algorithms: [ES256, HS256]

            """
        let list = problems(yaml)
        XCTAssertEqual(problem("challenges.enabled[1]", in: list)?.line, line(of: "http-02", in: yaml))
        XCTAssertTrue(problem("challenges.enabled[1]", in: list)?.message.contains("unknown challenge type") ?? false)
        XCTAssertEqual(problem("challenges.enabled[2]", in: list)?.line, line(of: "[dns-01]", in: yaml))
        XCTAssertEqual(problem("security.allowed_algorithms[1]", in: list)?.line, line(of: "HS256", in: yaml))
    }

    func testSeveralErrorsAreReportedAtOnce() {
        let yaml = """
            server:
              external_url: https://acme.example.com/
              port: 70000
              colour: blue
            database:
              database: acmeeh
            nonce:
              length: 8
            whatever: 1

            """
        let list = problems(yaml)
        for path in ["server.external_url", "server.port", "server.colour", "database.user", "nonce.length",
                     "whatever", "ca.internal.root_cert_path", "ca.internal.root_key_path"] {
            XCTAssertNotNil(problem(path, in: list), path)
        }
        XCTAssertEqual(problem("server.port", in: list)?.line, 3)
        XCTAssertEqual(problem("database.user", in: list)?.line, 5)
        XCTAssertEqual(problem("whatever", in: list)?.line, 9)
        XCTAssertEqual(list.map { $0.line ?? 0 }, list.map { $0.line ?? 0 }.sorted(), "problems come in file order")
    }

    func testRequiredKeysOfAnEmptyDocument() {
        let list = problems("")
        for path in ["server.external_url", "database.database", "database.user"] {
            XCTAssertTrue(problem(path, in: list)?.message.contains("required") ?? false, path)
        }
    }

    func testTopLevelCommentIsAllowedButNotElsewhere() throws {
        XCTAssertNoThrow(try load(Self.minimal + "_comment: {anything: [1, 2]}\n"))
        XCTAssertNotNil(problem("api._comment", in: problems(Self.minimal + "api: {_comment: x}\n")))
    }

    func testSyntaxErrorAndDuplicateKeyHaveLines() {
        let broken = problems("server:\n  external_url: [unclosed\ndatabase: {}\n")
        XCTAssertEqual(broken.count, 1)
        XCTAssertNotNil(broken.first?.line)
        XCTAssertTrue(broken.first?.message.contains("YAML syntax error") ?? false)
        let duplicate = problems(Self.minimal + "api: {base_path: /a}\napi: {base_path: /b}\n")
        XCTAssertEqual(duplicate.count, 1)
        XCTAssertTrue(duplicate.first?.message.contains("\"api\"") ?? false)
    }

    func testAnchorsAndMergeKeys() throws {
        let yaml = Self.minimal + """
            x_rule: &rule {requests: 5, window_seconds: 60}
            """
        // An unknown top-level key is still refused, even when it only holds an anchor.
        XCTAssertNotNil(problem("x_rule", in: problems(yaml)))
        let c = try load(Self.minimal + """
            security:
              rate_limits:
                new_account: &rule {requests: 5, window_seconds: 60}
                new_order: *rule
                challenge:
                  <<: *rule
                  requests: 9

            """)
        XCTAssertEqual(c.security.rateLimits.newOrder, .init(requests: 5, windowSeconds: 60))
        XCTAssertEqual(c.security.rateLimits.challenge, .init(requests: 9, windowSeconds: 60))
    }

    func testJSONIsAccepted() throws {
        let json = """
            {
            \t"server": {"external_url": "https://acme.example.com", "port": "${PORT:-9443}"},
            \t"database": {"database": "acmeeh", "user": "acmeeh"},
            \t"ca": {"internal": {"root_cert_path": "/r.pem", "root_key_path": "/k.pem"}}
            }
            """
        let c = try load(json)
        XCTAssertEqual(c.server.port, 9443)
    }

    func testUnreadableFileIsOneProblemNamingFileAndOSError() {
        let path = "/nonexistent/acmeeh-\(UUID().uuidString).yaml"
        do {
            _ = try ConfigLoader.load(path: path, environment: [:])
            XCTFail("expected an error")
        } catch let error as ConfigError {
            XCTAssertEqual(error.problems.count, 1)
            XCTAssertEqual(error.problems.first?.file, path)
            XCTAssertTrue(error.description.contains(path))
            XCTAssertTrue(error.description.contains("No such file or directory"), error.description)
        } catch {
            XCTFail("unexpected \(error)")
        }
    }

    func testLoadFromFile() throws {
        let path = NSTemporaryDirectory() + "acmeeh-config-\(UUID().uuidString).yaml"
        try Self.minimal.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try ConfigLoader.load(path: path, environment: [:]).database.user, "acmeeh")
    }
}

// MARK: - Cross-field checks, plugin references, plugin JSON

extension ConfigTests {
    /// `minimal` with `sections` appended (top-level sections other than server/database/ca).
    private func with(_ sections: String) -> String {
        Self.minimal + sections + "\n"
    }

    private func minimal(replacing old: String, with new: String) -> String {
        Self.minimal.replacingOccurrences(of: old, with: new)
    }

    /// EAB credentials come from `acmeeh eab create`, so requiring EAB needs no admin API.
    func testEABRequiredNeedsNoAdminAPI() throws {
        let config = try load(with("acme: {eab_required: true}"))
        XCTAssertTrue(config.acme.eabRequired)
        XCTAssertFalse(config.adminAPI.enabled)
    }

    func testCrossFieldChecksNameTheKey() {
        let cases: [(yaml: String, path: String, says: String)] = [
            (minimal(replacing: "https://acme.example.com", with: "https://acme.example.com/"),
             "server.external_url", "must not end"),
            (minimal(replacing: "https://acme.example.com", with: "ftp://acme.example.com"),
             "server.external_url", "http"),
            (minimal(replacing: "ca:\n", with: "ca:\n  default_validity_days: 400\n"),
             "ca.default_validity_days", "max_validity_days"),
            (minimal(replacing: "ca:\n", with: "ca:\n  profiles:\n    short: {validity_days: 30, max_validity_days: 7}\n"),
             "ca.profiles.short.validity_days", "maximum"),
            (with("smtp: {enabled: true, from_address: a@b.c}"), "smtp.host", "smtp.enabled"),
            (with("smtp: {enabled: true, host: mail}"), "smtp.from_address", "smtp.enabled"),
            (with("tos: {require_agreement: true}"), "tos.url", "require_agreement"),
            (with("challenges: {enabled: [dns-persist-01]}"), "challenges.dnspersist01.issuer_domain_names", "issuer"),
            (with("challenges: {auto_accept: true}"), "challenges.auto_accept", "enforce_account_allowlist"),
            (with("nonce: {length: 15}"), "nonce.length", "at least 16"),
            (with("security: {min_rsa_key_size: 1024}"), "security.min_rsa_key_size", "2048"),
            (with("security: {min_rsa_key_size: 8192, max_rsa_key_size: 4096}"), "security.min_rsa_key_size", "max_rsa_key_size"),
            (minimal(replacing: "  user: acmeeh", with: "  user: acmeeh\n  min_connections: 9\n  max_connections: 3"),
             "database.min_connections", "max_connections"),
            (with("proxy: {enabled: true}"), "proxy.trusted_proxies", "trusted"),
            (with("proxy: {enabled: true, trusted_proxies: [10.0.0.0/33]}"), "proxy.trusted_proxies[0]", "prefix"),
            (with("proxy: {enabled: true, trusted_proxies: [10.0.0.1/8]}"), "proxy.trusted_proxies[0]", "host bits"),
            (with("proxy: {forwarded_for_header: 'X Forwarded For'}"), "proxy.forwarded_for_header", "header name"),
            (with("proxy: {forwarded_proto_header: ''}"), "proxy.forwarded_proto_header", "header name"),
            (with("challenges: {backoff_base_seconds: 600, backoff_max_seconds: 300}"),
             "challenges.backoff_base_seconds", "backoff_max_seconds"),
            (with("ct_logging: {enabled: true}"), "ct_logging.logs", "no CT logs"),
            (with("admin_api: {enabled: true, token_secret: 0123456789abcdef}"), "admin_api.initial_admin_email", "required"),
            (with("admin_api: {enabled: true, initial_admin_email: a@b.c, token_secret: short}"),
             "admin_api.token_secret", "16"),
            (with("admin_api: {enabled: true, initial_admin_email: a@b.c, token_secret: 0123456789abcdef}\napi: {base_path: /api}"),
             "admin_api.base_path", "api.base_path"),
            ("server: {external_url: 'https://a.example'}\ndatabase: {database: d, user: u}\n",
             "ca.internal.root_cert_path", "internal CA"),
            ("server: {external_url: 'https://a.example'}\ndatabase: {database: d, user: u}\nca: {backend: external}\n",
             "ca.external.sign_url", "external CA"),
            (with("dns: {resolvers: [10.0.0.53, 'dns.example']}"), "dns.resolvers[1]", "resolver address"),
            (with("challenges: {dns01: {resolvers: ['[2001:db8::1]:53', '10.0.0.1:99999']}}"),
             "challenges.dns01.resolvers[1]", "resolver address"),
            (with("challenges: {dnspersist01: {resolvers: ['2001:db8::1:53:x']}}"),
             "challenges.dnspersist01.resolvers[0]", "resolver address"),
            (with("hooks: {registered: [{class: a.B, events: [order.created]}]}"), "hooks.registered[0].events[0]", "unknown hook event"),
        ]
        for c in cases {
            let list = problems(c.yaml)
            guard let p = list.first(where: { $0.path == c.path }) else {
                XCTFail("\(c.path): not reported; got \(list.map(\.description))")
                continue
            }
            XCTAssertTrue(p.message.contains(c.says), "\(c.path): \(p.message)")
            XCTAssertNotNil(p.line, c.path)
        }
    }

    func testCrossFieldProblemPointsAtTheKeyLine() {
        let yaml = with("nonce:\n  gc_interval_seconds: 60\n  length: 8")
        XCTAssertEqual(problem("nonce.length", in: problems(yaml))?.line, line(of: "length: 8", in: yaml))
    }

    func testValidNetworksAndResolversLoad() throws {
        let c = try load(with("""
            proxy: {enabled: true, trusted_proxies: [127.0.0.1, 10.0.0.0/8, '::1', 'fd00::/8']}
            dns: {resolvers: [10.0.0.53, '10.0.0.53:5353', '2001:db8::53', '[2001:db8::53]:53']}
            """))
        XCTAssertEqual(c.proxy.trustedProxies.count, 4)
        XCTAssertEqual(c.dns.resolvers.count, 4)
    }

    func testCABackendsAndFailover() throws {
        func ca(_ body: String) -> String {
            minimal(replacing: "ca:\n", with: "ca:\n" + body + "\n")
        }
        let c = try load(ca("""
              backend: ext:VaultCA
              failover: [internal, 'ext:/usr/lib/acmeeh/libBackupCA.so']
              vault_addr: https://vault:8200
            """))
        XCTAssertEqual(c.ca.backend, .plugin("VaultCA"))
        XCTAssertEqual(c.ca.failover, [.internal, .plugin("/usr/lib/acmeeh/libBackupCA.so")])
        XCTAssertEqual(c.ca.pluginKeys, ["vault_addr"])

        for backend in ["hsm", "acme_proxy"] {
            let p = problem("ca.backend", in: problems(ca("  backend: \(backend)")))
            XCTAssertTrue(p?.message.contains("not built in") ?? false)
            XCTAssertTrue(p?.message.contains("CA plugin library (ext:NAME") ?? false)
        }
        let python = problem("ca.backend", in: problems(ca("  backend: ext:mycompany.pki.VaultBackend")))
        XCTAssertTrue(python?.message.contains("\"ext:mycompany.pki.VaultBackend\"") ?? false)
        XCTAssertTrue(python?.message.contains("shared-library plugin") ?? false)
        XCTAssertTrue(python?.message.contains("not a Python class") ?? false)
        XCTAssertNotNil(problem("ca.failover[1]", in: problems(ca("  failover: [internal, hsm]"))))
        XCTAssertNotNil(problem("ca.backend", in: problems(ca("  backend: magic"))))
        let keyProvider = minimal(replacing: "root-key.pem", with: "root-key.pem\n    key_provider: file")
        XCTAssertNotNil(problem("ca.internal.key_provider", in: problems(keyProvider)),
                        "ca.internal is closed even though ca is open")
        XCTAssertNotNil(problem("ca.profiles.web.key_usages[0]", in: problems(ca("  profiles: {web: {key_usages: [sign_all]}}"))))
    }

    func testChallengePluginsAndHooks() throws {
        let ok = try load(with("challenges: {enabled: [http-01, 'ext:PowerDNS', 'ext:./libX.so']}"))
        XCTAssertEqual(ok.challenges.enabled, [.http01, .plugin("PowerDNS"), .plugin("./libX.so")])

        let python = problem("challenges.enabled[1]",
                             in: problems(with("challenges: {enabled: [http-01, 'ext:my.dns.Validator']}")))
        XCTAssertTrue(python?.message.contains("Python class") ?? false)

        let hooks = problems(with("hooks:\n  registered:\n    - class: my.hooks.Slack\n      _comment: note\n      config: {a: 1}"))
        XCTAssertEqual(hooks.count, 1)
        let p = problem("hooks.registered[0].class", in: hooks)
        XCTAssertTrue(p?.message.contains("my.hooks.Slack") ?? false)
        XCTAssertTrue(p?.message.contains("notifier plugins") ?? false)
        XCTAssertNoThrow(try load(with("hooks: {registered: [], timeout_seconds: 5}")))
    }

    func testHooksNameNotifierPlugins() throws {
        let c = try load(with("""
            hooks:
              timeout_seconds: 7
              max_retries: 2
              registered:
                - notifier: webhook
                  events: [certificate.issuance]
                  timeout_seconds: 3
                  config: {url: 'http://127.0.0.1:9/h', secret: s, headers: {X-A: b}}
                - notifier: ext:MyNotifier
                  enabled: false
                - notifier: smtp
            """))
        XCTAssertEqual(c.hooks.registered.map(\.notifier), ["webhook", "ext:MyNotifier", "smtp"])
        XCTAssertEqual(c.hooks.registered[0].configJSON, #"{"url":"http://127.0.0.1:9/h","secret":"s","headers":{"X-A":"b"}}"#)
        XCTAssertEqual(c.hooks.registered[0].wantedEvents, ["certificate.issuance"])
        XCTAssertEqual(c.hooks.registered[0].timeoutSeconds, 3)
        XCTAssertEqual(c.hooks.registered[2].configJSON, "{}")
        XCTAssertEqual(c.hooks.registered[2].wantedEvents, HooksConfig.events, "no events = all 10")
        XCTAssertEqual(c.hooks.active.map(\.index), [0, 2], "a disabled entry is not loaded")
        XCTAssertEqual(c.warnings, [], "hooks work: no warning")

        let cases = [
            ("hooks: {registered: [{events: [order.creation]}]}", "hooks.registered[0].notifier", "required key is missing"),
            ("hooks: {registered: [{notifier: slack}]}", "hooks.registered[0].notifier", "unknown notifier \"slack\""),
            ("hooks: {registered: [{notifier: 'ext:my.hooks.Slack'}]}", "hooks.registered[0].notifier", "Python class"),
            ("hooks: {registered: [{notifier: webhook, config: 'url'}]}", "hooks.registered[0].config", "expected a mapping"),
        ]
        for (yaml, path, says) in cases {
            let found = problems(with(yaml))
            XCTAssertEqual(found.map(\.path), [path], yaml)
            XCTAssertTrue(problem(path, in: found)?.message.contains(says) ?? false, "\(found)")
        }
        // A Python class is refused on its own (no second problem for the missing notifier).
        let python = problems(with("hooks: {registered: [{class: my.hooks.Slack}]}"))
        XCTAssertEqual(python.map(\.path), ["hooks.registered[0].class"])
        XCTAssertTrue(python.first?.message.contains("notifier: webhook") ?? false, "\(python)")
    }

    func testPluginConfigJSON() throws {
        let yaml = minimal(replacing: "ca:\n", with: """
            ca:
              backend: ext:VaultCA
              vault: {addr: '${VAULT:-https://v:8200}', retries: 3, ratio: 0.5, tls: yes, role: null, tags: [a, "b\\"c"]}
              hsm:
                pin: '${PIN}'
                slot: ${PIN}

            """)
        let c = try load(yaml, env: ["PIN": "0042"])
        XCTAssertEqual(c.pluginConfigJSON(at: "ca.hsm"), #"{"pin":"0042","slot":34}"#, "quoted stays a string; plain 0042 is YAML 1.1 octal")
        XCTAssertEqual(c.pluginConfigJSON(at: "ca.internal"), #"{"root_cert_path":"/ca/root.pem","root_key_path":"/ca/root-key.pem"}"#)
        XCTAssertEqual(c.pluginConfigJSON(at: "ca.vault"),
                       #"{"addr":"https://v:8200","retries":3,"ratio":0.5,"tls":true,"role":null,"tags":["a","b\"c"]}"#)
        XCTAssertTrue(c.pluginConfigJSON(at: "ca").hasPrefix(#"{"backend":"ext:VaultCA","vault":{"#))
        XCTAssertEqual(c.pluginConfigJSON(at: "challenges.http01"), "{}")
        XCTAssertEqual(c.pluginConfigJSON(at: "ca.backend"), "{}")
        let parsed = try JSONSerialization.jsonObject(with: Data(c.pluginConfigJSON(at: "ca").utf8)) as? [String: Any]
        XCTAssertEqual((parsed?["vault"] as? [String: Any])?["retries"] as? Int, 3)
    }
}

// MARK: - The reference's example configurations

extension ConfigTests {
    private enum Expected {
        case loads
        /// Refused; exactly these key paths, each message containing the text.
        case refused([(path: String, says: String)])
    }

    private static let notBuiltIn = "not built in"
    private static let pythonClass = "Python class"
    private static let pythonHook = "notifier plugins"

    /// Every example, decided by reading it: a file is refused only for something acmeeh
    /// genuinely does not support (a non-built-in backend, a Python class path, Python hooks,
    /// auto_accept).
    private static let expectations: [String: Expected] = [
        "acme-proxy-eab.yaml": .refused([
            ("ca.backend", notBuiltIn), ("challenges.auto_accept", "no auto-accept validator"),
        ]),
        "acmeeh.example.yaml": .loads,
        "admin-api.yaml": .loads,
        "all-challenge-types.yaml": .loads,
        "audit-export.yaml": .loads,
        "background-workers.yaml": .loads,
        "behind-reverse-proxy.yaml": .loads,
        "certificate-profiles.yaml": .loads,
        "crl-ari.yaml": .loads,
        "ct-logging.yaml": .loads,
        "custom-acme-paths.yaml": .loads,
        "custom-ca-plugin.yaml": .refused([("ca.backend", pythonClass)]),
        "custom-challenge-validator.yaml": .refused([("challenges.enabled[1]", pythonClass)]),
        "development.yaml": .loads,
        "docker-compose.yaml": .loads,
        "docker-config.yaml": .loads,
        "email-notifications.yaml": .loads,
        "environment-variables.yaml": .loads,
        "external-ca.yaml": .loads,
        "gevent-workers.yaml": .loads,
        "hooks-all-events.yaml": .refused((0..<5).map { ("hooks.registered[\($0)].class", pythonHook) }),
        "hsm-backend.yaml": .refused([("ca.backend", notBuiltIn)]),
        "ip-certificates.yaml": .loads,
        "metrics-prometheus.yaml": .loads,
        "minimal.yaml": .loads,
        "production-internal-ca.yaml": .refused([
            ("hooks.registered[0].class", pythonHook), ("hooks.registered[1].class", pythonHook),
        ]),
        "quotas-rate-limits.yaml": .loads,
        "retention-cleanup.yaml": .loads,
        "strict-security.yaml": .refused([("ca.backend", notBuiltIn)]),
    ]

    /// The variables the examples reference without a default.
    private static let exampleEnvironment = [
        "DB_PASSWORD": "db-secret", "SMTP_PASSWORD": "smtp-secret", "SMTP_HOST": "smtp.example.com",
        "ADMIN_TOKEN_SECRET": "an-admin-token-secret-of-32-chars", "DNS_API_TOKEN": "t",
        "UPSTREAM_EAB_KID": "kid", "UPSTREAM_EAB_HMAC_KEY": "hmac", "HSM_PIN": "1234",
        "SLACK_WEBHOOK_URL": "https://hooks.example/x", "SIEM_API_KEY": "k", "LB_API_TOKEN": "t",
        "VAULT_TOKEN": "v", "POSTGRES_PASSWORD": "pg",
    ]

    /// The example configurations of the reference server (copied unchanged), which acmeeh must load.
    private static var examplesDirectory: URL {
        TestPaths.repository.appendingPathComponent("Tests/HostTests/Fixtures/reference-examples")
    }

    func testEveryReferenceExample() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.examplesDirectory.path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 20, "examples missing at \(Self.examplesDirectory.path)")
        for name in names {
            guard let expected = Self.expectations[name] else {
                XCTFail("\(name): no expectation in the table; read it and add one")
                continue
            }
            let path = Self.examplesDirectory.appendingPathComponent(name).path
            switch (expected, Result { try ConfigLoader.load(path: path, environment: Self.exampleEnvironment) }) {
            case (.loads, .success):
                break
            case (.loads, .failure(let error)):
                XCTFail("\(name) should load:\n\(error)")
            case (.refused, .success):
                XCTFail("\(name) should be refused")
            case (.refused(let wanted), .failure(let error)):
                guard let problems = (error as? ConfigError)?.problems else {
                    XCTFail("\(name): unexpected \(error)")
                    continue
                }
                XCTAssertEqual(problems.map(\.path).sorted(), wanted.map(\.path).sorted(), "\(name):\n\(error)")
                for (path, says) in wanted {
                    let message = problems.first { $0.path == path }?.message ?? ""
                    XCTAssertTrue(message.contains(says), "\(name) \(path): \(message)")
                }
                XCTAssertTrue(problems.allSatisfy { $0.file == path && $0.line != nil }, name)
            }
        }
    }

    func testExampleValuesSurviveLoading() throws {
        let dir = Self.examplesDirectory
        let docker = try ConfigLoader.load(path: dir.appendingPathComponent("docker-config.yaml").path,
                                           environment: Self.exampleEnvironment)
        XCTAssertEqual(docker.server.externalURL, "https://acmeeh:8443")
        XCTAssertEqual(docker.database.password, "pg")
        XCTAssertEqual(docker.ca.pluginKeys, ["acme_proxy", "hsm"])
        XCTAssertEqual(docker.ca.external.signURL, "")
        let dev = try ConfigLoader.load(path: dir.appendingPathComponent("development.yaml").path, environment: [:])
        XCTAssertEqual(dev.database.password, "devpass")
        XCTAssertEqual(dev.logging.format, .human)
        XCTAssertEqual(dev.ca.internal.serialSource, .random)
        let profiles = try ConfigLoader.load(path: dir.appendingPathComponent("certificate-profiles.yaml").path,
                                             environment: Self.exampleEnvironment)
        XCTAssertEqual(profiles.ca.profiles.count, 6)
        XCTAssertEqual(profiles.ca.profiles["code-signing"]?.extendedKeyUsages, ["code_signing"])
    }
}
