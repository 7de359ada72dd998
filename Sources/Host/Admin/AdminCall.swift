import Foundation
import Hummingbird

/// One admin request as a route sees it: the authenticated user (nil only for login),
/// the client's address, the path parameters, the query and the JSON body, read strictly.
struct AdminCall: Sendable {
    let request: Request
    let context: ACMERequestContext
    let user: AdminUser?
    /// The bearer token presented (logout ends it).
    let token: String?
    let api: AdminAPI

    /// The client as `RequestOriginMiddleware` found it (the rightmost untrusted forwarded address).
    var clientIP: String { context.origin?.clientIP ?? ACMEGateway.client(context) }

    /// The acting user (routes past authentication always have one).
    var actor: AdminUser {
        get throws {
            guard let user else { throw AdminProblem(.unauthorized, "an admin bearer token is required") }
            return user
        }
    }

    /// A path parameter.
    func parameter(_ name: String) throws -> String {
        guard let value = context.parameters.get(name), !value.isEmpty else {
            throw AdminProblem(.badRequest, "the path has no \(name)")
        }
        return value.removingPercentEncoding ?? value
    }

    /// A path parameter that must be a UUID.
    func uuidParameter(_ name: String) throws -> UUID {
        let text = try parameter(name)
        guard let id = UUID(uuidString: text) else { throw AdminProblem(.badRequest, "\(name) \"\(text)\" is not a UUID") }
        return id
    }

    /// The query parameters.
    var query: AdminQuery { AdminQuery(request.uri.queryParameters) }

    /// The body as a JSON object: an empty body is `{}`; anything but one object is refused.
    func body() async throws -> AdminBody {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: AdminAPI.maxBodyBytes)
        } catch {
            throw AdminProblem(.badRequest, "the body is larger than \(AdminAPI.maxBodyBytes) bytes")
        }
        guard buffer.readableBytes > 0 else { return AdminBody([:]) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)),
              let fields = object as? [String: Any]
        else { throw AdminProblem(.badRequest, "the body is not a JSON object") }
        return AdminBody(fields)
    }

    /// Records `action` in the audit trail with the acting user and the client's address.
    func audit(_ action: String, target: UUID? = nil, details: [String: Any] = [:]) async {
        await api.audit.record(action, userID: user?.id, targetUserID: target, details: details, ip: clientIP)
    }
}
