import ArgumentParser
import COpenSSL
import Foundation
import Logging

/// `acmeeh plugins ...`: tools for plugin authors and operators (docs/plugins.md).
struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "Plugin tools: list what the configuration loads, check one library.",
        subcommands: [PluginsListCommand.self, PluginsCheckCommand.self])
}

/// `acmeeh -c F plugins list [--json]`: loads every plugin the configuration names (the CA
/// backend, `ca.failover`, each `challenges.enabled` entry) without opening the database,
/// and prints one row per plugin. Exit status 1 when any failed to load.
struct PluginsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Load the plugins the configuration names (no database) and print each one's state.")

    @OptionGroup var globals: GlobalOptions

    @Flag(help: "Print a JSON object instead of a table.")
    var json = false

    func run() async throws {
        guard let invocation = Invocation.start(globals) else { return }
        let entries = await Self.load(invocation.config)
        print(json ? PluginListing.json(entries) : PluginListing.table(entries))
        if entries.contains(where: { PluginListing.failure($0) != nil }) { throw ExitCode(1) }
    }

    /// Loads and creates each configured plugin as `serve` would (same config subtrees), records
    /// failures instead of stopping at the first, and closes the instances again.
    static func load(_ config: AppConfig) async -> [PluginRegistry.Entry] {
        let pool = PluginThreadPool(numberOfThreads: 2)
        let registry = PluginRegistry(threadPool: pool) { Logger(label: $0) }
        let directory = PluginReference.directory(configured: config.plugins.directory)
        let backends = [("ca.backend", config.ca.backend)]
            + config.ca.failover.enumerated().map { ("ca.failover[\($0.offset)]", $0.element) }
        for (key, backend) in backends {
            _ = try? await Runtime.loadCA(backend, configKey: key, config: config, plugins: registry, directory: directory)
        }
        for (index, entry) in config.challenges.enabled.enumerated() {
            _ = try? await registry.loadChallenges(
                entry: entry.description, configKey: "challenges.enabled[\(index)]", directory: directory,
                configJSON: validatorConfigJSON(entry, config: config),
                configPath: entry.configPath ?? "challenges.enabled[\(index)]")
        }
        let entries = registry.entries()
        await registry.closeAll()
        try? await pool.shutdown()
        return entries
    }
}

/// The two renderings of `plugins list`.
enum PluginListing {
    /// The loader's message when the entry failed, nil when it loaded.
    static func failure(_ entry: PluginRegistry.Entry) -> String? {
        if case .failed(let message) = entry.state { return message }
        return nil
    }

    static func state(_ entry: PluginRegistry.Entry) -> String {
        switch entry.state {
        case .active: "loaded"
        case .closed: "closed"
        case .failed(let message): "failed: \(message)"
        }
    }

    /// Columns KIND NAME VERSION ABI PATH CONFIG-KEY STATE, aligned; the state is last so a
    /// long failure message does not push the other columns.
    static func table(_ entries: [PluginRegistry.Entry]) -> String {
        let header = ["KIND", "NAME", "VERSION", "ABI", "PATH", "CONFIG KEY", "STATE"]
        let rows = entries.map { entry in
            [entry.kind.rawValue, entry.name ?? "-", entry.pluginVersion ?? "-", entry.abiVersion ?? "-",
             entry.path ?? "-", entry.configKey, state(entry)]
        }
        return alignedTable([header] + rows)
    }

    /// `{"ok": Bool, "plugins": [{kind, name, version, abi_version, path, config_key,
    /// config_path, state: "loaded"|"failed", error}]}`; unknown values are null.
    static func json(_ entries: [PluginRegistry.Entry]) -> String {
        let plugins: [[String: Any]] = entries.map { entry in
            let error = failure(entry)
            return [
                "kind": entry.kind.rawValue, "name": entry.name ?? NSNull(),
                "version": entry.pluginVersion ?? NSNull(), "abi_version": entry.abiVersion ?? NSNull(),
                "path": entry.path ?? NSNull(), "config_key": entry.configKey, "config_path": entry.configPath,
                "state": error == nil ? (entry.state == .closed ? "closed" : "loaded") : "failed",
                "error": error ?? NSNull(),
            ]
        }
        return prettyJSON(["ok": !entries.contains { failure($0) != nil }, "plugins": plugins])
    }
}

