#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCurl
import PluginAPI
import PluginKit

/// Mail notifications over SMTP: `notifications.channels[].type: smtp`.
nonisolated(unsafe) let descriptor = PluginDescriptor.notifier(
    name: "NotifierSMTP", version: "0.1.0",
    description: "Mail over SMTP (STARTTLS or implicit TLS, AUTH), libcurl",
    create: { createInstance(NotifierSMTP.self, $0, $1, $2) })

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

/// One smtp channel: each delivery is one mail to the notification's recipients (To),
/// the configured cc (Cc) and bcc (envelope only), in one SMTP transaction.
/// Holds only immutable configuration; every delivery uses its own libcurl handle.
final class NotifierSMTP: NotifierInstance {
    let config: SMTPConfig
    let log: HostLog
    let transport: SMTPTransport

    init(_ context: CreateContext) throws {
        config = try context.decodeConfig(SMTPConfig.self)
        log = context.log
        transport = SMTPTransport(config: config, configPath: context.configPath)
        guard curlGlobalInit == CURLE_OK else {
            throw PluginError.internal("\(context.configPath): libcurl failed to initialise")
        }
        if let file = config.caFile, access(file, R_OK) != 0 {
            throw PluginError.config("\(context.configPath).ca_file: cannot read \(file): \(String(cString: strerror(errno)))")
        }
        if !config.useTLS {
            let what = config.username == nil ? "mail travels" : "the password and mail travel"
            context.log.warning("\(context.configPath).use_tls is false: \(what) unencrypted to \(transport.server)")
        }
    }

    func deliver(_ message: NotifierMessage) throws {
        try message.deadline.check("sending mail")
        for (index, recipient) in message.recipients.enumerated() {
            if let problem = MailAddress.problem(recipient) {
                throw PluginError.invalidInput("recipient \(index) \(problem)")
            }
        }
        let to = unique(message.recipients)
        let envelope = unique(to + config.cc + config.bcc)
        guard !envelope.isEmpty else {
            throw PluginError.invalidInput("no recipients: the notification has none and cc and bcc are empty")
        }
        let id = randomHex(16)
        let mail = MailMessage(
            from: config.fromAddress, to: to, cc: config.cc, subject: message.subject, text: message.body,
            html: message.bodyHTML, event: message.event, date: Int64(time(nil)), unique: id)
        try transport.send(mail.rendered(), from: config.fromAddress, recipients: envelope, deadline: message.deadline)
        log.debug("\(message.event): mail \(mail.messageID) accepted by \(transport.server) for \(envelope.count) recipient(s)")
    }

    /// `addresses` without repeats (compared case-insensitively), in their first order.
    private func unique(_ addresses: [String]) -> [String] {
        var seen = Set<String>()
        return addresses.filter { seen.insert($0.lowercased()).inserted }
    }

    private func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }
}
