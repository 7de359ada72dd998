/// The directory object of RFC 8555 §7.1.1, with `meta` as the reference serves it.
struct Directory: Sendable {
    let urls: ACMEURLs
    let config: AppConfig

    func json() -> [String: any Sendable] {
        let paths = urls.paths
        var directory: [String: any Sendable] = [
            "newNonce": urls.absolute(paths.newNonce),
            "newAccount": urls.absolute(paths.newAccount),
            "newOrder": urls.absolute(paths.newOrder),
            "newAuthz": urls.absolute(paths.newAuthz),
            "revokeCert": urls.absolute(paths.revokeCert),
            "keyChange": urls.absolute(paths.keyChange),
        ]
        // RFC 9773 §4: renewalInfo is advertised only when ARI is served.
        if let renewalInfo = urls.renewalInfoPath {
            directory["renewalInfo"] = urls.absolute(renewalInfo)
        }
        var meta: [String: any Sendable] = [
            // Non-standard, kept because the reference always sends it.
            "authorizationLifetimeDays": config.order.authorizationExpirySeconds / 86_400
        ]
        if let tos = config.tos.url { meta["termsOfService"] = tos }
        if let website = config.acme.websiteURL { meta["website"] = website }
        if !config.acme.caaIdentities.isEmpty { meta["caaIdentities"] = config.acme.caaIdentities }
        if config.acme.eabRequired { meta["externalAccountRequired"] = true }
        // draft-ietf-acme-profiles: names of the profiles a newOrder may request.
        let profiles = config.ca.profiles.keys.filter { $0 != "default" }
        if !profiles.isEmpty {
            meta["profiles"] = Dictionary(uniqueKeysWithValues: config.ca.profiles.keys.sorted().map { ($0, "") })
        }
        directory["meta"] = meta
        return directory
    }
}