/// `acmeeh plugins check PATH [--config JSON] [--challenge-type T] [--json]`: loads one library
/// through the host's loader (every ABI check), creates an instance and exercises it. Needs
/// no configuration file. Ends with `PASS: ...` or `FAIL: ...`; exit status 0 or 1.
struct PluginsCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load one plugin library, create an instance and exercise it (a CA signs a throwaway CSR).")

    @Argument(help: "The plugin library (a path to a .so file).")
    var path: String

    /// `-c/--config` is the global option (shared with the root command, which parses it
    /// wherever it appears); for this command it carries the instance's JSON, not a file.
    @OptionGroup(title: "Global options (here -c/--config is the instance's configuration as a JSON object, default {})")
    var globals: GlobalOptions

    @Option(name: .customLong("config-path"), help: "The config path handed to create (the plugin's messages name it).")
    var configPath: String = "config"

    @Option(name: .customLong("challenge-type"), help: "Validators: the challenge type to create the instance for (default: the first declared).")
    var challengeType: String?

    @Flag(help: "Print a JSON object instead of text.")
    var json = false

    @Flag(help: "Show the plugin's log lines down to debug level (on stderr).")
    var verbose = false

    func run() async throws {
        if globals.version {
            print("acmeeh \(AcmeehVersion.string)")
            return
        }
        AcmeehLogHandler.bootstrap(level: verbose || globals.debug ? .debug : .warning, format: .human)
        let pool = PluginThreadPool(numberOfThreads: 2)
        // A path without "/" would make dlopen search the library path instead of the file.
        let file = path.contains("/") ? path : "./" + path
        var check = PluginCheck(path: file, configJSON: globals.config ?? "{}", configPath: configPath, challengeType: challengeType)
        await check.run(pool: pool)
        try? await pool.shutdown()
        print(json ? check.jsonText() : check.text())
        if !check.passed { throw ExitCode(1) }
    }
}

/// What `plugins check` found, step by step, and its verdict.
struct PluginCheck {
    struct Step {
        var name: String
        var ok: Bool
        var detail: String
    }

    let path: String
    let configJSON: String
    let configPath: String
    let challengeType: String?

    /// Descriptor facts in print order, and the same for JSON.
    private(set) var facts: [(label: String, value: String)] = []
    private(set) var jsonFacts: [String: Any] = [:]
    private(set) var steps: [Step] = []
    private(set) var passed = false
    private(set) var verdict = ""

    /// The names the throwaway CSR asks for.
    static let names = ["plugin-check.invalid", "www.plugin-check.invalid"]

    init(path: String, configJSON: String, configPath: String, challengeType: String?) {
        self.path = path
        self.configJSON = configJSON
        self.configPath = configPath
        self.challengeType = challengeType
    }

    mutating func run(pool: PluginThreadPool) async {
        jsonFacts["path"] = path
        // The loader's kind check: try each kind; the library is opened and registered once.
        var loaded: PluginLibrary? = nil
        for kind in PluginKind.allCases {
            do throws(PluginLoadError) {
                loaded = try PluginLibrary.load(path: path, expecting: kind, configKey: "plugins check")
                break
            } catch {
                if error.cause.hasPrefix("wrong kind") { continue }
                return fail(error.description)
            }
        }
        guard let library = loaded else { return fail("plugins check: cannot load plugin \(path)") }
        describe(library)
        step("load", true, "\(library.kind) plugin \(library.name) passed the loader's ABI checks")

        var type: String? = nil
        if library.kind == .challenge {
            let declared = library.challengeTypes.map(\.challengeType)
            type = challengeType ?? declared.first
            if let type, !declared.contains(type) {
                return fail("\(library.name) does not serve \(type) (it declares \(declared.joined(separator: ", ")))")
            }
        }

        let instance: PluginInstance
        do throws(PluginLoadError) {
            instance = try await PluginInstance.create(
                library: library, configKey: "plugins check", configPath: configPath,
                configJSON: configJSON.isEmpty ? "{}" : configJSON, challengeType: type, pool: pool,
                logger: Logger(label: "acmeeh.plugin.check"))
        } catch {
            step("create", false, error.cause)
            return fail(error.description)
        }
        step("create", true, "instance created with \(configPath) = \(configJSON.isEmpty ? "{}" : configJSON)"
            + (type.map { " for \($0)" } ?? ""))
        await exercise(instance, library: library)
        await instance.close()
    }

