import Foundation

/// `/allowed-identifiers` and `/accounts/{id}/allowed-identifiers`: the per-account
/// allowlist that `security.identifier_policy.enforce_account_allowlist` enforces at newOrder.
extension AdminAPI {
    func registerAllowedIdentifierRoutes(_ routes: AdminRouteTable) {
        routes.get("/allowed-identifiers", .admin) { call in
            let page = try call.page()
            let entries = try await call.api.database.withConnection { try $0.allowedIdentifiers(page: page, withAccounts: true) }
            return call.pageReply(entries.map { Self.json($0) }, page: page, last: entries.last?.pageCursor)
        }
        routes.post("/allowed-identifiers", .admin) { call in
            let body = try await call.body()
            try body.allowOnly(["type", "value"])
            let type = try body.requiredString("type")
            let value = try body.requiredString("value")
            let identifier: Identifier
            do throws(Problem) {
                identifier = try AccountAllowlist.normalized(Identifier(type: type, value: value))
            } catch {
                throw AdminProblem(.badRequest, error.detail)
            }
            let actor = try call.actor
            let entry: AllowedIdentifier
            do {
                entry = try await call.api.database.withConnection { try $0.insertAllowedIdentifier(identifier, createdBy: actor.id) }
            } catch let error as StoreError where error.isUniqueViolation {
                throw AdminProblem(.conflict, "\(identifier.type):\(identifier.value) is already an allowed identifier")
            }
            await call.audit("identifier.create", details: ["identifier_id": entry.id.uuidString.lowercased(),
                                                             "type": identifier.type, "value": identifier.value])
            return AdminReply.json(Self.json(entry), status: .created)
        }
        routes.get("/allowed-identifiers/:id", .admin) { call in
            let id = try call.uuidParameter("id")
            guard let entry = try await call.api.database.withConnection({ try $0.allowedIdentifier(id: id, withAccounts: true) })
            else { throw AdminProblem.notFound("allowed identifier \(id)") }
            return AdminReply.json(Self.json(entry))
        }
        routes.delete("/allowed-identifiers/:id", .admin) { call in
            let id = try call.uuidParameter("id")
            guard try await call.api.database.withConnection({ try $0.deleteAllowedIdentifier(id: id) }) else {
                throw AdminProblem.notFound("allowed identifier \(id)")
            }
            await call.audit("identifier.delete", details: ["identifier_id": id.uuidString.lowercased()])
            return AdminReply.noContent()
        }
        routes.put("/allowed-identifiers/:id/accounts/:account_id", .admin) { call in
            let (id, account) = (try call.uuidParameter("id"), try call.uuidParameter("account_id"))
            try await call.api.database.withConnection { try $0.linkAllowedIdentifier(id, accountID: account) }
            await call.audit("identifier.account_link", details: ["identifier_id": id.uuidString.lowercased(),
                                                                   "account_id": account.uuidString.lowercased()])
            return AdminReply.noContent()
        }
        routes.delete("/allowed-identifiers/:id/accounts/:account_id", .admin) { call in
            let (id, account) = (try call.uuidParameter("id"), try call.uuidParameter("account_id"))
            guard try await call.api.database.withConnection({ try $0.unlinkAllowedIdentifier(id, accountID: account) }) else {
                throw AdminProblem.notFound("link of identifier \(id) to account \(account)")
            }
            await call.audit("identifier.account_unlink", details: ["identifier_id": id.uuidString.lowercased(),
                                                                     "account_id": account.uuidString.lowercased()])
            return AdminReply.noContent()
        }
        routes.get("/accounts/:id/allowed-identifiers", .admin) { call in
            let account = try call.uuidParameter("id")
            let entries = try await call.api.database.withConnection { try $0.allowedIdentifiers(accountID: account) }
            return AdminReply.json(entries.map { Self.json($0) })
        }
    }

    static func json(_ entry: AllowedIdentifier) -> [String: Any] {
        var json: [String: Any] = [
            "id": AdminReply.id(entry.id), "identifier_type": entry.identifier.type, "identifier_value": entry.identifier.value,
            "created_by": AdminReply.id(entry.createdBy), "created_at": AdminReply.date(entry.createdAt),
        ]
        if let accounts = entry.accountIDs { json["account_ids"] = accounts.map { $0.uuidString.lowercased() } }
        return json
    }
}
