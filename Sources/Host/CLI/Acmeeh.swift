import ArgumentParser
import Foundation
import Logging

/// `acmeeh -c CONFIG [--debug] [--validate-only] [--dev] [-v] [COMMAND]`; no command means `serve`.
@main
struct Acmeeh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acmeeh",
        abstract: "An ACME (RFC 8555) server for internal PKI.",
        subcommands: [Serve.self, DB.self, CA.self, CRLCommand.self, EAB.self, AdminCommand.self, Maintenance.self,
                      PluginsCommand.self, RevocationsCommand.self, Inspect.self],
        defaultSubcommand: Serve.self
    )

    @OptionGroup var globals: GlobalOptions
}

/// What every command does first: `--version`, loading the configuration,
/// `--validate-only`, and logging set-up. Errors leave through `fail`.
struct Invocation {
    let globals: GlobalOptions
    let config: AppConfig

    /// Returns nil when the invocation is complete (version printed, config validated).
    static func start(_ globals: GlobalOptions) -> Invocation? {
        if globals.version {
            print("acmeeh \(AcmeehVersion.string)")
            return nil
        }
        guard let path = globals.config else {
            fail("no configuration file: pass -c/--config PATH", globals: globals)
        }
        let config: AppConfig
        do {
            config = try ConfigLoader.load(path: path, environment: ProcessInfo.processInfo.environment)
        } catch {
            fail("\(error)", globals: globals)
        }
        if globals.validateOnly {
            for warning in config.warnings {
                FileHandle.standardError.write(Data("acmeeh: warning: \(warning)\n".utf8))
            }
            print("configuration OK")
            return nil
        }
        let level: Logger.Level = globals.debug || globals.dev
            ? .debug : Logger.Level(config.logging.level)
        AcmeehLogHandler.bootstrap(level: level, format: globals.dev || config.logging.format == .human ? .human : .json)
        return Invocation(globals: globals, config: config)
    }

    func fail(_ error: any Error) -> Never {
        Self.fail("\(error)", debugDetail: String(reflecting: error), globals: globals)
    }

    static func fail(_ message: String, debugDetail: String? = nil, globals: GlobalOptions) -> Never {
        FileHandle.standardError.write(Data("acmeeh: \(message)\n".utf8))
        if globals.debug, let debugDetail, debugDetail != message {
            FileHandle.standardError.write(Data("acmeeh: debug: \(debugDetail)\n".utf8))
        }
        exit(1)
    }
}

extension Logger.Level {
    /// Maps `logging.level` (Python's level names) to swift-log's.
    init(_ level: LoggingConfig.Level) {
        switch level {
        case .debug: self = .debug
        case .info: self = .info
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}
