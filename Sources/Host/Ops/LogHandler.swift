import Foundation
import Logging

/// Writes log records to standard error, one per line, as JSON or as plain text
/// (`logging.format`). Messages and metadata are written as data, never interpreted.
struct AcmeehLogHandler: LogHandler {
    enum Format: Sendable { case json, human }

    let label: String
    let format: Format
    /// A level set on one logger; nil follows `ProcessLogLevel`.
    private var ownLevel: Logger.Level? = nil
    var logLevel: Logger.Level {
        get { ownLevel ?? ProcessLogLevel.current }
        set { ownLevel = newValue }
    }
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let time = Self.timestamp()
        let line: String
        switch format {
        case .json:
            var object: [String: Any] = [:]
            for (key, value) in merged { object[key] = value.description }
            // The four fields every line carries; metadata never replaces them.
            object["timestamp"] = time
            object["level"] = event.level.rawValue
            object["logger"] = label
            object["message"] = event.message.description
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        case .human:
            let meta = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = "\(time) \(event.level.rawValue.uppercased()) [\(label)] \(event.message)" + (meta.isEmpty ? "" : " " + meta)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// Installs this handler for the whole process at `level` (changed later through
    /// `ProcessLogLevel`). Call once, before the first logger is made.
    static func bootstrap(level: Logger.Level, format: Format) {
        ProcessLogLevel.set(level)
        LoggingSystem.bootstrap { label in
            AcmeehLogHandler(label: label, format: format)
        }
    }
}
