import Foundation

/// RFC 8555 §7.1: an order, authorization, challenge or certificate is shown to and
/// acted on by the account that owns it; anything else is refused the same way for every
/// kind of resource.
enum ResourceAccess {
    static func notFound(_ what: String) -> Problem {
        Problem(.malformed, "no such \(what)", refusal: .notFound)
    }

    static func requireOwner(_ ownerID: UUID, _ account: Account, _ what: String) throws(Problem) {
        guard ownerID == account.id else {
            throw Problem(.unauthorized, "this \(what) belongs to another account", refusal: .forbidden)
        }
    }
}
