#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Yams

/// Loads a configuration file (YAML, or JSON as a subset of YAML): substitutes
/// `${VAR}` references, reads every section, runs the cross-field checks and the key
/// policy (`ConfigKeyCatalog`), and either returns the typed `AppConfig` (with its startup
/// warnings) or throws a `ConfigError` listing every problem.
enum ConfigLoader {
    static func load(path: String, environment: [String: String]) throws -> AppConfig {
        try load(yaml: readFile(path), source: path, environment: environment)
    }

    /// `source` names the text in problems (a file path, or e.g. `"<test>"`). Pass `diagnostics`
    /// to see afterwards which keys the readers asked for (`consultedKeys`).
    static func load(yaml: String, source: String, environment: [String: String],
                     diagnostics: ConfigDiagnostics? = nil) throws -> AppConfig {
        let diagnostics = diagnostics ?? ConfigDiagnostics(source: source)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(problems: [syntaxProblem(error, source: source)])
        }
        let document = root.map { ConfigTreeBuilder(environment: environment, diagnostics: diagnostics).build($0, path: "") }
            ?? .mapping([], line: 1)
        if case .mapping = document {} else {
            diagnostics.add(path: "", line: document.line, "the configuration must be a mapping of sections, found \(document.kindDescription)")
            throw ConfigError(problems: diagnostics.sortedProblems)
        }
        let reader = ConfigObjectReader(node: document, path: "", line: 1, diagnostics: diagnostics)
        var config = AppConfig(reading: reader, document: document)
        ConfigCrossChecks(config: config, diagnostics: diagnostics).run()
        config.warnings = ConfigKeyPolicy(config: config, diagnostics: diagnostics).run()
        if !diagnostics.problems.isEmpty {
            throw ConfigError(problems: diagnostics.sortedProblems)
        }
        return config
    }

    private static func syntaxProblem(_ error: Error, source: String) -> ConfigProblem {
        guard let yamlError = error as? YamlError else {
            return ConfigProblem(file: source, line: nil, path: "", message: "cannot parse: \(error)")
        }
        switch yamlError {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let detail = context.map { "\($0.text) (line \($0.mark.line)): " } ?? ""
            return ConfigProblem(file: source, line: mark.line, path: "", message: "YAML syntax error: \(detail)\(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            return ConfigProblem(file: source, line: context.mark.line, path: "", message: "duplicate key \(keys) in one mapping")
        default:
            return ConfigProblem(file: source, line: nil, path: "", message: "cannot parse: \(yamlError)")
        }
    }

    /// Reads the whole file, or throws one problem that names the file and the OS error.
    private static func readFile(_ path: String) throws(ConfigError) -> String {
        func failure(_ message: String) -> ConfigError {
            ConfigError(problems: [ConfigProblem(file: path, line: nil, path: "", message: message)])
        }
        func osFailure(_ what: String) -> ConfigError {
            failure("cannot \(what) the configuration file: \(String(cString: strerror(errno)))")
        }
        guard let file = fopen(path, "rb") else { throw osFailure("open") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n > 0 { bytes += buffer[0..<n] }
            if n < buffer.count {
                if ferror(file) != 0 { throw osFailure("read") }
                break
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw failure("the configuration file is not valid UTF-8")
        }
        return text
    }
}