    /// self_check, then what the kind does.
    private mutating func exercise(_ instance: PluginInstance, library: PluginLibrary) async {
        if library.descriptor.self_check != nil {
            do throws(PluginError) {
                try await instance.selfCheck(timeout: .seconds(30))
                step("self_check", true, "healthy")
            } catch {
                step("self_check", false, error.detail)
                return fail("\(library.name): self_check failed: \(error.detail)")
            }
        } else {
            step("self_check", true, "none (the plugin is always healthy)")
        }

        switch library.kind {
        case .ca:
            await exerciseCA(CAPluginInstance(instance), library: library)
        case .challenge:
            let served = ChallengePluginInstance(instance).challengeTypes.map(Self.typeText).joined(separator: "; ")
            pass("challenge validator \(library.name) loads, creates and serves \(served)")
        case .notifier:
            pass("notifier \(library.name) loads, creates and passes self_check")
        }
    }

    // MARK: - CA

    private mutating func exerciseCA(_ ca: CAPluginInstance, library: PluginLibrary) async {
        let csr: [UInt8]
        do {
            csr = try ThrowawayCSR.make(dnsNames: Self.names)
        } catch {
            return fail("cannot make a throwaway CSR: \(error)")
        }
        let timeout = Duration.seconds(30)
        var outcome: CASignOutcome
        do throws(PluginError) {
            outcome = try await ca.sign(CASignRequest(csrDER: csr, validityDays: 7), timeout: timeout)
            let giveUp = ContinuousClock.now + .seconds(60)
            while case .pending(let handle, let retryAfter) = outcome {
                guard ContinuousClock.now < giveUp else { break }
                step("sign", true, "pending; polling again in \(retryAfter)")
                try? await Task.sleep(for: min(retryAfter, .seconds(10)))
                outcome = try await ca.poll(handle: handle, timeout: timeout)
            }
        } catch {
            step("sign", false, error.detail)
            return fail("\(library.name) refused to sign a throwaway CSR: \(error.detail)")
        }
        guard case .issued(let pem, let serial, _, _) = outcome else {
            step("sign", false, "still pending after 60 s")
            return fail("\(library.name) was still pending after 60 s")
        }
        step("sign", true, "issued serial \(serial)")
        for check in ChainVerification.verify(pem: pem, serial: serial, csrDER: csr, names: Self.names) {
            step(check.name, check.ok, check.detail)
        }
        if let chain = try? CertificateChain(pem: pem) {
            let leaf = chain.leaf
            let dates = Date.ISO8601FormatStyle()
            jsonFacts["certificate"] = [
                "subject": leaf.subject, "issuer": leaf.issuer, "serial": leaf.serialHex,
                "dns_names": leaf.dnsNames, "ip_addresses": leaf.ipAddresses,
                "not_before": dates.format(leaf.notBefore), "not_after": dates.format(leaf.notAfter),
                "chain_length": chain.count, "pem": pem,
            ] as [String: Any]
        }
        if let failed = steps.first(where: { !$0.ok }) {
            return fail("\(library.name) signed, but the certificate is wrong: \(failed.name): \(failed.detail)")
        }
        var crlVerified = false
        if ca.canSignCRL {
            do throws(PluginError) {
                let der = try await ca.signCRL(CRLVerification.request(serialHex: serial, now: Int64(Date().timeIntervalSince1970)),
                                               timeout: timeout)
                let check = CRLVerification.verify(der: der, chainPEM: pem, serialHex: serial)
                step(check.name, check.ok, check.detail)
                if !check.ok { return fail("\(library.name) signed a wrong CRL: \(check.detail)") }
                crlVerified = true
            } catch where error.code == .unsupported {
                // ca_sign_crl is there, but this instance's configuration signs no CRLs (CAExternal without crl_url).
                step("crl", true, "none (\(error.detail))")
            } catch {
                step("crl", false, error.detail)
                return fail("\(library.name) refused to sign a CRL: \(error.detail)")
            }
        } else {
            step("crl", true, "none (the plugin has no ca_sign_crl)")
        }
        if library.signsPrecertificates {
            let check = await PrecertificateVerification.check(ca, csr: csr, timeout: timeout)
            step(check.name, check.ok, check.detail)
            if !check.ok { return fail("\(library.name) breaks the precertificate contract: \(check.detail)") }
        }
        pass("CA \(library.name) signed a throwaway CSR; the certificate carries the CSR's names and key and verifies against its issuer"
            + (crlVerified ? "; the CRL it signed verifies too" : "")
            + (library.signsPrecertificates ? "; its precertificate and SCT certificate keep the RFC 6962 contract" : ""))
    }

