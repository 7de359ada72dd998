import Hummingbird

/// Registers every ACME resource of RFC 8555 §7.1 on the router, under `api.base_path`.
extension ACMEServices {
    func register(on router: Router<ACMERequestContext>) {
        let paths = urls.paths
        gateway.newNonce(router, urls.route(paths.newNonce))
        registerAccountRoutes(on: router)
        registerOrderRoutes(on: router)
    }
}
