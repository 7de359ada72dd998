import Foundation
import PluginAPI
import PluginKit
import CCurl

/// A CA behind an HTTPS signing API (Vault/EJBCA-style): `ca.external`.
nonisolated(unsafe) let descriptor = PluginDescriptor.ca(
    name: "CAExternal", version: "0.2.0",
    description: "External CA over an HTTPS signing API (ca.external), libcurl",
    create: { createInstance(CAExternal.self, $0, $1, $2) }, crl: true)

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

/// One `ca.external` instance: sign POSTs `{csr, profile, validity_days}` to `sign_url`
/// and reads `{certificate_chain}`; revoke POSTs `{serial_number, reason?}` to `revoke_url`;
/// signCRL (CRLSigning.swift) POSTs the CRL draft to `crl_url`, and is UNSUPPORTED without it.
/// Holds only immutable configuration; every call uses its own libcurl handle.
final class CAExternal: CAInstance {
    let config: CAExternalConfig
    let path: String
    let log: HostLog
    let http: ExternalHTTP

    init(_ context: CreateContext) throws {
        config = try context.decodeConfig(CAExternalConfig.self)
        path = context.configPath
        log = context.log
        http = ExternalHTTP(config: config, configPath: context.configPath)
        guard curlGlobalInit == CURLE_OK else {
            throw PluginError.internal("\(context.configPath): libcurl failed to initialise")
        }
        for (key, file) in [("ca_cert_path", config.caCertPath), ("client_cert_path", config.clientCertPath),
                            ("client_key_path", config.clientKeyPath)] {
            if let file, access(file, R_OK) != 0 {
                throw PluginError.config("\(context.configPath).\(key): cannot read \(file): \(String(cString: strerror(errno)))")
            }
        }
        if config.signURL.lowercased().hasPrefix("http://") {
            context.log.warning("\(context.configPath).sign_url uses plain http: CSRs and credentials travel unencrypted")
        }
        if config.crlURL?.lowercased().hasPrefix("http://") == true {
            context.log.warning("\(context.configPath).crl_url uses plain http: credentials travel unencrypted")
        }
    }

    func sign(_ request: SignRequest) throws -> SignOutcome {
        try request.deadline.check("signing")
        var body: [String: Any] = [
            "csr": pem(der: request.csrDER, label: "CERTIFICATE REQUEST"),
            "profile": request.profile,
            "validity_days": Int(request.validityDays),
        ]
        if body["profile"] as? String == "" { body["profile"] = "default" }
        let json = try encode(body)
        let answer = try withRetries("signing", deadline: request.deadline) { () throws(PluginError) -> [UInt8] in
            try post(config.signURL, json, deadline: request.deadline, what: "sign")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any],
              let chain = object["certificate_chain"] as? String, !chain.isEmpty else {
            throw PluginError.internal("the signing API answered 2xx without a certificate_chain string")
        }
        let leaf = try LeafInfo(chainPEM: chain, csrDER: request.csrDER)
        log.debug("issued serial \(leaf.serialHex) through the signing API (profile \(request.profile))")
        let normalised = chain.hasSuffix("\n") ? chain : chain + "\n"
        return .issued(pemChain: normalised, serialHex: leaf.serialHex, notBefore: leaf.notBefore, notAfter: leaf.notAfter)
    }

    /// The host has recorded the revocation; without a revoke_url that is all there is to do.
    func revoke(_ request: RevokeRequest) throws {
        guard let revokeURL = config.revokeURL else {
            log.info("revocation of serial \(request.serialHex): no revoke_url, recorded by the host only")
            return
        }
        var body: [String: Any] = ["serial_number": request.serialHex]
        if let reason = request.reason { body["reason"] = Int(reason) }
        let json = try encode(body)
        _ = try withRetries("revoking", deadline: request.deadline) { () throws(PluginError) -> [UInt8] in
            try post(revokeURL, json, deadline: request.deadline, what: "revoke")
        }
        log.info("revocation of serial \(request.serialHex) accepted by the revoke API")
    }

