import ArgumentParser
import Foundation

/// The flags every `acmeeh` invocation accepts before or after its command
/// (the global flags of the reference ACMEEH 2.1).
struct GlobalOptions: ParsableArguments {
    @Option(name: [.short, .customLong("config")], help: "Configuration file path (required).")
    var config: String?

    @Flag(help: "Debug logging and full error details.")
    var debug = false

    @Flag(name: .customLong("validate-only"), help: "Validate the configuration and exit.")
    var validateOnly = false

    @Flag(help: "Development mode: human-readable logs at debug level.")
    var dev = false

    @Flag(name: [.short, .customLong("version")], help: "Show the version and exit.")
    var version = false
}
