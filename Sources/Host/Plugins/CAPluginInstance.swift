import PluginAPI

/// A request to issue one certificate (`acmeeh_ca_sign_request`).
struct CASignRequest: Sendable, Equatable {
    /// PKCS#10 DER, already checked by the host.
    var csrDER: [UInt8]
    var profile: String = "default"
    var profileJSON: String = "{}"
    /// Unix seconds; 0 = now.
    var notBefore: Int64 = 0
    /// Unix seconds; 0 = notBefore + validityDays.
    var notAfter: Int64 = 0
    var validityDays: UInt32
    /// Lowercase hex chosen by the host, or nil to let the CA choose.
    var serialHex: String? = nil
    /// URL for the leaf's CRL Distribution Points extension, or nil: no CRL is published (ABI 1.1).
    var crlDistributionPoint: String? = nil
    /// URL for the leaf's Authority Information Access id-ad-ocsp, or nil: no OCSP responder (ABI 1.1).
    var ocspURL: String? = nil
    /// Sign an RFC 6962 precertificate (poison extension) instead of the certificate (ABI 1.1;
    /// only for a CA with `ACMEEH_CA_FEATURE_PRECERTIFICATE`).
    var precertificate = false
    /// A TLS-encoded SignedCertificateTimestampList to embed, or nil (ABI 1.1).
    var sctList: [UInt8]? = nil
}

/// What a CA answered to sign or poll.
enum CASignOutcome: Sendable, Equatable {
    /// `chain` is PEM, leaf first; `notBefore`/`notAfter` are unix seconds.
    case issued(chain: String, serial: String, notBefore: Int64, notAfter: Int64)
    /// Ask again with `poll(handle:)` after `retryAfter`.
    case pending(handle: String, retryAfter: Duration)
}

/// A request to revoke one certificate this CA issued (`acmeeh_ca_revoke_request`).
struct CARevokeRequest: Sendable, Equatable {
    var serialHex: String
    var certificateDER: [UInt8]
    /// RFC 5280 CRLReason code, nil when none was given.
    var reason: Int32? = nil
}

/// A CA plugin instance (`ca.backend`): signs, polls and revokes certificates.
final class CAPluginInstance: Sendable {
    let instance: PluginInstance

    init(_ instance: PluginInstance) { self.instance = instance }

    var name: String { instance.library.name }

    /// Whether `ca_features` has ACMEEH_CA_FEATURE_PRECERTIFICATE (ABI 1.1).
    var signsPrecertificates: Bool { instance.library.signsPrecertificates }

    func sign(_ request: CASignRequest, timeout: Duration) async throws(PluginError) -> CASignOutcome {
        let instance = self.instance
        return try await instance.call("sign", timeout: timeout) { descriptor, handle, deadline in
            var result = acmeeh_ca_sign_result.empty()
            var error = acmeeh_error.empty()
            let sctList = request.sctList ?? []
            let status = request.csrDER.withUnsafeBufferPointer { csr in
                sctList.withUnsafeBufferPointer { scts in
                    withCStrings([request.profile, request.profileJSON, request.serialHex,
                                  request.crlDistributionPoint, request.ocspURL]) { strings in
                        var cRequest = acmeeh_ca_sign_request(
                            struct_size: UInt32(MemoryLayout<acmeeh_ca_sign_request>.size),
                            csr_der: csr.baseAddress, csr_der_len: csr.count,
                            profile: strings[0], profile_json: strings[1],
                            not_before: request.notBefore, not_after: request.notAfter,
                            validity_days: request.validityDays, serial_hex: strings[2],
                            deadline_ms: deadline,
                            crl_distribution_point: strings[3], ocsp_url: strings[4],
                            precertificate: request.precertificate ? 1 : 0,
                            sct_list: request.sctList == nil ? nil : scts.baseAddress, sct_list_len: scts.count)
                        return descriptor.ca_sign!(handle, &cRequest, &result, &error)
                    }
                }
            }
            return instance.signOutcome(status, result, error, descriptor: descriptor, operation: "sign")
        }
    }

    /// Asks again about a `.pending` sign.
    func poll(handle pendingHandle: String, timeout: Duration) async throws(PluginError) -> CASignOutcome {
        let instance = self.instance
        guard instance.library.descriptor.ca_poll != nil else {
            throw PluginError(code: .unsupported, retryable: false, detail: "poll: \(name) has no ca_poll", source: instance.source)
        }
        return try await instance.call("poll", timeout: timeout) { descriptor, handle, deadline in
            var result = acmeeh_ca_sign_result.empty()
            var error = acmeeh_error.empty()
            let status = withCStrings([pendingHandle]) { strings in
                descriptor.ca_poll!(handle, strings[0], deadline, &result, &error)
            }
            return instance.signOutcome(status, result, error, descriptor: descriptor, operation: "poll")
        }
    }

