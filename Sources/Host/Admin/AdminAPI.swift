import Foundation
import Hummingbird
import Logging

/// The admin REST API (`admin_api`): what its routes share — the database, Core, token
/// checks, the login lockout and the audit trail — and their registration under
/// `admin_api.base_path`, on the ACME listener or on a listener of its own.
struct AdminAPI: Sendable {
    /// Bodies beyond this size are refused (a CSR profile or a bulk revocation fits easily).
    static let maxBodyBytes = 256 * 1024

    let config: AdminAPIConfig
    let core: CoreServices
    let logger: Logger

    var database: Database { core.database }
    var authenticator: AdminAuthenticator {
        AdminAuthenticator(database: database, secret: config.tokenSecret, lifetimeSeconds: config.tokenExpirySeconds)
    }
    var throttle: AdminLoginThrottle { AdminLoginThrottle(database: database) }
    var audit: AdminAudit { AdminAudit(database: database, logger: logger) }
    var users: AdminUsers { AdminUsers(api: self) }

    /// Who may call a route.
    enum Access: Sendable {
        /// No token (login).
        case anyone
        /// `admin` and `auditor`.
        case reader
        /// `admin` only.
        case admin
    }

    /// Registers every route under `base_path`; throws when a route already there (ACME,
    /// health, metrics, CRL) is at or below it.
    func register(on router: Router<ACMERequestContext>) throws {
        let base = config.basePath
        if let taken = router.routes.map(\.path.description).first(where: { $0 == base || $0.hasPrefix(base + "/") }) {
            throw RouteConflict(description: "admin_api.base_path \(base) overlaps \(taken), which acmeeh already serves; choose another path")
        }
        // The reference client probes `GET {base_path}` before it follows audit-log pages.
        let probe: @Sendable (Request, ACMERequestContext) async throws -> Response = { _, _ in
            AdminReply.json(["service": "acmeeh-admin"])
        }
        router.get(RouterPath(base), use: probe)
        let routes = AdminRouteTable(api: self, router: router, base: base)
        registerAuthRoutes(routes)
        registerUserRoutes(routes)
        registerAuditLogRoutes(routes)
        registerOperationRoutes(routes)
        registerEABRoutes(routes)
        registerCertificateRoutes(routes)
        registerAccountRoutes(routes)
        registerNotificationRoutes(routes)
        registerEABLinkRoutes(routes)
        registerAllowedIdentifierRoutes(routes)
        registerCSRProfileRoutes(routes)
    }

    /// Whether a metrics scrape carries a valid admin token (either role; `metrics.auth_required`).
    func authorizeMetrics(_ headers: HTTPFields) async -> Bool {
        (try? await authenticator.authenticate(headers)) != nil
    }
}

/// Adds admin routes with the API's authentication, role check and error rendering.
struct AdminRouteTable {
    let api: AdminAPI
    let router: Router<ACMERequestContext>
    let base: String

    func add(_ method: HTTPRequest.Method, _ path: String, _ access: AdminAPI.Access,
             _ handler: @escaping @Sendable (AdminCall) async throws -> Response) {
        let api = self.api
        router.on(RouterPath(base + path), method: method) { request, context in
            do {
                var user: AdminUser? = nil
                var token: String? = nil
                if access != .anyone {
                    (user, token) = try await api.authenticator.authenticate(request.headers)
                    if access == .admin, user?.role != .admin {
                        throw AdminProblem(.forbidden, "this needs the admin role; \(user?.username ?? "") is an auditor")
                    }
                }
                return try await handler(AdminCall(request: request, context: context, user: user, token: token, api: api))
            } catch let problem as AdminProblem {
                return problem.response
            } catch let problem as Problem {
                // A refusal of Core (a bad serial, a bad reason): the caller's mistake.
                return AdminProblem(problem.refusal == .notFound ? .notFound : .badRequest, problem.detail).response
            } catch let error as StoreError where error.isUniqueViolation {
                return AdminProblem(.conflict, "it already exists").response
            } catch let error as StoreError where error.isForeignKeyViolation {
                return AdminProblem(.notFound, "a resource named in the path does not exist").response
            } catch {
                api.logger.error("admin request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                return AdminProblem(.serverInternal, "the request could not be completed; the server log has the cause").response
            }
        }
    }

    func get(_ path: String, _ access: AdminAPI.Access, _ handler: @escaping @Sendable (AdminCall) async throws -> Response) {
        add(.get, path, access, handler)
    }
    func post(_ path: String, _ access: AdminAPI.Access, _ handler: @escaping @Sendable (AdminCall) async throws -> Response) {
        add(.post, path, access, handler)
    }
    func put(_ path: String, _ access: AdminAPI.Access, _ handler: @escaping @Sendable (AdminCall) async throws -> Response) {
        add(.put, path, access, handler)
    }
    func patch(_ path: String, _ access: AdminAPI.Access, _ handler: @escaping @Sendable (AdminCall) async throws -> Response) {
        add(.patch, path, access, handler)
    }
    func delete(_ path: String, _ access: AdminAPI.Access, _ handler: @escaping @Sendable (AdminCall) async throws -> Response) {
        add(.delete, path, access, handler)
    }
}
