import Foundation
import Hummingbird

/// An admin API error: an RFC 7807 problem document of type `urn:acmeeh:admin:error:KIND`
/// with the HTTP status of its kind. Routes throw these; `AdminRoutes` renders them.
struct AdminProblem: Error, Sendable {
    enum Kind: String, Sendable {
        case badRequest, unauthorized, forbidden, notFound, conflict, rateLimited, serviceUnavailable, serverInternal

        var status: HTTPResponse.Status {
            switch self {
            case .badRequest: .badRequest
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .conflict: .conflict
            case .rateLimited: .tooManyRequests
            case .serviceUnavailable: .serviceUnavailable
            case .serverInternal: .internalServerError
            }
        }
    }

    let kind: Kind
    let detail: String
    var headers: HTTPFields = [:]

    init(_ kind: Kind, _ detail: String, headers: HTTPFields = [:]) {
        self.kind = kind
        self.detail = detail
        self.headers = headers
    }

    var type: String { "urn:acmeeh:admin:error:\(kind.rawValue)" }

    var response: Response {
        JSONResponse.make(["type": type, "title": kind.status.reasonPhrase, "status": Int(kind.status.code),
                           "detail": detail],
                          status: kind.status, contentType: "application/problem+json", headers: headers)
    }

    static func notFound(_ what: String) -> AdminProblem { AdminProblem(.notFound, "\(what) not found") }
}
