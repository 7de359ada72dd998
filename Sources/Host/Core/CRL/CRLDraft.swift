import Foundation

/// What the host hands a CA backend to sign as an RFC 5280 v2 CRL (§5.1): the revoked
/// certificates with their revocation time and reason, the validity window and the CRL
/// number; the issuer and its key are the backend's own.
struct CRLDraft: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        /// The certificate's serial number, big-endian.
        var serial: [UInt8]
        var revokedAt: Date
        /// §5.3.1 CRLReason; nil leaves the reasonCode extension out (as §5.3.1 asks for
        /// `unspecified`).
        var reason: Int?
    }

    var entries: [Entry]
    var thisUpdate: Date
    var nextUpdate: Date
    /// §5.2.3: grows by one with each CRL of the backend.
    var number: Int64
    var hashAlgorithm: HashAlgorithm
}

extension CASignCRLRequest {
    /// The plugin call's form of `draft`.
    init(_ draft: CRLDraft) {
        var number: [UInt8] = withUnsafeBytes(of: UInt64(draft.number).bigEndian, Array.init)
        while number.count > 1 && number[0] == 0 { number.removeFirst() }
        self.init(entries: draft.entries.map { entry in
                      CRLEntry(serial: entry.serial, revokedAt: Int64(entry.revokedAt.timeIntervalSince1970),
                               reason: entry.reason.map(Int32.init))
                  },
                  thisUpdate: Int64(draft.thisUpdate.timeIntervalSince1970),
                  nextUpdate: Int64(draft.nextUpdate.timeIntervalSince1970),
                  crlNumber: number, hashAlgorithm: draft.hashAlgorithm.rawValue)
    }
}
