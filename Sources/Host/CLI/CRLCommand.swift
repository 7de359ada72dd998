import ArgumentParser
import Foundation
import Logging

/// `acmeeh crl rebuild`: builds and publishes every CA backend's CRL now, whether due or
/// not, and prints its number, entries and nextUpdate (the servers serve it at once).
struct CRLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl", abstract: "Certificate revocation list tools.", subcommands: [CRLRebuild.self])
}

struct CRLRebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild", abstract: "Build and publish the CRL of every CA backend now.")

    @OptionGroup var globals: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let invocation = Invocation.start(globals) else { return }
        let config = invocation.config
        guard config.crl.enabled else { invocation.fail(CLIError("crl rebuild: crl.enabled is false in \(globals.config ?? "")")) }
        var published: [StoredCRL] = []
        let runtime: Runtime
        do {
            runtime = try await Runtime.start(config: config, logger: Logger(label: "acmeeh"), withValidators: false)
        } catch {
            invocation.fail(error)
        }
        do {
            if let publisher = runtime.core(urls: ACMEURLs(config: config)).crl {
                for backend in publisher.backends {
                    if let crl = try await publisher.rebuild(backend, force: true) { published.append(crl) }
                }
            }
            await runtime.close()
        } catch {
            await runtime.close()
            invocation.fail(CLIError("crl rebuild: \(error)"))
        }
        let time = Date.ISO8601FormatStyle()
        if json {
            printJSON(["crls": published.map { crl in
                ["backend": crl.backend, "crl_number": crl.number, "entries": crl.entries,
                 "this_update": crl.thisUpdate.formatted(time), "next_update": crl.nextUpdate.formatted(time)] as [String: Any]
            }])
        } else {
            for crl in published {
                print("CRL \(crl.number) of \(crl.backend): \(crl.entries) entries, next update \(crl.nextUpdate.formatted(time))")
            }
        }
    }
}
