import Foundation

/// `/eab`: external account binding credentials (RFC 8555 §7.3.4), admins only. The MAC
/// key is shown once, in the answer that creates it.
extension AdminAPI {
    func registerEABRoutes(_ routes: AdminRouteTable) {
        routes.get("/eab", .admin) { call in
            let credentials = try await call.api.database.withConnection { try $0.eabCredentials() }
            return AdminReply.json(credentials.map(Self.json))
        }
        routes.post("/eab", .admin) { call in
            let body = try await call.body()
            try body.allowOnly(["kid", "label"])
            let kid = try body.requiredString("kid")
            guard kid.utf8.count <= 255, kid.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw AdminProblem(.badRequest, "\"kid\" must be printable ASCII without spaces, at most 255 bytes")
            }
            let label = try body.string("label").flatMap { $0.isEmpty ? nil : $0 }
            let key = RandomBytes.draw(32)
            let actor = try call.actor
            let credential: EABCredential
            do {
                credential = try await call.api.database.withConnection {
                    try $0.insertEABCredential(kid: kid, hmacKey: key, label: label, createdBy: actor.id)
                }
            } catch let error as StoreError where error.isUniqueViolation {
                throw AdminProblem(.conflict, "an EAB credential with kid \"\(kid)\" already exists")
            }
            await call.audit("eab.create", details: ["kid": kid, "eab_id": credential.id.uuidString.lowercased()])
            var json = Self.json(credential)
            json["hmac_key"] = Base64URL.encode(key)
            return AdminReply.json(json, status: .created)
        }
        routes.get("/eab/:id", .admin) { call in
            AdminReply.json(Self.json(try await Self.credential(call)))
        }
    }

    static func credential(_ call: AdminCall) async throws -> EABCredential {
        let id = try call.uuidParameter("id")
        guard let credential = try await call.api.database.withConnection({ try $0.eabCredential(id: id) }) else {
            throw AdminProblem.notFound("EAB credential \(id)")
        }
        return credential
    }

    /// The JSON of a credential (never its MAC key).
    static func json(_ credential: EABCredential) -> [String: Any] {
        ["id": AdminReply.id(credential.id), "kid": credential.kid, "label": AdminReply.value(credential.label),
         "created_by": AdminReply.id(credential.createdBy), "account_id": AdminReply.id(credential.accountID),
         "used": credential.used, "used_at": AdminReply.date(credential.usedAt), "revoked": credential.revoked,
         "created_at": AdminReply.date(credential.createdAt)]
    }
}
