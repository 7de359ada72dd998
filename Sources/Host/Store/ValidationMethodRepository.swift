import Foundation

/// How an order's authorizations were validated (`authorizations` × `challenges`), for
/// the `validationmethods` CAA parameter (RFC 8657 §4).
extension Connection {
    /// Each identifier of the order (`*.` prefixed for a wildcard authorization) → the types
    /// of its valid challenges (one, unless challenges were auto-accepted).
    func validationMethods(orderID: UUID) throws -> [Identifier: Set<String>] {
        let rows = try query(
            """
            SELECT a.identifier_type, a.identifier_value, a.wildcard, c.type
            FROM order_authorizations oa
            JOIN authorizations a ON a.id = oa.authorization_id
            JOIN challenges c ON c.authorization_id = a.id AND c.status = 'valid'
            WHERE oa.order_id = $1
            """, [.uuid(orderID)])
        var methods: [Identifier: Set<String>] = [:]
        for row in rows {
            let value = try row.string("identifier_value")
            let identifier = Identifier(type: try row.string("identifier_type"),
                                        value: try row.bool("wildcard") ? "*." + value : value)
            methods[identifier, default: []].insert(try row.string("type"))
        }
        return methods
    }
}
