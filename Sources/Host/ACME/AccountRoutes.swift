import Foundation
import Hummingbird

/// The account resources of RFC 8555 §7.3 and revocation (§7.6): newAccount, the account
/// URL, its orders list, keyChange and revokeCert.
extension ACMEServices {
    func registerAccountRoutes(on router: Router<ACMERequestContext>) {
        let paths = urls.paths
        gateway.post(router, urls.route(paths.newAccount), signer: .key, limit: .newAccount) { try await self.newAccount($0) }
        gateway.post(router, urls.route("/acct/:id"), signer: .account) { try await self.accountResource($0) }
        gateway.post(router, urls.route("/acct/:id/orders"), signer: .account) { try await self.ordersList($0) }
        gateway.post(router, urls.route(paths.keyChange), signer: .account) { try await self.keyChange($0) }
        gateway.post(router, urls.route(paths.revokeCert), signer: .accountOrKey) { try await self.revokeCert($0) }
    }

    // MARK: Account (RFC 8555 §7.3.2, §7.3.3, §7.3.6)

    /// POST-as-GET fetch, contact update, terms agreement or deactivation of the account
    /// the request is signed by.
    func accountResource(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let accountURL = url("acct", account.id)
        // RFC 8555 §7.3.2: the account URL is the kid; another account's URL is not yours.
        guard request.url == accountURL else {
            throw Problem(.unauthorized, "the request is signed by \(accountURL), not by the account at \(request.url)")
        }
        if request.isPostAsGet {
            return ACMEReply(.json(accountJSON(try await core.account(account, request.requestGuard))), location: accountURL)
        }

        let update = try request.object()
        // RFC 8555 §7.3.6: the only status a client may set is "deactivated"; any other
        // "status" is ignored like every field the server does not take (§7.3.2).
        if update["status"] as? String == "deactivated" {
            let deactivated = try await core.deactivateAccount(account, request.requestGuard)
            gateway.accountCache.remember(deactivated)
            return ACMEReply(.json(accountJSON(deactivated)), location: accountURL)
        }
        var changes = CoreServices.AccountChanges()
        if let contact = update["contact"] { changes.contacts = try Self.contactList(contact) }
        if let agreed = update["termsOfServiceAgreed"] {
            guard let value = agreed as? Bool else { throw Problem(.malformed, "\"termsOfServiceAgreed\" must be a boolean") }
            changes.agreesToTerms = value
        }
        // RFC 8555 §7.3.2: "orders" and other fields are ignored.
        let updated = try await core.updateAccount(account, changes, request.requestGuard)
        gateway.accountCache.remember(updated)
        return ACMEReply(.json(accountJSON(updated)), location: accountURL)
    }

    // MARK: Orders list (RFC 8555 §7.1.2.1)

    /// `{"orders": [urls]}`, `acme.orders_page_size` per page, newest first; `?cursor=<order id>`
    /// continues after that order, and `Link: <next>;rel="next"` names the next page.
    func ordersList(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let accountURL = url("acct", account.id)
        let listURL = accountURL + "/orders"
        guard request.url == listURL || request.url.hasPrefix(listURL + "?") else {
            throw Problem(.unauthorized, "the request is signed by \(accountURL), not by the owner of \(request.url)")
        }
        var cursor: UUID? = nil
        if let text = request.query["cursor"] {
            guard let id = UUID(uuidString: text) else { throw Problem(.malformed, "cursor \"\(text)\" is not an order id") }
            cursor = id
        }
        let page = try await core.orders(of: account, after: cursor, limit: config.acme.ordersPageSize, request.requestGuard)
        var reply = ACMEReply(.json(["orders": page.ids.map { url("order", $0) }]))
        if page.more, let last = page.ids.last {
            reply.links.append((listURL + "?cursor=" + last.uuidString.lowercased(), "next"))
        }
        return reply
    }

    // MARK: Rendering

    /// The account object of RFC 8555 §7.1.2.
    func accountJSON(_ account: Account) -> [String: any Sendable] {
        [
            "status": account.status.rawValue,
            "contact": account.contacts,
            "termsOfServiceAgreed": account.termsOfServiceAgreed,
            "orders": url("acct", account.id) + "/orders",
        ]
    }

    /// `contact`: an array of strings (RFC 8555 §7.1.2).
    static func contactList(_ value: Any) throws(Problem) -> [String] {
        guard let list = value as? [Any], let strings = list as? [String] else {
            throw Problem(.malformed, "\"contact\" must be an array of URL strings")
        }
        return strings
    }
}
