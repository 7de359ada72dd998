import Hummingbird

/// Placeholder so that branch `accounts` builds on its own: the orders branch defines the
/// real `registerOrderRoutes` (ACMERoutes.swift calls it). Delete this file when merging
/// `orders`.
extension ACMEServices {
    func registerOrderRoutes(on router: Router<BasicRequestContext>) {}
}
