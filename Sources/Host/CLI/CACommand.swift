import ArgumentParser
import Foundation
import Logging

/// `acmeeh ca ...`: commands that exercise the CA plugin.
struct CA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "CA backend tools.", subcommands: [TestSign.self])
}

/// `acmeeh ca test-sign [--backend NAME | --all] [--out FILE]`: signs a throwaway CSR through
/// the configured CA plugin (or, with `--all`, through `ca.backend` and every `ca.failover`
/// entry, one block each) and prints what came back.
struct TestSign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-sign", abstract: "Sign a throwaway CSR through the CA plugin and print the result.")

    @OptionGroup var globals: GlobalOptions

    @Option(help: "The backend to use instead of ca.backend: internal, external or ext:NAME_OR_PATH.")
    var backend: String?

    @Flag(help: "Sign through every configured CA: ca.backend, then each ca.failover entry. Exit status 1 if any fails.")
    var all = false

    @Option(help: "Also write the issued PEM chain to this file.")
    var out: String?

    func validate() throws {
        if all && backend != nil { throw ValidationError("--all and --backend exclude each other") }
        if all && out != nil { throw ValidationError("--out writes one chain; it cannot be combined with --all") }
    }

    func run() async throws {
        guard let invocation = Invocation.start(globals) else { return }
        if all {
            if try await signAll(invocation.config) == false { throw ExitCode(1) }
            return
        }
        do {
            try await signOnce(invocation.config)
        } catch {
            invocation.fail(error)
        }
    }

    private func signOnce(_ config: AppConfig) async throws {
        let backendRef: CABackendRef
        if let backend {
            switch CABackendRef.parse(backend) {
            case .success(let parsed): backendRef = parsed
            case .failure(let problem): throw CLIError("--backend: \(problem.message)")
            }
        } else {
            backendRef = config.ca.backend
        }
        let registry = PluginRegistry(threadPool: PluginThreadPool(numberOfThreads: 2)) { Logger(label: $0) }
        do {
            try await sign(config, backendRef, configKey: backend == nil ? "ca.backend" : "--backend", registry)
            await registry.closeAll()
        } catch {
            await registry.closeAll()
            throw error
        }
    }

    /// One block per configured backend (`== ca.backend: internal`, the details, then
    /// `result: OK` or `result: FAILED: message`) and a summary line. True when all signed.
    private func signAll(_ config: AppConfig) async throws -> Bool {
        let backends = [("ca.backend", config.ca.backend)]
            + config.ca.failover.enumerated().map { ("ca.failover[\($0.offset)]", $0.element) }
        let registry = PluginRegistry(threadPool: PluginThreadPool(numberOfThreads: 2)) { Logger(label: $0) }
        var failed: [String] = []
        for (index, (key, backendRef)) in backends.enumerated() {
            if index > 0 { print("") }
            print("== \(key): \(backendRef)")
            do {
                try await sign(config, backendRef, configKey: key, registry)
                print("result: OK")
            } catch {
                print("result: FAILED: \(error)")
                failed.append(key)
            }
        }
        await registry.closeAll()
        print("")
        print(failed.isEmpty
            ? "\(backends.count) of \(backends.count) CA backend\(backends.count == 1 ? "" : "s") signed"
            : "\(failed.count) of \(backends.count) CA backend\(backends.count == 1 ? "" : "s") failed: \(failed.joined(separator: ", "))")
        return failed.isEmpty
    }

    private func sign(_ config: AppConfig, _ backendRef: CABackendRef, configKey: String, _ registry: PluginRegistry) async throws {
        let directory = PluginReference.directory(configured: config.plugins.directory)
        let ca = try await Runtime.loadCA(backendRef, configKey: configKey,
                                          config: config, plugins: registry, directory: directory)
        let serial = try await serialFromDatabase(config, backend: backendRef)
        let names = ["acmeeh-test-sign.invalid", "www.acmeeh-test-sign.invalid"]
        let request = CASignRequest(
            csrDER: try ThrowawayCSR.make(dnsNames: names),
            validityDays: UInt32(min(config.ca.defaultValidityDays, config.ca.maxValidityDays)),
            serialHex: serial)
        let timeout = Duration.seconds(config.server.timeout)
        var outcome: CASignOutcome
        do {
            outcome = try await ca.sign(request, timeout: timeout)
            let giveUp = ContinuousClock.now + .seconds(120)
            while case .pending(let handle, let retryAfter) = outcome, ContinuousClock.now < giveUp {
                print("pending: the CA asked to poll again in \(retryAfter)")
                try await Task.sleep(for: retryAfter)
                outcome = try await ca.poll(handle: handle, timeout: timeout)
            }
        } catch {
            throw CLIError("CA plugin \(backendRef) refused to sign: \((error as? PluginError)?.detail ?? "\(error)")")
        }
        guard case .issued(let pem, _, _, _) = outcome else {
            throw CLIError("CA plugin \(backendRef) was still pending after 120 s")
        }
        let chain = try CertificateChain(pem: pem)
        let leaf = chain.leaf
        let dates = Date.ISO8601FormatStyle()
        print("backend: \(backendRef)")
        print("subject: \(leaf.subject)")
        print("SANs: \((leaf.dnsNames.map { "DNS:\($0)" } + leaf.ipAddresses.map { "IP:\($0)" }).joined(separator: ", "))")
        print("serial: \(leaf.serialHex)")
        print("not before: \(dates.format(leaf.notBefore))")
        print("not after: \(dates.format(leaf.notAfter))")
        print("issuer: \(leaf.issuer)")
        print("chain length: \(chain.count)")
        if let out {
            do {
                try pem.write(toFile: out, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError("--out \(out): \(error.localizedDescription)")
            }
            print("chain written to \(out)")
        }
    }

    /// The serial the host hands in when `ca.internal.serial_source` is `database`.
    private func serialFromDatabase(_ config: AppConfig, backend: CABackendRef) async throws -> String? {
        guard backend == .internal, config.ca.internal.serialSource == .database else { return nil }
        let database = Database(config: config.database, logger: Logger(label: "acmeeh.store"))
        do {
            try await database.start()
            _ = try await Migrator(database: database).prepareForStartup()
            let serial = try await database.nextSerial()
            await database.shutdown()
            return serial
        } catch {
            await database.shutdown()
            throw error
        }
    }
}
