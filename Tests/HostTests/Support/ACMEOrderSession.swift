import Foundation
import XCTest

/// One account of `ACMETestClient` on a test server and the order steps these tests take:
/// newOrder, read a challenge, respond, poll, finalize and download.
final class ACMEOrderSession {
    let client: ACMETestClient
    let key = TestKey.ec()
    let accountURL: String

    init(server: TestServer) throws {
        client = try ACMETestClient(directoryURL: server.directoryURL)
        let (reply, url) = try client.newAccount(key)
        guard reply.status == 201, !url.isEmpty else { throw CLIFailure("newAccount: \(reply.status) \(reply.text)") }
        accountURL = url
    }

    /// POSTs `payload` (POST-as-GET when nil) signed by the account; throws on a non-2xx reply.
    @discardableResult
    func post(_ url: String, _ payload: [String: Any]?) throws -> ACMETestClient.Reply {
        let reply = try client.post(url, payload.map { .json($0) } ?? .empty, key: key, kid: accountURL)
        guard (200..<300).contains(reply.status) else { throw CLIFailure("POST \(url): \(reply.status) \(reply.text)") }
        return reply
    }

    func get(_ url: String) throws -> [String: Any] { try post(url, nil).json ?? [:] }

    /// The new order's URL.
    func newOrder(_ names: [String]) throws -> String {
        let reply = try post(client.url("newOrder"), ["identifiers": names.map { ["type": "dns", "value": $0] }])
        return try XCTUnwrap(reply.location, "newOrder gave no Location")
    }

    /// The order's first authorization URL and its challenge of `type`.
    func challenge(_ order: String, type: String) throws -> (String, [String: Any]) {
        let authorization = try XCTUnwrap((try get(order)["authorizations"] as? [String])?.first)
        let challenges = try get(authorization)["challenges"] as? [[String: Any]] ?? []
        let challenge = try XCTUnwrap(challenges.first { $0["type"] as? String == type }, "no \(type) in \(challenges)")
        return (authorization, challenge)
    }

    /// RFC 8555 §7.5.1: `{}` to the challenge URL asks the server to validate.
    func respond(_ challenge: [String: Any]) throws {
        try post(try XCTUnwrap(challenge["url"] as? String), [:])
    }

    /// Polls `url` until its status leaves `notIn` (at most `timeout` seconds); the last resource.
    func waitForStatus(_ url: String, notIn: Set<String>, timeout: TimeInterval = 60) throws -> [String: Any] {
        let end = Date().addingTimeInterval(timeout)
        var resource = try get(url)
        while notIn.contains(resource["status"] as? String ?? ""), Date() < end {
            Thread.sleep(forTimeInterval: 0.5)
            resource = try get(url)
        }
        return resource
    }

    /// Finalizes the ready order with a fresh key's CSR for `names` and writes the issued
    /// chain into `directory`; the chain file's URL.
    func finalize(_ order: String, names: [String], in directory: URL) throws -> URL {
        let ready = try waitForStatus(order, notIn: ["pending"])
        guard ready["status"] as? String == "ready" else { throw CLIFailure("order not ready: \(ready)") }
        let csr = try TestCSR.make(names: names, keyPath: try TestCSR.newKey(in: directory), in: directory)
        try post(try XCTUnwrap(ready["finalize"] as? String), ["csr": csr])
        let finalized = try waitForStatus(order, notIn: ["processing"])
        let certificate = try XCTUnwrap(finalized["certificate"] as? String, "no certificate: \(finalized)")
        let file = directory.appendingPathComponent("\(UUID().uuidString.prefix(8))-chain.pem")
        try post(certificate, nil).body.write(to: file)
        return file
    }
}
