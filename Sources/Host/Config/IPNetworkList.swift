/// A list of IP networks written as `ADDRESS` or `ADDRESS/PREFIX` (`proxy.trusted_proxies`):
/// whether an address lies in one of them. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`)
/// is matched as the IPv4 address it carries.
struct IPNetworkList: Sendable, Equatable {
    private struct Network: Sendable, Equatable {
        let bytes: [UInt8]
        let prefix: Int
    }

    private let networks: [Network]

    /// Parses each entry; entries that do not parse are left out (the loader has already
    /// refused them with `NetworkSyntax.cidrProblem`).
    init(_ cidrs: [String]) {
        networks = cidrs.compactMap { text in
            NetworkSyntax.network(text).map { Network(bytes: $0.bytes, prefix: $0.prefix) }
        }
    }

    var isEmpty: Bool { networks.isEmpty }

    /// Whether the literal address `text` lies in one of the networks (false when it is not an address).
    func contains(_ text: String) -> Bool {
        guard let bytes = NetworkSyntax.addressBytes(text) else { return false }
        return contains(bytes: bytes)
    }

    func contains(bytes: [UInt8]) -> Bool {
        let candidate = NetworkSyntax.unmappedIPv4(bytes)
        return networks.contains { network in
            guard network.bytes.count == candidate.count else { return false }
            var remaining = network.prefix
            for (a, b) in zip(network.bytes, candidate) where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if a & mask != b & mask { return false }
                remaining -= bits
            }
            return true
        }
    }
}
