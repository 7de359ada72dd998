import Foundation
@testable import Host
import XCTest

/// The configuration the host hands each built-in challenge validator (`validatorConfigJSON`).
final class ValidatorConfigTests: XCTestCase {
    /// The configuration each built-in validator receives: its own resolvers when set,
    /// else `dns.resolvers`; nothing added when both are empty (the system's resolver).
    func testValidatorResolversFallBackToDNSResolvers() throws {
        func resolvers(_ yaml: String, _ entry: ChallengeRef) throws -> [String]? {
            let config = try ConfigLoader.load(yaml: ConfigTests.minimal + yaml, source: "test.yaml", environment: [:])
            let json = validatorConfigJSON(entry, config: config)
            return (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["resolvers"] as? [String]
        }
        let shared = "dns: {resolvers: ['127.0.0.1:5353']}\n"
        for entry in [ChallengeRef.http01, .dns01, .tlsALPN01, .dnsPersist01] {
            XCTAssertEqual(try resolvers(shared, entry), ["127.0.0.1:5353"], "\(entry)")
        }
        XCTAssertEqual(try resolvers(shared + "challenges: {dns01: {resolvers: []}}", .dns01), ["127.0.0.1:5353"])
        XCTAssertEqual(try resolvers(shared + "challenges: {dns01: {resolvers: ['10.0.0.1']}}", .dns01), ["10.0.0.1"])
        XCTAssertEqual(try resolvers(shared + "challenges: {dnspersist01: {resolvers: ['10.0.0.2']}}", .dnsPersist01),
                       ["10.0.0.2"])
        XCTAssertNil(try resolvers("", .dns01), "no resolvers anywhere: the plugin asks the system's")
    }

    /// `challenges.dns01/dnspersist01.propagation_wait_seconds`: a DNS challenge is never asked
    /// again sooner than that; the other types wait the backoff alone.
    func testDNSChallengeRetriesWaitForPropagation() throws {
        let config = try ConfigLoader.load(yaml: ConfigTests.minimal + """
            challenges:
              backoff_base_seconds: 2
              backoff_max_seconds: 40
              dns01: {propagation_wait_seconds: 15}
              dnspersist01: {propagation_wait_seconds: 0}
            """, source: "test.yaml", environment: [:])
        let types = ChallengeTypes(validators: [:], config: config.challenges)
        XCTAssertEqual((0..<5).map { types.retryDelaySeconds("dns-01", retry: $0) }, [15, 15, 15, 16, 32])
        XCTAssertEqual((0..<3).map { types.retryDelaySeconds("http-01", retry: $0) }, [2, 4, 8])
        XCTAssertEqual((0..<3).map { types.retryDelaySeconds("dns-persist-01", retry: $0) }, [2, 4, 8])
    }
}