    func revoke(_ request: CARevokeRequest, timeout: Duration) async throws(PluginError) {
        let instance = self.instance
        try await instance.call("revoke", timeout: timeout) { descriptor, handle, deadline in
            var error = acmeeh_error.empty()
            let status = request.certificateDER.withUnsafeBufferPointer { der in
                withCStrings([request.serialHex]) { strings in
                    var cRequest = acmeeh_ca_revoke_request(
                        struct_size: UInt32(MemoryLayout<acmeeh_ca_revoke_request>.size),
                        serial_hex: strings[0], certificate_der: der.baseAddress,
                        certificate_der_len: der.count, reason: request.reason ?? -1,
                        deadline_ms: deadline)
                    return descriptor.ca_revoke!(handle, &cRequest, &error)
                }
            }
            return instance.plainOutcome(status, error, operation: "revoke")
        }
    }

    /// Checks that the CA can sign now (key readable, backend reachable).
    func selfCheck(timeout: Duration) async throws(PluginError) {
        try await instance.selfCheck(timeout: timeout)
    }

    /// Destroys the instance once calls in flight have returned.
    func close() async { await instance.close() }
}

extension acmeeh_ca_sign_result {
    static func empty() -> acmeeh_ca_sign_result {
        var result = acmeeh_ca_sign_result()
        result.struct_size = UInt32(MemoryLayout<acmeeh_ca_sign_result>.size)
        return result
    }
}

extension PluginInstance {
    /// Copies the outputs of sign/poll into Swift values, releases each distinct non-NULL
    /// plugin buffer with the plugin's `buffer_free` exactly once (whatever the status), and
    /// maps the status.
    func signOutcome(
        _ status: Int32, _ result: acmeeh_ca_sign_result, _ error: acmeeh_error,
        descriptor: acmeeh_plugin_descriptor, operation: String
    ) -> Result<CASignOutcome, PluginError> {
        var chain: String? = nil
        if let pem = result.pem_chain, result.pem_chain_len > 0 {
            let bytes = UnsafeRawBufferPointer(start: pem, count: result.pem_chain_len)
            chain = String(validating: bytes, as: UTF8.self)
        }
        let serial = result.serial_hex.map { String(cString: $0) }
        let pendingHandle = result.pending_handle.map { String(cString: $0) }

        var freed: [UnsafeMutableRawPointer] = []
        for pointer in [UnsafeMutableRawPointer(result.pem_chain), UnsafeMutableRawPointer(result.serial_hex), UnsafeMutableRawPointer(result.pending_handle)] {
            guard let pointer, !freed.contains(pointer) else { continue }
            descriptor.buffer_free!(pointer)
            freed.append(pointer)
        }

        func violation(_ what: String) -> Result<CASignOutcome, PluginError> {
            .failure(.contractViolation("\(operation) \(what)", source: source))
        }
        switch status {
        case ACMEEH_STATUS_OK:
            guard result.pem_chain != nil, result.pem_chain_len > 0 else { return violation("returned OK without pem_chain") }
            guard let chain else { return violation("returned a pem_chain that is not UTF-8") }
            guard let serial, !serial.isEmpty else { return violation("returned OK without serial_hex") }
            guard result.not_after != 0 else { return violation("returned OK without not_after") }
            return .success(.issued(chain: chain, serial: serial, notBefore: result.not_before, notAfter: result.not_after))
        case ACMEEH_STATUS_PENDING:
            guard let pendingHandle, !pendingHandle.isEmpty else { return violation("returned PENDING without pending_handle") }
            guard descriptor.ca_poll != nil else { return violation("returned PENDING but the plugin has no ca_poll") }
            return .success(.pending(handle: pendingHandle, retryAfter: .seconds(Int64(result.retry_after_seconds))))
        case ACMEEH_STATUS_ERROR:
            return .failure(error.pluginError(source: source, operation: operation))
        default:
            return violation("returned unknown status \(status)")
        }
    }

    /// `self_check`, or healthy when the plugin has none.
    func selfCheck(timeout: Duration) async throws(PluginError) {
        guard library.descriptor.self_check != nil else { return }
        try await call("selfCheck", timeout: timeout) { descriptor, handle, deadline in
            var error = acmeeh_error.empty()
            let status = descriptor.self_check!(handle, deadline, &error)
            return self.plainOutcome(status, error, operation: "selfCheck")
        }
    }
}
