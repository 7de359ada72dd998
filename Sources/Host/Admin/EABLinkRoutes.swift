import Foundation

/// `POST /eab/{id}/revoke` (with its cascade) and the credential's allowed identifiers and
/// CSR profile, which accounts registering with it inherit.
extension AdminAPI {
    func registerEABLinkRoutes(_ routes: AdminRouteTable) {
        routes.post("/eab/:id/revoke", .admin) { call in
            let id = try call.uuidParameter("id")
            let actor = try call.actor
            guard let outcome = try await call.api.core.revokeEABCredential(id: id, reason: "EAB credential revoked by \(actor.username)")
            else { throw AdminProblem.notFound("EAB credential \(id)") }
            await call.audit("eab.revoke", details: [
                "eab_id": id.uuidString.lowercased(), "kid": outcome.kid,
                "revoked_accounts": outcome.revokedAccountIDs.map { $0.uuidString.lowercased() },
                "deactivated_authorizations": outcome.deactivatedAuthorizationIDs.count])
            return AdminReply.json(Self.json(try await Self.credential(call)))
        }
        routes.get("/eab/:id/allowed-identifiers", .admin) { call in
            let credential = try await Self.credential(call)
            let entries = try await call.api.database.withConnection { try $0.allowedIdentifiers(eabID: credential.id) }
            return AdminReply.json(entries.map { Self.json($0) })
        }
        routes.put("/eab/:id/allowed-identifiers/:identifier_id", .admin) { call in
            let (eab, identifier) = (try call.uuidParameter("id"), try call.uuidParameter("identifier_id"))
            try await call.api.database.withConnection { try $0.linkAllowedIdentifier(identifier, eabID: eab) }
            await call.audit("eab.identifier_link", details: ["eab_id": eab.uuidString.lowercased(),
                                                               "identifier_id": identifier.uuidString.lowercased()])
            return AdminReply.noContent()
        }
        routes.delete("/eab/:id/allowed-identifiers/:identifier_id", .admin) { call in
            let (eab, identifier) = (try call.uuidParameter("id"), try call.uuidParameter("identifier_id"))
            guard try await call.api.database.withConnection({ try $0.unlinkAllowedIdentifier(identifier, eabID: eab) }) else {
                throw AdminProblem.notFound("link of identifier \(identifier) to EAB credential \(eab)")
            }
            await call.audit("eab.identifier_unlink", details: ["eab_id": eab.uuidString.lowercased(),
                                                                 "identifier_id": identifier.uuidString.lowercased()])
            return AdminReply.noContent()
        }
        routes.get("/eab/:id/csr-profile", .admin) { call in
            let credential = try await Self.credential(call)
            let profile = try await call.api.database.withConnection { try $0.eabCSRProfile(eabID: credential.id) }
            return AdminReply.json(profile.map { Self.json($0) } ?? NSNull())
        }
        routes.put("/eab/:id/csr-profile/:profile_id", .admin) { call in
            let (eab, profile) = (try call.uuidParameter("id"), try call.uuidParameter("profile_id"))
            try await call.api.database.withConnection { try $0.setEABCSRProfile(eabID: eab, profileID: profile) }
            await call.audit("eab.profile_assign", details: ["eab_id": eab.uuidString.lowercased(),
                                                              "profile_id": profile.uuidString.lowercased()])
            return AdminReply.noContent()
        }
        routes.delete("/eab/:id/csr-profile/:profile_id", .admin) { call in
            let (eab, profile) = (try call.uuidParameter("id"), try call.uuidParameter("profile_id"))
            guard try await call.api.database.withConnection({ try $0.clearEABCSRProfile(eabID: eab, profileID: profile) })
            else { throw AdminProblem.notFound("CSR profile \(profile) on EAB credential \(eab)") }
            await call.audit("eab.profile_unassign", details: ["eab_id": eab.uuidString.lowercased(),
                                                                "profile_id": profile.uuidString.lowercased()])
            return AdminReply.noContent()
        }
    }
}
