import PluginAPI

/// One revoked certificate to list on a CRL (`acmeeh_crl_entry`).
struct CRLEntry: Sendable, Equatable {
    /// The serial number, unsigned big-endian.
    var serial: [UInt8]
    /// revocationDate, unix seconds.
    var revokedAt: Int64
    /// RFC 5280 CRLReason code; nil: no reasonCode extension.
    var reason: Int32? = nil
}

/// A request to sign one CRL (`acmeeh_ca_crl_request`, ABI 1.1).
struct CASignCRLRequest: Sendable, Equatable {
    var entries: [CRLEntry]
    /// thisUpdate and nextUpdate, unix seconds.
    var thisUpdate: Int64
    var nextUpdate: Int64
    /// cRLNumber, unsigned big-endian.
    var crlNumber: [UInt8]
    /// "sha256", "sha384", "sha512"; nil: the plugin's default.
    var hashAlgorithm: String? = nil
}

extension CAPluginInstance {
    /// Whether the plugin has `ca_sign_crl` (ABI 1.1; absent in a 1.0 plugin).
    var canSignCRL: Bool { instance.library.descriptor.ca_sign_crl != nil }

    /// Has the CA sign a CRL; returns its DER.
    func signCRL(_ request: CASignCRLRequest, timeout: Duration) async throws(PluginError) -> [UInt8] {
        let instance = self.instance
        guard canSignCRL else {
            throw PluginError(code: .unsupported, retryable: false, detail: "signCRL: \(name) has no ca_sign_crl", source: instance.source)
        }
        return try await instance.call("signCRL", timeout: timeout) { descriptor, handle, deadline in
            // Every serial in one buffer, so each entry can point into it for the whole call.
            let serials = request.entries.flatMap(\.serial)
            var result = acmeeh_ca_crl_result()
            result.struct_size = UInt32(MemoryLayout<acmeeh_ca_crl_result>.size)
            var error = acmeeh_error.empty()
            let status = serials.withUnsafeBufferPointer { serialBytes in
                var offset = 0
                let entries = request.entries.map { entry -> acmeeh_crl_entry in
                    defer { offset += entry.serial.count }
                    return acmeeh_crl_entry(
                        serial: serialBytes.baseAddress.map { $0 + offset }, serial_len: entry.serial.count,
                        revocation_time: entry.revokedAt, reason: entry.reason ?? -1)
                }
                return entries.withUnsafeBufferPointer { entryTable in
                    request.crlNumber.withUnsafeBufferPointer { number in
                        withCStrings([request.hashAlgorithm]) { strings in
                            var cRequest = acmeeh_ca_crl_request(
                                struct_size: UInt32(MemoryLayout<acmeeh_ca_crl_request>.size),
                                entries: entries.isEmpty ? nil : entryTable.baseAddress, entry_count: entries.count,
                                this_update: request.thisUpdate, next_update: request.nextUpdate,
                                crl_number: number.baseAddress, crl_number_len: number.count,
                                hash_algorithm: strings[0], deadline_ms: deadline)
                            return descriptor.ca_sign_crl!(handle, &cRequest, &result, &error)
                        }
                    }
                }
            }
            let der = result.crl_der.map { Array(UnsafeBufferPointer(start: $0, count: result.crl_der_len)) }
            if let pointer = result.crl_der { descriptor.buffer_free!(pointer) }
            switch status {
            case ACMEEH_STATUS_OK:
                guard let der, !der.isEmpty else {
                    return .failure(.contractViolation("signCRL returned OK without crl_der", source: instance.source))
                }
                return .success(der)
            case ACMEEH_STATUS_ERROR:
                return .failure(error.pluginError(source: instance.source, operation: "signCRL"))
            default:
                return .failure(.contractViolation("signCRL returned unknown status \(status)", source: instance.source))
            }
        }
    }
}
