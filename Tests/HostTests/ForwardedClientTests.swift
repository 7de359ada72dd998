import HTTPTypes
import XCTest

@testable import Host

/// The trust rules of `proxy.*`: which peer's forwarded headers count, which entry of an
/// X-Forwarded-For chain is the client, and which request ids are kept.
final class ForwardedClientTests: XCTestCase {
    private func proxy(_ trusted: [String], enabled: Bool = true, forHeader: String = "X-Forwarded-For",
                       protoHeader: String = "X-Forwarded-Proto") -> ForwardedClient {
        ForwardedClient(ProxyConfig(enabled: enabled, trustedProxies: trusted, forwardedForHeader: forHeader,
                                    forwardedProtoHeader: protoHeader))
    }

    private func headers(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return fields
    }

    private func client(_ chain: [String], peer: String = "10.0.0.1", trusted: [String] = ["10.0.0.0/8"]) -> String {
        proxy(trusted).origin(peer: peer, headers: headers(chain.map { ("X-Forwarded-For", $0) })).clientIP
    }

    func testNetworkListMatchesIPv4IPv6AndMappedAddresses() {
        let list = IPNetworkList(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::1"])
        XCTAssertTrue(list.contains("10.255.1.2"))
        XCTAssertFalse(list.contains("11.0.0.1"))
        XCTAssertTrue(list.contains("192.0.2.7"))
        XCTAssertFalse(list.contains("192.0.2.8"))
        XCTAssertTrue(list.contains("2001:db8:ffff::1"))
        XCTAssertFalse(list.contains("2001:db9::1"))
        XCTAssertTrue(list.contains("::1"))
        XCTAssertFalse(list.contains("::2"))
        XCTAssertTrue(list.contains("::ffff:10.1.2.3"), "IPv4-mapped IPv6 is matched as IPv4")
        XCTAssertFalse(list.contains("not-an-address"))
        XCTAssertFalse(list.contains(""))
        XCTAssertTrue(IPNetworkList(["0.0.0.0/0"]).contains("203.0.113.9"))
        XCTAssertFalse(IPNetworkList(["0.0.0.0/0"]).contains("2001:db8::1"), "families do not mix")
        XCTAssertTrue(IPNetworkList(["172.16.0.0/12"]).contains("172.31.255.255"))
        XCTAssertFalse(IPNetworkList(["172.16.0.0/12"]).contains("172.32.0.0"))
    }

    func testClientIsTheRightmostUntrustedEntry() {
        XCTAssertEqual(client(["203.0.113.5"]), "203.0.113.5")
        XCTAssertEqual(client(["203.0.113.5, 10.0.0.2"]), "203.0.113.5", "a second trusted proxy is skipped")
        XCTAssertEqual(client(["198.51.100.7, 203.0.113.5"]), "203.0.113.5",
                       "a leftmost entry the client wrote itself is not believed")
        XCTAssertEqual(client(["198.51.100.7, 203.0.113.5, 10.0.0.3, 10.0.0.2"]), "203.0.113.5")
        XCTAssertEqual(client(["10.0.0.9, 10.0.0.2"]), "10.0.0.9", "all trusted: the leftmost")
        XCTAssertEqual(client([]), "10.0.0.1", "no header: the peer")
        XCTAssertEqual(client(["198.51.100.7", "203.0.113.5, 10.0.0.2"]), "203.0.113.5",
                       "header lines are read as one list, in order")
        XCTAssertEqual(client(["203.0.113.5", "10.0.0.2"]), "203.0.113.5")
    }

    func testPortsBracketsAndIPv6() {
        XCTAssertEqual(client(["203.0.113.5:4711"]), "203.0.113.5")
        XCTAssertEqual(client(["[2001:db8::5]:4711"]), "2001:db8::5")
        XCTAssertEqual(client(["2001:DB8:0:0::5"]), "2001:db8::5", "canonical text")
        XCTAssertEqual(client(["[2001:db8::5]"]), "2001:db8::5")
        XCTAssertEqual(client(["::ffff:203.0.113.5"]), "203.0.113.5")
        XCTAssertEqual(client(["2001:db8::9, fd00::2"], peer: "fd00::1", trusted: ["fd00::/8"]), "2001:db8::9")
        XCTAssertEqual(client(["fd00::3, fd00::2"], peer: "fd00::1", trusted: ["fd00::/8"]), "fd00::3")
    }

    func testGarbageEndsTheWalkAtTheLastGoodAddress() {
        XCTAssertEqual(client(["203.0.113.5, garbage"]), "10.0.0.1", "rightmost garbage: the peer, nothing further left")
        XCTAssertEqual(client(["203.0.113.5, garbage, 10.0.0.2"]), "10.0.0.2")
        XCTAssertEqual(client(["garbage, 203.0.113.5, 10.0.0.2"]), "203.0.113.5", "garbage left of the client does not matter")
        XCTAssertEqual(client(["203.0.113.5, , 10.0.0.2"]), "10.0.0.2", "an empty entry is garbage")
        XCTAssertEqual(client(["unknown"]), "10.0.0.1")
        XCTAssertEqual(client(["203.0.113.5:port"]), "10.0.0.1")
        XCTAssertEqual(client(["[2001:db8::5"]), "10.0.0.1")
        XCTAssertEqual(client(["[2001:db8::5]x"]), "10.0.0.1")
        XCTAssertEqual(client(["1.2.3.4/8"]), "10.0.0.1")
        XCTAssertEqual(client([String(repeating: "9", count: 10_000)]), "10.0.0.1")
        XCTAssertNil(ForwardedClient.address("\u{0}203.0.113.5"))
        XCTAssertNil(ForwardedClient.address("203.0.113.5:"))
        XCTAssertEqual(ForwardedClient.address(" 203.0.113.5 "), "203.0.113.5")
    }

    func testALongChainIsBounded() {
        let trustedHops = Array(repeating: "10.0.0.2", count: 100)
        // The client sits beyond the 32 entries looked at: the walk ends at the leftmost one looked at.
        XCTAssertEqual(client([(["203.0.113.5"] + trustedHops).joined(separator: ", ")]), "10.0.0.2")
        XCTAssertEqual(client([(["203.0.113.5"] + trustedHops.prefix(10)).joined(separator: ", ")]), "203.0.113.5")
    }

    func testHeadersFromAnUntrustedPeerAreIgnored() {
        let spoofed = headers([("X-Forwarded-For", "203.0.113.5"), ("X-Forwarded-Proto", "https")])
        let untrusted = proxy(["10.0.0.0/8"]).origin(peer: "192.0.2.1", headers: spoofed)
        XCTAssertEqual(untrusted, RequestOrigin(clientIP: "192.0.2.1", scheme: "http", viaTrustedProxy: false),
                       "straight to acmeeh: plain http")
        let disabled = proxy(["10.0.0.0/8"], enabled: false).origin(peer: "10.0.0.1", headers: spoofed)
        XCTAssertEqual(disabled, RequestOrigin(clientIP: "10.0.0.1", scheme: nil, viaTrustedProxy: false),
                       "proxy off: the scheme is unknown (external_url's counts)")
        let noSocket = proxy(["10.0.0.0/8"]).origin(peer: nil, headers: spoofed)
        XCTAssertEqual(noSocket.clientIP, "unknown")
        XCTAssertFalse(noSocket.viaTrustedProxy)
        let trusted = proxy(["10.0.0.0/8"]).origin(peer: "10.0.0.1", headers: spoofed)
        XCTAssertEqual(trusted, RequestOrigin(clientIP: "203.0.113.5", scheme: "https", viaTrustedProxy: true))
    }

    func testSchemeAndCustomHeaderNames() {
        func scheme(_ values: [String]) -> String? {
            proxy(["10.0.0.0/8"]).origin(peer: "10.0.0.1", headers: headers(values.map { ("X-Forwarded-Proto", $0) }))
                .scheme
        }
        XCTAssertEqual(scheme(["https"]), "https")
        XCTAssertEqual(scheme(["HTTP"]), "http")
        XCTAssertEqual(scheme(["http, https"]), "https", "the rightmost value, set by the nearest proxy")
        XCTAssertEqual(scheme(["https", "http"]), "http")
        XCTAssertNil(scheme(["gopher"]))
        XCTAssertNil(scheme([]), "a trusted proxy that does not say: unknown")

        let custom = proxy(["10.0.0.0/8"], forHeader: "X-Real-Client", protoHeader: "X-Scheme")
        let origin = custom.origin(peer: "10.0.0.1", headers: headers([
            ("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "https"),
            ("X-Real-Client", "203.0.113.5"), ("X-Scheme", "http"),
        ]))
        XCTAssertEqual(origin, RequestOrigin(clientIP: "203.0.113.5", scheme: "http", viaTrustedProxy: true))
    }

    func testRequestIDIsKeptOnlyWhenSane() {
        XCTAssertEqual(ExtraHeaders.requestID(from: "abc-123_X.y~"), "abc-123_X.y~")
        let longest = String(repeating: "a", count: 128)
        XCTAssertEqual(ExtraHeaders.requestID(from: longest), longest)
        for bad in [String(repeating: "a", count: 129), "", "has space", "quote\"d", "semi;colon", "tab\t", "é",
                    "line\nbreak", "a,b", "(x)"] {
            let made = ExtraHeaders.requestID(from: bad)
            XCTAssertNotEqual(made, bad)
            XCTAssertNotNil(UUID(uuidString: made), "\(bad) → \(made)")
        }
        XCTAssertNotEqual(ExtraHeaders.requestID(from: nil), ExtraHeaders.requestID(from: nil))
    }
}
