import Foundation

/// `GET /accounts` and `GET /accounts/{id}`: the ACME accounts, read-only.
extension AdminAPI {
    func registerAccountRoutes(_ routes: AdminRouteTable) {
        routes.get("/accounts", .reader) { call in
            let query = call.query
            var search = AccountSearch()
            search.status = try query.choice("status", ["valid", "deactivated", "revoked"]).flatMap(Account.Status.init(rawValue:))
            search.eabOnly = try query.bool("eab_only") ?? false
            search.eabKID = query.string("eab_kid")
            search.contact = query.string("contact")
            search.createdBefore = try query.date("created_before")
            search.createdAfter = try query.date("created_after")
            let page = try call.page()
            let found = try await call.api.database.withConnection { [search] in try $0.searchAccounts(search, page: page) }
            return call.pageReply(found.map { Self.json($0) }, page: page, last: found.last?.pageCursor)
        }
        routes.get("/accounts/:id", .reader) { call in
            let id = try call.uuidParameter("id")
            let (found, profile) = try await call.api.database.withConnection {
                (try $0.accountDetail(id: id), try $0.accountCSRProfile(accountID: id))
            }
            guard let detail = found else { throw AdminProblem.notFound("account \(id)") }
            var json = Self.json(detail.record)
            json["contacts"] = detail.record.account.contacts
            json["csr_profile_id"] = AdminReply.id(profile?.id)
            json["order_count"] = detail.orderCount
            json["certificate_count"] = detail.certificateCount
            json["active_certificate_count"] = detail.activeCertificateCount
            return AdminReply.json(json)
        }
    }

    static func json(_ record: AccountRecord) -> [String: Any] {
        let account = record.account
        let jwk = (try? JSONSerialization.jsonObject(with: Data(account.jwk.utf8))) ?? NSNull()
        return ["id": AdminReply.id(account.id), "jwk_thumbprint": account.thumbprint, "status": account.status.rawValue,
                "tos_agreed": account.termsOfServiceAgreed, "eab_kid": AdminReply.value(account.eabKID),
                "created_at": AdminReply.date(account.createdAt), "updated_at": AdminReply.date(record.updatedAt), "jwk": jwk]
    }
}
