import Foundation

/// `/csr-profiles` (and the reference's singular aliases for create and update): CSR
/// profiles, their dry-run validation, and their assignment to accounts (one per account).
extension AdminAPI {
    func registerCSRProfileRoutes(_ routes: AdminRouteTable) {
        routes.get("/csr-profiles", .reader) { call in
            let page = try call.page()
            let profiles = try await call.api.database.withConnection { try $0.csrProfiles(page: page, withAccounts: true) }
            return call.pageReply(profiles.map { Self.json($0) }, page: page, last: profiles.last?.pageCursor)
        }
        routes.get("/csr-profiles/:id", .reader) { call in
            AdminReply.json(Self.json(try await Self.profile(call, withAccounts: true)))
        }
        for path in ["/csr-profiles", "/csr-profile"] {
            routes.post(path, .admin) { call in
                let (name, description, data) = try await Self.profileFields(call)
                let actor = try call.actor
                let profile: CSRProfileRecord
                do {
                    profile = try await call.api.database.withConnection {
                        try $0.insertCSRProfile(name: name, description: description, profileData: data, createdBy: actor.id)
                    }
                } catch let error as StoreError where error.isUniqueViolation {
                    throw AdminProblem(.conflict, "a CSR profile named \"\(name)\" already exists")
                }
                await call.audit("csr_profile.create", details: ["profile_id": profile.id.uuidString.lowercased(), "name": name])
                return AdminReply.json(Self.json(profile), status: .created)
            }
        }
        for path in ["/csr-profiles/:id", "/csr-profile/:id"] {
            routes.put(path, .admin) { call in
                let id = try call.uuidParameter("id")
                let (name, description, data) = try await Self.profileFields(call)
                let updated: CSRProfileRecord?
                do {
                    updated = try await call.api.database.withConnection {
                        try $0.updateCSRProfile(id: id, name: name, description: description, profileData: data)
                    }
                } catch let error as StoreError where error.isUniqueViolation {
                    throw AdminProblem(.conflict, "a CSR profile named \"\(name)\" already exists")
                }
                guard let updated else { throw AdminProblem.notFound("CSR profile \(id)") }
                await call.audit("csr_profile.update", details: ["profile_id": id.uuidString.lowercased(), "name": name])
                return AdminReply.json(Self.json(updated))
            }
        }
        routes.delete("/csr-profiles/:id", .admin) { call in
            let id = try call.uuidParameter("id")
            guard try await call.api.database.withConnection({ try $0.deleteCSRProfile(id: id) }) else {
                throw AdminProblem.notFound("CSR profile \(id)")
            }
            await call.audit("csr_profile.delete", details: ["profile_id": id.uuidString.lowercased()])
            return AdminReply.noContent()
        }
        routes.post("/csr-profiles/:id/validate", .reader) { call in
            let id = try call.uuidParameter("id")
            let body = try await call.body()
            try body.allowOnly(["csr"])
            let text = try body.requiredString("csr")
            guard let der = Data(base64Encoded: text.filter { !$0.isWhitespace }) ?? Base64URL.decode(text).map({ Data($0) }) else {
                throw AdminProblem(.badRequest, "\"csr\" is not base64 (DER)")
            }
            let violations: [String]?
            do {
                violations = try await call.api.core.validateCSR(profileID: id, csrDER: Array(der))
            } catch let error as CSRProfileError {
                throw AdminProblem(.serverInternal, "the stored profile does not load: \(error)")
            }
            guard let violations else { throw AdminProblem.notFound("CSR profile \(id)") }
            return AdminReply.json(["valid": violations.isEmpty, "violations": violations])
        }
        routes.put("/csr-profiles/:id/accounts/:account_id", .admin) { call in
            let (id, account) = (try call.uuidParameter("id"), try call.uuidParameter("account_id"))
            try await call.api.database.withConnection { try $0.setAccountCSRProfile(accountID: account, profileID: id) }
            await call.audit("csr_profile.account_assign", details: ["profile_id": id.uuidString.lowercased(),
                                                                      "account_id": account.uuidString.lowercased()])
            return AdminReply.noContent()
        }
        routes.delete("/csr-profiles/:id/accounts/:account_id", .admin) { call in
            let (id, account) = (try call.uuidParameter("id"), try call.uuidParameter("account_id"))
            guard try await call.api.database.withConnection({ try $0.clearAccountCSRProfile(accountID: account, profileID: id) })
            else { throw AdminProblem.notFound("CSR profile \(id) on account \(account)") }
            await call.audit("csr_profile.account_unassign", details: ["profile_id": id.uuidString.lowercased(),
                                                                        "account_id": account.uuidString.lowercased()])
            return AdminReply.noContent()
        }
        routes.get("/accounts/:id/csr-profile", .reader) { call in
            let account = try call.uuidParameter("id")
            let profile = try await call.api.database.withConnection { try $0.accountCSRProfile(accountID: account) }
            return AdminReply.json(profile.map { Self.json($0) } ?? NSNull())
        }
    }

    /// `name`, `description` and `profile_data` of a create or update; the profile must load.
    private static func profileFields(_ call: AdminCall) async throws -> (String, String, String) {
        let body = try await call.body()
        try body.allowOnly(["name", "description", "profile_data"])
        let name = try body.requiredString("name")
        guard name.count <= 200 else { throw AdminProblem(.badRequest, "\"name\" is longer than 200 characters") }
        guard let data = try body.object("profile_data") else { throw AdminProblem(.badRequest, "\"profile_data\" is required") }
        let json = String(decoding: AdminReply.bytes(data), as: UTF8.self)
        do {
            _ = try CSRProfile(json: json)
        } catch {
            throw AdminProblem(.badRequest, "profile_data: \(error)")
        }
        return (name, try body.string("description") ?? "", json)
    }

    private static func profile(_ call: AdminCall, withAccounts: Bool) async throws -> CSRProfileRecord {
        let id = try call.uuidParameter("id")
        guard let profile = try await call.api.database.withConnection({ try $0.csrProfile(id: id, withAccounts: withAccounts) })
        else { throw AdminProblem.notFound("CSR profile \(id)") }
        return profile
    }

    static func json(_ profile: CSRProfileRecord) -> [String: Any] {
        var json: [String: Any] = [
            "id": AdminReply.id(profile.id), "name": profile.name, "description": profile.description,
            "profile_data": (try? JSONSerialization.jsonObject(with: Data(profile.profileData.utf8))) ?? [String: Any](),
            "created_by": AdminReply.id(profile.createdBy), "created_at": AdminReply.date(profile.createdAt),
            "updated_at": AdminReply.date(profile.updatedAt),
        ]
        if let accounts = profile.accountIDs { json["account_ids"] = accounts.map { $0.uuidString.lowercased() } }
        return json
    }
}
