import Foundation

/// `/certificates`: search, lookups by serial and fingerprint, and bulk revocation, which
/// revokes each certificate through the CA backend that issued it (unlike the reference,
/// which only marked rows), so it reaches the next CRL and OCSP answer and fires the
/// revocation's notifications and hooks.
extension AdminAPI {
    func registerCertificateRoutes(_ routes: AdminRouteTable) {
        routes.get("/certificates", .reader) { call in
            let query = call.query
            var search = CertificateSearch()
            search.accountID = try query.uuid("account_id")
            search.serial = try query.string("serial").map(Self.serial)
            search.fingerprint = try query.string("fingerprint").map(Self.fingerprint)
            search.status = try query.choice("status", CertificateRecord.Status.allCases.map(\.rawValue))
                .flatMap(CertificateRecord.Status.init(rawValue:))
            search.domain = query.string("domain")
            search.expiringBefore = try query.date("expiring_before")
            search.issuedAfter = try query.date("issued_after")
            search.issuedBefore = try query.date("issued_before")
            let page = try call.page()
            let found = try await call.api.database.withConnection { [search] in try $0.searchCertificates(search, page: page) }
            return call.pageReply(found.map(Self.json), page: page, last: found.last?.pageCursor)
        }
        routes.get("/certificates/by-fingerprint/:fingerprint", .reader) { call in
            let fingerprint = try Self.fingerprint(try call.parameter("fingerprint"))
            guard let found = try await call.api.database.withConnection({ try $0.certificateRecord(fingerprint: fingerprint) })
            else { throw AdminProblem.notFound("certificate with fingerprint \(fingerprint)") }
            return AdminReply.json(Self.json(found))
        }
        routes.get("/certificates/:serial", .reader) { call in
            let serial = try Self.serial(try call.parameter("serial"))
            guard let found = try await call.api.database.withConnection({ try $0.certificateRecord(serial: serial) })
            else { throw AdminProblem.notFound("certificate \(serial)") }
            return AdminReply.json(Self.json(found))
        }
        routes.post("/certificates/bulk-revoke", .admin) { call in
            let body = try await call.body()
            try body.allowOnly(["filter", "reason", "dry_run"])
            guard let filterFields = try body.object("filter") else { throw AdminProblem(.badRequest, "\"filter\" is required") }
            let fields = AdminBody(filterFields)
            try fields.allowOnly(["account_id", "serial_numbers", "serial_number", "domain", "issued_before", "issued_after"])
            var filter = BulkRevocationFilter()
            filter.accountID = try fields.uuid("account_id")
            filter.serialNumbers = (try fields.stringArray("serial_numbers") ?? []) + [try fields.string("serial_number")].compactMap { $0 }
            filter.domain = try fields.string("domain")
            filter.issuedBefore = try fields.date("issued_before")
            filter.issuedAfter = try fields.date("issued_after")
            guard !filter.isEmpty else {
                throw AdminProblem(.badRequest, "the filter needs at least one of account_id, serial_numbers, domain, issued_before, issued_after")
            }
            let dryRun = try body.bool("dry_run") ?? false
            let reason = try body.int("reason")
            let actor = try call.actor
            let result = try await call.api.core.bulkRevoke(filter, reason: reason, dryRun: dryRun, by: actor.username)
            var details: [String: Any] = ["dry_run": dryRun, "matched": result.matched]
            if !dryRun {
                details["revoked"] = result.revoked
                details["failed"] = result.failed
                details["reason"] = AdminReply.value(reason)
            }
            await call.audit("certificates.bulk_revoke", details: details)
            if dryRun {
                return AdminReply.json(["dry_run": true, "matching_certificates": result.matched, "serial_numbers": result.serials])
            }
            return AdminReply.json([
                "dry_run": false, "revoked": result.revoked, "total_matched": result.matched, "remaining": result.remaining,
                "errors": result.failures.map { ["serial_number": $0.serial, "error": $0.detail] },
            ])
        }
    }

    private static func serial(_ text: String) throws -> String {
        guard let serial = CertificateRecord.normalizedSerial(text) else {
            throw AdminProblem(.badRequest, "serial \"\(text)\" is not hexadecimal")
        }
        return serial
    }

    private static func fingerprint(_ text: String) throws -> String {
        let hex = text.lowercased().replacingOccurrences(of: ":", with: "")
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
            throw AdminProblem(.badRequest, "fingerprint must be the 64 hex digits of a SHA-256")
        }
        return hex
    }

    static func json(_ certificate: CertificateRecord) -> [String: Any] {
        ["id": AdminReply.id(certificate.id), "account_id": AdminReply.id(certificate.accountID),
         "order_id": AdminReply.id(certificate.orderID), "serial_number": certificate.serial,
         "fingerprint": certificate.fingerprint, "not_before": AdminReply.date(certificate.notBefore),
         "not_after": AdminReply.date(certificate.notAfter), "revoked_at": AdminReply.date(certificate.revokedAt),
         "revocation_reason": AdminReply.value(certificate.revocationReasonName), "san_values": certificate.sanValues,
         "status": certificate.status().rawValue, "ca_backend": certificate.caBackend,
         "created_at": AdminReply.date(certificate.createdAt)]
    }
}
