import Foundation
import XCTest

@testable import Host

/// Issue 10 item 1: no key is silently ignored. Every key the loader accepts has a status in
/// `ConfigKeyCatalog`, docs/configuration.md lists exactly those keys, switches acmeeh does not honour are
/// refused with file, line, key path and why, and keys without effect are named when set.
final class ConfigKeyCoverageTests: XCTestCase {
    /// Reaches the parts of the schema that readers only visit when present: a list
    /// element, a rate-limit rule, a certificate profile.
    static let probe = """
        security:
          rate_limits:
            new_nonce: {}
            new_account: {}
            new_order: {}
            new_order_per_identifier: {}
            challenge: {}
            challenge_validation: {}
        hooks:
          registered: [{}]
        ct_logging:
          logs: [{}]
        ca:
          profiles:
            web: {}

        """

    /// The leaf keys the section readers ask for (a mapping such as `acme.paths` is not a
    /// key itself), recorded by the loader while it reads `probe`.
    static func acceptedKeys() -> Set<String> {
        let diagnostics = ConfigDiagnostics(source: "probe")
        _ = try? ConfigLoader.load(yaml: probe, source: "probe", environment: [:], diagnostics: diagnostics)
        let consulted = diagnostics.consultedKeys
        return consulted.filter { key in !consulted.contains { $0.hasPrefix(key + ".") } }
    }

    func testEveryAcceptedKeyHasAStatus() {
        let accepted = Self.acceptedKeys()
        XCTAssertGreaterThan(accepted.count, 200)
        let catalog = Set(ConfigKeyCatalog.entries.map(\.path))
        XCTAssertEqual(catalog.count, ConfigKeyCatalog.entries.count, "a key is listed twice")
        XCTAssertEqual(accepted.subtracting(catalog).sorted(), [], "keys the loader accepts without a status")
        XCTAssertEqual(catalog.subtracting(accepted).sorted(), [], "statuses of keys the loader does not accept")
    }

    /// Every row of docs/configuration.md: key → (status, SIGHUP) cells.
    private func documentedRows() throws -> [String: (status: String, reload: String)] {
        let text = try String(contentsOf: TestPaths.repository.appendingPathComponent("docs/configuration.md"),
                              encoding: .utf8)
        var rows: [String: (String, String)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let key = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            XCTAssertNil(rows[key], "\(key) is documented twice")
            rows[key] = (cells[3], cells[4])
        }
        return rows
    }

    func testDocsListExactlyTheAcceptedKeysWithTheirStatus() throws {
        let rows = try documentedRows()
        let accepted = Self.acceptedKeys()
        XCTAssertEqual(accepted.subtracting(rows.keys).sorted(), [], "keys missing from docs/configuration.md")
        XCTAssertEqual(Set(rows.keys).subtracting(accepted).sorted(), [], "documented keys the loader does not accept")
        for key in ConfigKeyCatalog.entries {
            guard let row = rows[key.path] else { continue }
            let word = switch key.status {
            case .works: "works"
            case .refused: "refused"
            case .noEffect: "no effect"
            }
            XCTAssertTrue(row.status.hasPrefix(word), "\(key.path): the docs say \"\(row.status)\", the catalog \(word)")
            let reload = ConfigKeyCatalog.isReloadable(key.path) ? "SIGHUP" : "restart"
            XCTAssertEqual(row.reload, reload, key.path)
        }
    }

    // MARK: - Refusals

    /// A switch acmeeh does not honour: refused, with file, line, key path and why.
    static let refusedSwitches: [(yaml: String, path: String, why: String)] = [
        ("nonce:\n  audit_consumed: true\n", "nonce.audit_consumed", "no record of consumed nonces"),
    ]

    func testRefusedSwitchesNameFileLineKeyAndReason() throws {
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (yaml, path, why) in Self.refusedSwitches {
            let file = directory.appendingPathComponent("refused.yaml")
            let text = ConfigTests.minimal + yaml
            try text.write(to: file, atomically: true, encoding: .utf8)
            let line = text.split(separator: "\n", omittingEmptySubsequences: false)
                .firstIndex { $0.contains(path.split(separator: ".").last!) }! + 1
            let problems = refusal(file.path)
            XCTAssertEqual(problems.map(\.path), [path])
            XCTAssertEqual(problems.first?.file, file.path)
            XCTAssertEqual(problems.first?.line, line, path)
            XCTAssertTrue(problems.first?.message.contains("true is refused") ?? false, "\(problems)")
            XCTAssertTrue(problems.first?.message.contains(why) ?? false, "\(problems)")

            let result = try Command.run(TestPaths.executable.path, ["-c", file.path, "--validate-only"])
            XCTAssertEqual(result.status, 1, path)
            XCTAssertTrue(result.stderr.contains("\(file.path):\(line): \(path): true is refused"), result.stderr)
            XCTAssertFalse(result.stdout.contains("configuration OK"))

            // The safe value loads, silently.
            let off = try ConfigLoader.load(yaml: ConfigTests.minimal + yaml.replacingOccurrences(of: "true", with: "false"),
                                            source: "off.yaml", environment: [:])
            XCTAssertEqual(off.warnings, [], path)
        }
    }