    // MARK: - report

    private mutating func describe(_ library: PluginLibrary) {
        let d = library.descriptor
        let functions: [(String, Bool)] = [
            ("create", d.create != nil), ("destroy", d.destroy != nil), ("buffer_free", d.buffer_free != nil),
            ("self_check", d.self_check != nil), ("ca_sign", d.ca_sign != nil), ("ca_poll", d.ca_poll != nil),
            ("ca_revoke", d.ca_revoke != nil), ("challenge_validate", d.challenge_validate != nil),
            ("challenge_cleanup", d.challenge_cleanup != nil), ("notifier_deliver", d.notifier_deliver != nil),
            ("ca_sign_crl", d.ca_sign_crl != nil),
        ]
        let present = functions.filter(\.1).map(\.0)
        let optional = library.optionalFunctions
        facts = [
            ("plugin", library.path), ("name", library.name), ("kind", library.kind.description),
            ("version", library.version),
            ("ABI", "built for \(library.abiVersionText) (minor \(library.abiMinor)); host \(HostABI.text(HostABI.version)); descriptor \(library.descriptorSize) bytes"),
            ("description", library.summary), ("functions", present.joined(separator: " ")),
            ("optional", optional.map { "\($0.name) \($0.present ? "present" : "absent")" }.joined(separator: ", ")),
        ]
        if library.kind == .ca {
            facts.append(("features", library.features.isEmpty ? "none" : library.features.joined(separator: " ")))
            jsonFacts["features"] = library.features
        }
        if library.kind == .challenge {
            facts.append(("challenge types", library.challengeTypes.map(Self.typeText).joined(separator: "; ")))
            jsonFacts["challenge_types"] = library.challengeTypes.map { type -> [String: Any] in
                ["type": type.challengeType, "identifier_types": Self.identifierTypes(type), "uses_token": type.usesToken]
            }
        }
        jsonFacts["name"] = library.name
        jsonFacts["kind"] = library.kind.rawValue
        jsonFacts["version"] = library.version
        jsonFacts["abi_version"] = library.abiVersionText
        jsonFacts["abi_minor"] = Int(library.abiMinor)
        jsonFacts["optional_functions"] = Dictionary(uniqueKeysWithValues: optional.map { ($0.name, $0.present) })
        jsonFacts["host_abi_version"] = HostABI.text(HostABI.version)
        jsonFacts["descriptor_size"] = Int(library.descriptorSize)
        jsonFacts["description"] = library.summary
        jsonFacts["functions"] = present
    }

    static func identifierTypes(_ type: ChallengeTypeInfo) -> [String] {
        (type.supportsDNS ? ["dns"] : []) + (type.supportsIP ? ["ip"] : [])
    }

    /// `http-01 (identifiers: dns, ip; token)`.
    static func typeText(_ type: ChallengeTypeInfo) -> String {
        "\(type.challengeType) (identifiers: \(identifierTypes(type).joined(separator: ", ")); \(type.usesToken ? "token" : "no token"))"
    }

    private mutating func step(_ name: String, _ ok: Bool, _ detail: String) {
        steps.append(Step(name: name, ok: ok, detail: detail))
    }

    private mutating func pass(_ message: String) {
        passed = true
        verdict = "PASS: \(message)"
    }

    private mutating func fail(_ message: String) {
        passed = false
        verdict = "FAIL: \(message)"
    }

    func text() -> String {
        let width = facts.map(\.label.count).max() ?? 0
        var lines = facts.map { $0.label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.value }
        lines += steps.map { "[\($0.ok ? "ok" : "FAIL")] \($0.name): \($0.detail)" }
        lines.append(verdict)
        return lines.joined(separator: "\n")
    }

    /// The facts, `checks: [{name, ok, detail}]`, `verdict: "PASS"|"FAIL"` and `message`.
    func jsonText() -> String {
        var object = jsonFacts
        object["checks"] = steps.map { ["name": $0.name, "ok": $0.ok, "detail": $0.detail] as [String: Any] }
        object["verdict"] = passed ? "PASS" : "FAIL"
        object["message"] = String(verdict.drop { $0 != " " }.dropFirst())
        return prettyJSON(object)
    }
}

/// Checks of a chain a CA plugin returned, with OpenSSL: it parses, the leaf carries the CSR's
/// names and key, the serial is the one reported, and each certificate's signature verifies
/// with the key of the next one.
enum ChainVerification {
    struct Check {
        var name: String
        var ok: Bool
        var detail: String
    }

