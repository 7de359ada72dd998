import ArgumentParser

/// `acmeeh revocations retry`: the revocations a CA backend refused for good (kept as
/// `failed` in the revocation outbox, `/healthz` `checks.revocations`) are tried again by
/// the revocation forwarder at the next poll of any instance, once their cause is fixed.
struct RevocationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revocations", abstract: "Revocations the CA backend has not confirmed.",
        subcommands: [RevocationsRetry.self])
}

struct RevocationsRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Send the revocations a CA backend refused for good to it again.")

    @OptionGroup var globals: GlobalOptions

    func run() async throws {
        guard let invocation = Invocation.start(globals) else { return }
        do {
            let queued = try await EAB.withStore(invocation.config) { try $0.retryFailedRevocations() }
            print("\(queued) failed revocation(s) queued for another attempt")
        } catch {
            invocation.fail(CLIError("revocations retry: \(error)"))
        }
    }
}