    /// Reachability, not signing: a HEAD to sign_url must get an HTTP answer (any
    /// status below 500, e.g. 405 Method Not Allowed) over a connection that passed TLS
    /// verification and mutual TLS. A network/TLS failure or a 5xx fails the check.
    func selfCheck(deadline: Deadline) throws {
        let timeout = deadline.remainingMilliseconds(cappedAt: Int64(config.timeoutSeconds) * 1000)
        guard timeout > 0 else { throw PluginError.deadline("the deadline passed before the self-check") }
        switch http.perform(method: "HEAD", url: config.signURL, body: nil, timeoutMs: timeout) {
        case .response(let status, _) where status < 500:
            return
        case .response(let status, _):
            throw PluginError.unavailable("\(path).sign_url: the signing API answered HTTP \(status) to a HEAD")
        case .failed(let message, _):
            throw PluginError.unavailable("\(path).sign_url: the signing API is unreachable: \(message)")
        case .tlsRefused(let detail):
            throw PluginError.config("\(path).sign_url: TLS to the signing API failed: \(detail)")
        }
    }

    // MARK: - HTTP

    /// One POST; the answer's body on 2xx, otherwise the error the status or failure maps to.
    func post(_ url: String, _ json: [UInt8], deadline: Deadline, what: String,
              maxBytes: Int = ExternalHTTP.maxBytes) throws(PluginError) -> [UInt8] {
        let timeout = deadline.remainingMilliseconds(cappedAt: Int64(config.timeoutSeconds) * 1000)
        guard timeout > 0 else { throw PluginError.deadline("the deadline passed before the \(what) request") }
        switch http.perform(method: "POST", url: url, body: json, timeoutMs: timeout, maxBytes: maxBytes) {
        case .failed(let message, let timedOut):
            if timedOut && deadline.hasPassed {
                throw PluginError.deadline("the \(what) API did not answer before the deadline: \(message)")
            }
            throw PluginError.unavailable("the \(what) API is unreachable: \(message)")
        case .tlsRefused(let detail):
            // Final: a trust or client-certificate problem is fixed in the configuration, not by retrying.
            throw PluginError.config("\(path): TLS to the \(what) API failed: \(detail)")
        case .response(let status, let body):
            switch status {
            case 200..<300:
                return body
            case 429, 500..<600:
                throw PluginError.unavailable("the \(what) API answered HTTP \(status)\(Self.detailSuffix(body))")
            case 400..<500:
                let problem = Self.problem(body)
                let type = problem.type ?? (status == 400 && what == "sign" ? ProblemType.badCSR : ProblemType.serverInternal)
                let detail = problem.detail ?? "the \(what) API refused the request with HTTP \(status)"
                throw PluginError.rejected(detail, problemType: type)
            default:
                throw PluginError.internal("the \(what) API answered an unexpected HTTP \(status)")
            }
        }
    }

    /// Runs `attempt`, then up to `max_retries` more times on a retryable error, after
    /// `retry_delay_seconds`·2^n, never sleeping past the deadline.
    func withRetries<T>(_ doing: String, deadline: Deadline,
                        _ attempt: () throws(PluginError) -> T) throws(PluginError) -> T {
        var retry = 0
        while true {
            do {
                return try attempt()
            } catch {
                guard error.retryable, retry < config.maxRetries else { throw error }
                let delayMs = Int64(config.retryDelaySeconds * 1000 * pow(2, Double(retry)))
                guard delayMs < deadline.remainingMilliseconds else { throw error }
                log.warning("\(doing) failed (\(error.detail)); retry \(retry + 1) of \(config.maxRetries) in \(delayMs) ms")
                if delayMs > 0 { usleep(useconds_t(min(delayMs, 3_600_000) * 1000)) }
                retry += 1
            }
        }
    }

    /// `type` when it is an ACME problem URN, and `detail`, from a JSON error body.
    static func problem(_ body: [UInt8]) -> (type: String?, detail: String?) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return (nil, nil) }
        let type = (object["type"] as? String).flatMap { $0.hasPrefix("urn:ietf:params:acme:error:") ? $0 : nil }
        let detail = (object["detail"] as? String).map { String($0.prefix(512)) }
        return (type, detail)
    }

    private static func detailSuffix(_ body: [UInt8]) -> String {
        problem(body).detail.map { ": \($0)" } ?? ""
    }

    func encode(_ object: [String: Any]) throws(PluginError) -> [UInt8] {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            throw PluginError.internal("cannot encode the request as JSON")
        }
        return Array(data)
    }
}

/// PEM text of DER bytes (RFC 7468: base64 in lines of 64).
func pem(der: [UInt8], label: String) -> String {
    let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
    return "-----BEGIN \(label)-----\n\(base64)\n-----END \(label)-----\n"
}
