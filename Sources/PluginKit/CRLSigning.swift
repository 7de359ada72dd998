import PluginAPI

/// One revoked certificate to list (`acmeeh_crl_entry`, ABI 1.1).
public struct CRLEntry: Sendable, Equatable {
    /// The serial number, unsigned big-endian.
    public var serial: [UInt8]
    /// revocationDate, unix seconds.
    public var revocationTime: Int64
    /// RFC 5280 CRLReason code; nil: no reasonCode entry extension.
    public var reason: Int32?

    public init(serial: [UInt8], revocationTime: Int64, reason: Int32? = nil) {
        self.serial = serial
        self.revocationTime = revocationTime
        self.reason = reason
    }
}

/// `acmeeh_ca_crl_request` (ABI 1.1), copied out of the borrowed C struct.
public struct CRLRequest: Sendable {
    public var entries: [CRLEntry]
    /// thisUpdate and nextUpdate, unix seconds.
    public var thisUpdate: Int64
    public var nextUpdate: Int64
    /// cRLNumber, unsigned big-endian.
    public var crlNumber: [UInt8]
    /// "sha256", "sha384", "sha512"; nil: the plugin's default.
    public var hashAlgorithm: String?
    public var deadline: Deadline

    public init(entries: [CRLEntry], thisUpdate: Int64, nextUpdate: Int64, crlNumber: [UInt8],
                hashAlgorithm: String? = nil, deadline: Deadline) {
        self.entries = entries
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.crlNumber = crlNumber
        self.hashAlgorithm = hashAlgorithm
        self.deadline = deadline
    }
}

/// Longest serial (20 octets, RFC 5280 §4.1.2.2, plus a sign byte) and cRLNumber (§5.2.3) accepted.
private let maxSerialBytes = 21
private let maxCRLNumberBytes = 20

/// The request as Swift values; throws ACMEEH_E_INVALID_INPUT for what no CRL can carry.
private func crlRequest(_ r: acmeeh_ca_crl_request) throws(PluginError) -> CRLRequest {
    guard r.entry_count == 0 || r.entries != nil else { throw .invalidInput("entry_count is \(r.entry_count) but entries is NULL") }
    guard let number = r.crl_number, (1...maxCRLNumberBytes).contains(r.crl_number_len) else {
        throw .invalidInput("the CRL number must be 1 to \(maxCRLNumberBytes) bytes")
    }
    guard r.next_update > r.this_update else { throw .invalidInput("nextUpdate must be after thisUpdate") }
    var entries: [CRLEntry] = []
    entries.reserveCapacity(r.entry_count)
    for index in 0..<r.entry_count {
        let e = r.entries![index]
        guard let serial = e.serial, (1...maxSerialBytes).contains(e.serial_len) else {
            throw .invalidInput("CRL entry \(index): the serial must be 1 to \(maxSerialBytes) bytes")
        }
        entries.append(CRLEntry(serial: Array(UnsafeBufferPointer(start: serial, count: e.serial_len)),
                                revocationTime: e.revocation_time, reason: e.reason >= 0 ? e.reason : nil))
    }
    let hash = borrowedString(r.hash_algorithm).flatMap { $0.isEmpty ? nil : $0 }
    return CRLRequest(entries: entries, thisUpdate: r.this_update, nextUpdate: r.next_update,
                      crlNumber: Array(UnsafeBufferPointer(start: number, count: r.crl_number_len)),
                      hashAlgorithm: hash, deadline: Deadline(milliseconds: r.deadline_ms))
}

let caSignCRLThunk: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<acmeeh_ca_crl_request>?,
    UnsafeMutablePointer<acmeeh_ca_crl_result>?, UnsafeMutablePointer<acmeeh_error>?
) -> Int32 = { instance, request, result, err in
    guard let ca = object(instance) as? any CAInstance, let request, let result else {
        return fail(.internal("ca_sign_crl called with NULL or unknown arguments"), err)
    }
    guard let r = borrowedStruct(request, v1Size: ACMEEH_CA_CRL_REQUEST_V1_1_SIZE),
          coversV1(result.pointee.struct_size, ACMEEH_CA_CRL_RESULT_V1_1_SIZE) else {
        return fail(.internal("ca_sign_crl request/result struct_size is smaller than the v1.1 layout"), err)
    }
    result.pointee.crl_der = nil
    result.pointee.crl_der_len = 0
    do {
        let der = try ca.signCRL(try crlRequest(r))
        guard !der.isEmpty else { return fail(.internal("signCRL returned no bytes"), err) }
        result.pointee.crl_der = try Buffers.bytes(der)
        result.pointee.crl_der_len = der.count
        return ACMEEH_STATUS_OK
    } catch {
        return fail(asPluginError(error), err)
    }
}