    func testOtherRefusals() {
        let cases = [
            ("challenges:\n  auto_accept: true\n", "challenges.auto_accept", "no auto-accept validator"),
            ("nonce:\n  audit_consumed: true\n", "nonce.audit_consumed", "no record of consumed nonces"),
            ("hooks:\n  registered:\n    - class: acme.hooks.Mine\n", "hooks.registered[0].class", "notifier plugins"),
            ("hooks:\n  registered:\n    - class: acme.hooks.Mine\n", "hooks.registered[0].class",
             "write `notifier: webhook` (or `notifier: ext:NAME`"),
        ]
        for (yaml, path, why) in cases {
            let problems = refusal(yaml: ConfigTests.minimal + yaml)
            XCTAssertTrue(problems.contains { $0.path == path && $0.message.contains(why) }, "\(path): \(problems)")
        }
        // A value from the environment is judged after substitution.
        let fromEnvironment = refusal(yaml: ConfigTests.minimal + "challenges:\n  auto_accept: ${AUTO}\n",
                                      env: ["AUTO": "true"])
        XCTAssertEqual(Set(fromEnvironment.map(\.path)), ["challenges.auto_accept"])
    }

    private func refusal(_ path: String) -> [ConfigProblem] {
        do {
            _ = try ConfigLoader.load(path: path, environment: [:])
        } catch let error as ConfigError {
            return error.problems
        } catch {}
        XCTFail("\(path) should be refused")
        return []
    }

    private func refusal(yaml: String, env: [String: String] = [:]) -> [ConfigProblem] {
        do {
            _ = try ConfigLoader.load(yaml: yaml, source: "test.yaml", environment: env)
        } catch let error as ConfigError {
            return error.problems
        } catch {}
        XCTFail("should be refused:\n\(yaml)")
        return []
    }

    // MARK: - Warnings

    /// The sections that once loaded before their feature existed now load without a warning.
    func testFinishedSectionsLoadWithoutWarnings() throws {
        let config = try ConfigLoader.load(yaml: ConfigTests.minimal + """
            admin_api:
              enabled: true
              token_secret: a-secret-of-32-characters-or-so
              initial_admin_email: admin@example.test
            audit_retention:
              enabled: true
            metrics:
              enabled: true
              auth_required: true
            logging:
              level: DEBUG
              audit:
                file: /var/log/acmeeh/audit.log
                syslog: true

            """, source: "w.yaml", environment: [:])
        XCTAssertEqual(config.warnings, [])
        XCTAssertEqual(try ConfigLoader.load(yaml: ConfigTests.minimal, source: "m.yaml", environment: [:]).warnings, [])
    }

    func testKeysWithoutEffectAreNamedWhenSet() throws {
        let config = try ConfigLoader.load(yaml: ConfigTests.minimal.replacingOccurrences(
            of: "  external_url: https://acme.example.com\n",
            with: "  external_url: https://acme.example.com\n  worker_class: gevent\n  max_requests: 1000\n") + """
            dns:
              retries: 3
            email:
              validate_mx: true

            """, source: "n.yaml", environment: [:])
        XCTAssertEqual(config.warnings.map(\.message), [
            "server.worker_class has no effect: acmeeh is one process; server.workers sets its event-loop threads",
            "server.max_requests has no effect: acmeeh does not recycle workers",
        ], "dns.retries and email.validate_mx work")
    }

    func testPluginKeysWithoutAPluginAreNamed() throws {
        let config = try ConfigLoader.load(yaml: ConfigTests.minimal + "  vault_addr: https://vault\n",
                                           source: "p.yaml", environment: [:])
        XCTAssertEqual(config.warnings.map(\.message), [
            "ca.vault_addr has no effect: only an ext: CA plugin reads ca keys acmeeh does not define, "
                + "and ca.backend is internal",
        ])
    }

    func testValidateOnlyPrintsTheWarnings() throws {
        let directory = try TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("warned.yaml")
        try ConfigTests.minimal
            .replacingOccurrences(of: "  external_url: https://acme.example.com\n",
                                  with: "  external_url: https://acme.example.com\n  max_requests: 1000\n")
            .write(to: file, atomically: true, encoding: .utf8)
        let result = try Command.run(TestPaths.executable.path, ["-c", file.path, "--validate-only"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "configuration OK")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 1, result.stderr)
        XCTAssertTrue(lines.contains { $0.hasPrefix("acmeeh: warning: \(file.path):") && $0.hasSuffix(
            "server.max_requests has no effect: acmeeh does not recycle workers") }, result.stderr)
    }
}
