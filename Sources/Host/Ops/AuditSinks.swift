import Foundation
import Logging

/// Where a serving process sends its audit records besides the main log: the rotating file
/// (`logging.audit.file`), the local syslog daemon (`logging.audit.syslog`) and a remote
/// collector (`audit_export.syslog_host`). Without a file, the records are lines of the
/// main log.
struct AuditSinks: Sendable {
    var file: AuditLogFile?
    var syslogs: [AuditSyslog]

    /// Opens what `config` names; throws a message naming the key of what cannot be opened.
    /// `localSyslog` is the daemon's socket (tests point it elsewhere).
    static func open(_ config: AppConfig, localSyslog: String = "/dev/log",
                     report: @escaping @Sendable (String) -> Void) throws -> AuditSinks {
        let audit = config.logging.audit
        var sinks = AuditSinks(file: nil, syslogs: [])
        guard audit.enabled else { return sinks }
        if let path = audit.file {
            do {
                sinks.file = try AuditLogFile(path: path, maxBytes: audit.maxFileSizeBytes, backups: audit.backupCount,
                                              report: report)
            } catch {
                throw AuditSinkError("logging.audit.file: \(error)")
            }
        }
        if audit.syslog {
            do {
                sinks.syslogs.append(try AuditSyslog(.local(path: localSyslog), report: report))
            } catch {
                throw AuditSinkError("logging.audit.syslog: \(error)")
            }
        }
        if let host = config.auditExport.syslogHost {
            do {
                sinks.syslogs.append(try AuditSyslog(.remote(host: host, port: config.auditExport.syslogPort), report: report))
            } catch {
                throw AuditSinkError("audit_export.syslog_host: \(error)")
            }
        }
        return sinks
    }

    /// Hands one record to every sink.
    func write(_ line: String) {
        file?.append(line)
        for syslog in syslogs { syslog.send(line) }
    }

    /// Writes what is queued and closes the file.
    func close() async {
        await file?.close()
    }
}