    static func verify(pem: String, serial: String, csrDER: [UInt8], names: [String]) -> [Check] {
        let leaf: CertificateChain.Leaf
        do {
            leaf = try CertificateChain(pem: pem).leaf
        } catch {
            return [Check(name: "chain", ok: false, detail: "does not parse: \(error)")]
        }
        var checks = [Check(name: "chain", ok: true, detail: "subject \(leaf.subject), issuer \(leaf.issuer)")]

        let sans = leaf.dnsNames.map { "DNS:\($0)" } + leaf.ipAddresses.map { "IP:\($0)" }
        let namesMatch = Set(leaf.dnsNames) == Set(names) && leaf.ipAddresses.isEmpty
        checks.append(Check(name: "SANs", ok: namesMatch,
                            detail: namesMatch ? "\(sans.joined(separator: ", ")) (as in the CSR)"
                                : "\(sans.joined(separator: ", ")); the CSR asked for \(names.map { "DNS:\($0)" }.joined(separator: ", "))"))

        let keyMatches = csrPublicKeyInfo(csrDER) == leaf.subjectPublicKeyInfo
        checks.append(Check(name: "key", ok: keyMatches,
                            detail: keyMatches ? "the CSR's public key" : "the certificate's key is not the CSR's"))

        // The same number: a plugin may report it without the leading zero of a whole-byte hex.
        let serialMatches = CertificateID.normalisedSerial(leaf.serialHex) == CertificateID.normalisedSerial(serial)
        checks.append(Check(name: "serial", ok: serialMatches,
                            detail: serialMatches ? leaf.serialHex : "the plugin reported \(serial), the certificate has \(leaf.serialHex)"))

        let now = Date()
        let dates = Date.ISO8601FormatStyle()
        let current = leaf.notBefore <= now.addingTimeInterval(300) && leaf.notAfter > now
        checks.append(Check(name: "validity", ok: current,
                            detail: "\(dates.format(leaf.notBefore)) to \(dates.format(leaf.notAfter))"
                                + (current ? "" : " does not cover now")))

        checks.append(signatureCheck(pem))
        return checks
    }

    /// X509_verify of each certificate with the public key of the one after it.
    static func signatureCheck(_ pem: String) -> Check {
        let certificates = parseAll(pem)
        defer { certificates.forEach { X509_free($0) } }
        guard certificates.count >= 2 else {
            return Check(name: "signature", ok: true, detail: "the chain holds no issuer certificate: not checked")
        }
        for index in 0..<(certificates.count - 1) {
            guard let issuerKey = X509_get0_pubkey(certificates[index + 1]),
                  X509_verify(certificates[index], issuerKey) == 1 else {
                ERR_clear_error()
                return Check(name: "signature", ok: false,
                             detail: "certificate #\(index + 1) of the chain does not verify with the key of #\(index + 2)")
            }
        }
        let links = certificates.count - 1
        return Check(name: "signature", ok: true,
                     detail: "the leaf verifies with its issuer's key" + (links > 1 ? " (and \(links - 1) more link\(links > 2 ? "s" : ""))" : ""))
    }

    private static func parseAll(_ pem: String) -> [OpaquePointer] {
        // BIO_new_mem_buf does not copy: the BIO must not outlive the buffer's closure.
        Array(pem.utf8).withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return [] }
            defer { BIO_free(bio) }
            var certificates: [OpaquePointer] = []
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) { certificates.append(certificate) }
            ERR_clear_error()
            return certificates
        }
    }

    private static func csrPublicKeyInfo(_ der: [UInt8]) -> [UInt8]? {
        der.withUnsafeBufferPointer { buffer -> [UInt8]? in
            var cursor = buffer.baseAddress
            guard let request = d2i_X509_REQ(nil, &cursor, buffer.count) else { return nil }
            defer { X509_REQ_free(request) }
            guard let key = X509_REQ_get0_pubkey(request) else { return nil }
            return CertificateChain.subjectPublicKeyInfo(of: key)
        }
    }
}

/// Rows as columns separated by two spaces, the last column unpadded.
func alignedTable(_ rows: [[String]]) -> String {
    guard let columns = rows.first?.count else { return "" }
    let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { column, cell in
            column == columns - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}

/// Pretty, key-sorted JSON without escaped slashes (paths stay readable).
func prettyJSON(_ object: [String: Any]) -> String {
    guard let data = try? JSONSerialization.data(
        withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}
