import Foundation

/// What `acmeeh inspect` prints of one resource: the human lines and the JSON object,
/// built from the same reads. `@unchecked Sendable`: `json` holds only immutable values
/// (String, Int, Bool, NSNull, arrays and objects of them).
struct InspectReport: @unchecked Sendable {
    let lines: [String]
    let json: [String: Any]

    static func text(_ date: Date) -> String { date.formatted(.iso8601) }
    static func id(_ uuid: UUID) -> String { uuid.uuidString.lowercased() }
    static func orNull(_ value: Any?) -> Any { value ?? NSNull() }

    // MARK: - Order

    static func order(_ id: UUID, _ connection: Connection) throws -> InspectReport? {
        guard let order = try connection.order(id: id) else { return nil }
        let certificate = try order.certificateID.flatMap { try connection.certificateRecord(id: $0) }
        var lines = [
            "order \(Self.id(order.id))",
            "  status: \(order.status.rawValue)",
            "  account: \(Self.id(order.accountID))",
            "  identifiers: \(order.identifiers.map { "\($0.type):\($0.value)" }.joined(separator: ", "))",
            "  expires: \(text(order.expires))",
            "  certificate serial: \(certificate?.serial ?? "-")",
        ]
        if let error = problem(order.errorJSON) { lines.append("  error: \(error.line)") }
        var authorizations: [[String: Any]] = []
        for authorizationID in order.authorizationIDs {
            guard let authorization = try connection.authorization(id: authorizationID) else { continue }
            let challenges = try connection.query(.challenges(authorizationID: authorizationID)).map(Connection.challenge)
            let name = (authorization.wildcard ? "*." : "") + authorization.identifier.value
            lines.append("  authorization \(Self.id(authorization.id)): \(authorization.identifier.type):\(name) "
                         + "\(authorization.status.rawValue), expires \(text(authorization.expires))")
            var challengeObjects: [[String: Any]] = []
            for challenge in challenges {
                let error = problem(challenge.errorJSON)
                lines.append("    challenge \(challenge.type): \(challenge.status.rawValue)"
                             + (error.map { " (error: \($0.line))" } ?? ""))
                challengeObjects.append([
                    "id": Self.id(challenge.id), "type": challenge.type, "status": challenge.status.rawValue,
                    "error": orNull(error?.object), "validated": orNull(challenge.validatedAt.map(text)),
                ])
            }
            authorizations.append([
                "id": Self.id(authorization.id), "identifier": ["type": authorization.identifier.type, "value": name],
                "wildcard": authorization.wildcard, "status": authorization.status.rawValue,
                "expires": text(authorization.expires), "challenges": challengeObjects,
            ])
        }
        let json: [String: Any] = [
            "id": Self.id(order.id), "status": order.status.rawValue, "account_id": Self.id(order.accountID),
            "identifiers": order.identifiers.map { ["type": $0.type, "value": $0.value] },
            "expires": text(order.expires), "certificate_id": orNull(order.certificateID.map(Self.id)),
            "certificate_serial": orNull(certificate?.serial), "error": orNull(problem(order.errorJSON)?.object),
            "authorizations": authorizations,
        ]
        return InspectReport(lines: lines, json: json)
    }

    /// A stored problem document: its JSON object and a one-line summary.
    static func problem(_ json: String?) -> (object: [String: Any], line: String)? {
        guard let json, let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else {
            return nil
        }
        let type = (object["type"] as? String).map { $0.replacingOccurrences(of: "urn:ietf:params:acme:error:", with: "") }
        let line = [type, object["detail"] as? String].compactMap { $0 }.joined(separator: ": ")
        // Only strings and nested objects of them reach the writer; numbers (status) become text.
        return (object.mapValues { value in (value as? String) ?? "\(value)" }, line)
    }

    // MARK: - Certificate

    static func certificate(_ record: CertificateRecord) -> InspectReport {
        let status = record.status()
        let statusText = status == .revoked
            ? "revoked (\(record.revocationReasonName ?? "unspecified")) at \(record.revokedAt.map(text) ?? "-")"
            : status.rawValue
        let lines = [
            "certificate \(Self.id(record.id))",
            "  serial: \(record.serial)",
            "  names: \(record.sanValues.joined(separator: ", "))",
            "  not before: \(text(record.notBefore))",
            "  not after: \(text(record.notAfter))",
            "  status: \(statusText)",
            "  account: \(Self.id(record.accountID))",
            "  order: \(record.orderID.map(Self.id) ?? "-")",
            "  fingerprint (SHA-256): \(record.fingerprint)",
            "  CA backend: \(record.caBackend)",
            "  issued: \(text(record.createdAt))",
        ]
        let json: [String: Any] = [
            "id": Self.id(record.id), "serial_number": record.serial, "san_values": record.sanValues,
            "not_before": text(record.notBefore), "not_after": text(record.notAfter), "status": status.rawValue,
            "revoked_at": orNull(record.revokedAt.map(text)), "revocation_reason": orNull(record.revocationReasonName),
            "account_id": Self.id(record.accountID), "order_id": orNull(record.orderID.map(Self.id)),
            "fingerprint": record.fingerprint, "ca_backend": record.caBackend, "created_at": text(record.createdAt),
        ]
        return InspectReport(lines: lines, json: json)
    }

    // MARK: - Account

    static func account(_ detail: AccountDetail) -> InspectReport {
        let account = detail.record.account
        let lines = [
            "account \(Self.id(account.id))",
            "  status: \(account.status.rawValue)",
            "  key thumbprint: \(account.thumbprint)",
            "  contacts: \(account.contacts.isEmpty ? "-" : account.contacts.joined(separator: ", "))",
            "  EAB kid: \(account.eabKID ?? "-")",
            "  terms of service agreed: \(account.termsOfServiceAgreed ? "yes" : "no")",
            "  orders: \(detail.orderCount)",
            "  certificates: \(detail.certificateCount) (\(detail.activeCertificateCount) active)",
            "  created: \(text(account.createdAt))",
        ]
        let json: [String: Any] = [
            "id": Self.id(account.id), "status": account.status.rawValue, "jwk_thumbprint": account.thumbprint,
            "contacts": account.contacts, "eab_kid": orNull(account.eabKID), "tos_agreed": account.termsOfServiceAgreed,
            "order_count": detail.orderCount, "certificate_count": detail.certificateCount,
            "active_certificate_count": detail.activeCertificateCount, "created_at": text(account.createdAt),
            "updated_at": text(detail.record.updatedAt),
        ]
        return InspectReport(lines: lines, json: json)
    }
}
