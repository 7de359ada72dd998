import CCurl

/// A TLS failure that is a configuration problem, not an outage: the signing API's
/// certificate does not verify against the trusted CAs (`ca_cert_path`), the client
/// certificate cannot be used, or the server refused the client's certificate (or its
/// absence) with a TLS alert. Retrying cannot help, so these are final errors that name
/// the key to fix; resets, refused connections and timeouts stay retryable.
struct TLSRefusal {
    /// What went wrong and which key to look at, then libcurl's own message.
    let detail: String

    /// Alerts a server sends when it does not accept the client's certificate (RFC 8446
    /// §6.2); a TLS 1.2 server refusing a missing certificate sends handshake_failure.
    static let clientCertificateAlerts = [
        "alert certificate required", "alert bad certificate", "alert unknown ca",
        "alert certificate unknown", "alert access denied", "alert handshake failure",
    ]

    /// nil when the failure is not one of these (the caller treats it as retryable).
    init?(code: CURLcode, message: String, config: CAExternalConfig, path: String) {
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION:
            let trust = config.caCertPath.map { "\(path).ca_cert_path (\($0))" }
                ?? "the system's trusted CAs (set \(path).ca_cert_path to the CA that issued it)"
            detail = "its certificate did not verify against \(trust): \(message)"
        case CURLE_SSL_CERTPROBLEM:
            detail = "\(path).client_cert_path/client_key_path cannot be used: \(message)"
        case CURLE_SSL_CONNECT_ERROR, CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            let lowered = message.lowercased()
            guard Self.clientCertificateAlerts.contains(where: { lowered.contains($0) }) else { return nil }
            if let cert = config.clientCertPath {
                detail = "it refused the client certificate \(path).client_cert_path (\(cert)) for mutual TLS: \(message)"
            } else {
                detail = "it requires a client certificate (mutual TLS) and none is configured "
                    + "(set \(path).client_cert_path and client_key_path): \(message)"
            }
        default:
            return nil
        }
    }
}
