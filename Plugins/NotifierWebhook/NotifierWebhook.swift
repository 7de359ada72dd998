#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCurl
import PluginAPI
import PluginKit

/// Notifications POSTed as JSON to a URL: `notifications.channels[].type: webhook`.
nonisolated(unsafe) let descriptor = PluginDescriptor.notifier(
    name: "NotifierWebhook", version: "0.1.0",
    description: "JSON POST to an http(s) URL, HMAC-SHA256 signed, libcurl",
    create: { createInstance(NotifierWebhook.self, $0, $1, $2) })

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

/// One webhook channel: each delivery POSTs the notification's payload JSON, byte for
/// byte, with X-Acmeeh-Event (the event name) and, when `secret` is set,
/// X-Acmeeh-Signature over the body. Any 2xx accepts it.
/// Holds immutable configuration and a pool of libcurl handles (each delivery has one to
/// itself while it runs).
final class NotifierWebhook: NotifierInstance {
    let config: WebhookConfig
    let path: String
    let log: HostLog
    let http: WebhookHTTP

    init(_ context: CreateContext) throws {
        config = try context.decodeConfig(WebhookConfig.self)
        path = context.configPath
        log = context.log
        http = WebhookHTTP(config: config)
        guard curlGlobalInit == CURLE_OK else {
            throw PluginError.internal("\(context.configPath): libcurl failed to initialise")
        }
        if let file = config.caFile, access(file, R_OK) != 0 {
            throw PluginError.config("\(context.configPath).ca_file: cannot read \(file): \(String(cString: strerror(errno)))")
        }
        if config.url.lowercased().hasPrefix("http://") {
            context.log.warning("\(context.configPath).url uses plain http: notifications travel unencrypted")
        }
    }

    func deliver(_ message: NotifierMessage) throws {
        let timeoutMs = message.deadline.remainingMilliseconds(cappedAt: Int64(config.timeoutSeconds) * 1000)
        guard timeoutMs > 0 else { throw PluginError.deadline("the deadline passed before POSTing to the webhook") }
        let body = Array(message.payloadJSON.utf8)
        let event = String(message.event.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F })
        var headers = ["X-Acmeeh-Event: \(event)"]
        if let secret = config.secret {
            guard let signature = WebhookSignature.value(secret: secret, body: body) else {
                throw PluginError.internal("OpenSSL could not compute the HMAC-SHA256 signature")
            }
            headers.append("\(WebhookSignature.headerName): \(signature)")
        }
        switch http.post(body, headers: headers, timeoutMs: timeoutMs) {
        case .response(let status, _) where (200...299).contains(status):
            log.debug("\(message.event): the webhook answered \(status)")
        case .response(let status, let answer):
            throw failure(status: status, answer: answer)
        case .failed(let code, let text):
            throw failure(code, text, deadline: message.deadline)
        }
    }

    /// An HTTP answer other than 2xx. RFC 9110 §15: 5xx, 408 and 429 may pass, other
    /// statuses (3xx included: redirects are not followed) will not.
    private func failure(status: Int, answer: [UInt8]) -> PluginError {
        let excerpt = String(decoding: answer.prefix(200), as: UTF8.self)
            .unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : String($0) }.joined()
            .trimmingSpaces()
        let detail = "the webhook answered HTTP \(status)" + (excerpt.isEmpty ? "" : ": \(excerpt)")
        if status >= 500 || status == 408 || status == 429 { return .unavailable(detail) }
        return .rejected(detail)
    }

    /// No HTTP answer: TLS trust is a configuration problem, the rest may pass.
    private func failure(_ code: CURLcode, _ text: String, deadline: Deadline) -> PluginError {
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            let trust = config.caFile.map { "\(path).ca_file (\($0))" } ?? "the system's trusted CAs (set \(path).ca_file)"
            return .config("the webhook's certificate did not verify against \(trust): \(text)")
        case CURLE_OPERATION_TIMEDOUT:
            if deadline.hasPassed { return .deadline("the deadline passed while POSTing to the webhook: \(text)") }
            return .unavailable("the webhook did not answer within \(config.timeoutSeconds) s: \(text)")
        default:
            return .unavailable("the webhook could not be reached: \(text)")
        }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
