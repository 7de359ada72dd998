import ArgumentParser
import Foundation

extension KeyPair.Kind: ExpressibleByArgument {}

/// `acmeeh-bench`: full ACME issuance flows against any directory URL, with throughput,
/// latency percentiles per step, errors by problem type and the tool's own CPU.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acmeeh-bench",
        abstract: "Drive full ACME issuance flows (RFC 8555) against a directory and measure them.",
        discussion: """
        Each flow: new account (or one per worker with --reuse-accounts), newOrder for K names \
        f<flow>-<i>.<domain>, http-01 answered on <http01-address>:<http01-port> (no challenge \
        when an authorization is already valid), finalize with a fresh key's CSR, certificate \
        download and check. The server under test must resolve the names to <http01-address>. \
        Exit status 0 when every flow succeeded, 1 otherwise.
        """)

    @Option(help: "The ACME directory URL.") var directory: String
    @Option(help: "Flows to run.") var flows = 100
    @Option(help: "Flows in parallel (worker threads).") var concurrency = 1
    @Option(help: "DNS names per order.") var names = 1
    @Option(help: "Certificate key type: ec256 or rsa2048.") var key: KeyPair.Kind = .ec256
    @Option(help: "Suffix of the ordered names.") var domain = "bench.test"
    @Option(name: .customLong("http01-port"), help: "Port of the tool's http-01 responder.") var http01Port = 5002
    @Option(name: .customLong("http01-address"), help: "IPv4 address of the tool's http-01 responder (another loopback address lets two runs share a port).")
    var http01Address = "127.0.0.1"
    @Flag(help: "One account per worker instead of one per flow.") var reuseAccounts = false
    @Option(help: "Bound of the whole run; flows that have not finished are reported as stalled.") var timeoutSeconds = 600.0
    @Option(help: "Bound of each HTTP request.") var requestTimeoutSeconds = 30.0
    @Option(help: "Interval between polls of an authorization or order (less when Retry-After is smaller).") var pollMs = 50
    @Option(help: "PEM file of roots to trust for an https directory.") var caFile: String?
    @Flag(help: "Do not verify the server's TLS certificate.") var insecure = false
    @Flag(help: "Print one JSON object instead of the summary.") var json = false

    func validate() throws {
        guard flows >= 1, concurrency >= 1, concurrency <= 1024 else { throw ValidationError("--flows ≥ 1 and 1 ≤ --concurrency ≤ 1024") }
        guard (1...100).contains(names) else { throw ValidationError("--names must be in 1...100") }
        guard (1...65535).contains(http01Port) else { throw ValidationError("--http01-port must be in 1...65535") }
        guard timeoutSeconds > 0, requestTimeoutSeconds > 0, pollMs >= 1 else {
            throw ValidationError("--timeout-seconds, --request-timeout-seconds and --poll-ms must be positive")
        }
        guard directory.hasPrefix("http://") || directory.hasPrefix("https://") else {
            throw ValidationError("--directory must be an http:// or https:// URL")
        }
        guard !domain.isEmpty, domain.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) else {
            throw ValidationError("--domain must be a DNS name")
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        Interruption.install()
        let responder = try ChallengeResponder(port: http01Port, address: http01Address)
        let settings = BenchRun.Settings(
            directoryURL: directory, flows: flows, concurrency: min(concurrency, flows),
            reuseAccounts: reuseAccounts, timeoutSeconds: timeoutSeconds,
            requestTimeoutMs: Int(requestTimeoutSeconds * 1000), caFile: caFile, insecure: insecure,
            flow: FlowSettings(names: names, domain: domain.lowercased(), certificateKey: key, pollMs: pollMs))
        let cpuStart = ProcessCPU.now()
        let outcome = BenchRun(settings: settings, responder: responder).run()
        let report = BenchReport(settings: settings, outcome: outcome, cpu: ProcessCPU.now() - cpuStart,
                                 http01: responder.counts)
        FileHandle.standardOutput.write(Data(((json ? report.json() : report.text()) + "\n").utf8))
        // Workers stuck past the deadline's grace are abandoned with the process.
        Foundation.exit(report.clean ? 0 : 1)
    }
}
