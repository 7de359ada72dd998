import Foundation

/// `/maintenance` and `POST /crl/rebuild`.
extension AdminAPI {
    func registerOperationRoutes(_ routes: AdminRouteTable) {
        routes.get("/maintenance", .admin) { call in
            let on = try await call.api.database.withConnection { try $0.maintenanceMode() }
            return AdminReply.json(["maintenance_mode": on])
        }
        routes.post("/maintenance", .admin) { call in
            let body = try await call.body()
            try body.allowOnly(["enabled"])
            guard let enabled = try body.bool("enabled") else { throw AdminProblem(.badRequest, "\"enabled\" is required") }
            try await call.api.database.withConnection { try $0.setMaintenanceMode(enabled) }
            try? await call.api.core.maintenance.refresh()
            await call.audit("maintenance.set", details: ["enabled": enabled])
            return AdminReply.json(["maintenance_mode": enabled])
        }
        routes.post("/crl/rebuild", .admin) { call in
            guard let publisher = call.api.core.crl else {
                throw AdminProblem(.serviceUnavailable, "CRL publishing is off (crl.enabled: false)")
            }
            var rebuilt: [[String: Any]] = []
            for backend in call.api.core.ca.backends.map(\.name) {
                guard let crl = try await publisher.rebuild(backend, force: true) else { continue }
                rebuilt.append(["backend": backend, "crl_number": crl.number, "entries": crl.entries,
                                "this_update": AdminReply.date(crl.thisUpdate), "next_update": AdminReply.date(crl.nextUpdate)])
            }
            let (stale, number, detail) = await publisher.health()
            await call.audit("crl.rebuild", details: ["backends": rebuilt.count])
            return AdminReply.json(["status": stale ? "stale" : "ok", "stale": stale, "crl_number": AdminReply.value(number),
                                    "detail": AdminReply.value(detail), "rebuilt": rebuilt])
        }
    }
}
