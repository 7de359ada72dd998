import COpenSSL
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

@testable import Host

/// A P-256 account key for tests: its JWK, RFC 7638 thumbprint and ES256 signatures.
final class TestAccountKey: @unchecked Sendable {
    let pkey: OpaquePointer

    init() throws {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw CLIFailure("EVP_PKEY_CTX") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
              EVP_PKEY_generate(context, &key) == 1, let key else { throw CLIFailure("cannot generate a P-256 key") }
        pkey = key
    }

    deinit { EVP_PKEY_free(pkey) }

    /// RFC 7638 canonical JWK (members in lexicographic order).
    var jwkJSON: String {
        var buffer = [UInt8](repeating: 0, count: 65)
        var length = 0
        _ = EVP_PKEY_get_octet_string_param(pkey, "encoded-pub-key", &buffer, buffer.count, &length)
        let x = Base64URL.encode(buffer[1...32]), y = Base64URL.encode(buffer[33...64])
        return "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"\(x)\",\"y\":\"\(y)\"}"
    }

    var thumbprint: String { Base64URL.encode(Digest.sha256(Array(jwkJSON.utf8))) }

    /// The private key as PEM (to sign a CSR with the account key).
    var privateKeyPEM: String {
        let bio = BIO_new(BIO_s_mem())!
        defer { BIO_free(bio) }
        PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil)
        var data: UnsafeMutablePointer<CChar>?
        let length = acmeeh_BIO_get_mem_data(bio, &data)
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// ES256: SHA-256 ECDSA, r‖s (RFC 7518 §3.4).
    func sign(_ input: [UInt8]) -> [UInt8] {
        let context = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestSignInit(context, nil, EVP_sha256(), nil, pkey)
        var length = 0
        EVP_DigestSign(context, nil, &length, input, input.count)
        var der = [UInt8](repeating: 0, count: length)
        EVP_DigestSign(context, &der, &length, input, input.count)
        let signature = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var p: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &p, length)
        }
        defer { ECDSA_SIG_free(signature) }
        var r: OpaquePointer?, s: OpaquePointer?
        ECDSA_SIG_get0(signature, &r, &s)
        var out = [UInt8](repeating: 0, count: 64)
        out.withUnsafeMutableBufferPointer { buffer in
            _ = BN_bn2binpad(r, buffer.baseAddress, 32)
            _ = BN_bn2binpad(s, buffer.baseAddress! + 32, 32)
        }
        return out
    }
}

/// A minimal ACME client for the order tests: kid-signed ES256 JWS over the test HTTP
/// client. Accounts are inserted straight into the database (newAccount lives on the
/// accounts branch), so these tests depend only on the order resources.
final class OrderTestClient {
    let base: String
    let key: TestAccountKey
    let accountURL: String
    private var nonce: String?

    init(base: String, database: DatabaseConfig) throws {
        self.base = base
        key = try TestAccountKey()
        let connection = try Connection(config: database)
        defer { connection.close() }
        guard let row = try connection.queryFirst(
            "INSERT INTO accounts (jwk, jwk_thumbprint, tos_agreed) VALUES ($1, $2, true) RETURNING id",
            [.jsonb(key.jwkJSON), .string(key.thumbprint)]) else { throw CLIFailure("no account row") }
        accountURL = base + "/acct/" + (try row.uuid("id")).uuidString.lowercased()
    }

    /// POST with a JSON payload, or POST-as-GET when `payload` is nil (RFC 8555 §6.3).
    @discardableResult
    func post(_ url: String, _ payload: [String: Any]?) throws -> HTTP.Response {
        for _ in 0..<3 {
            let response = try send(url, payload)
            if let next = response.header("Replay-Nonce") { nonce = next }
            if response.status == 400, response.json?["type"] as? String == "urn:ietf:params:acme:error:badNonce" { continue }
            return response
        }
        throw CLIFailure("badNonce three times for \(url)")
    }

    private func send(_ url: String, _ payload: [String: Any]?) throws -> HTTP.Response {
        try HTTP.send(try signedRequest(url, payload))
    }

    /// The signed POST request, with a nonce of its own, ready to send (e.g. several at once).
    func signedRequest(_ url: String, _ payload: [String: Any]?) throws -> URLRequest {
        if nonce == nil {
            nonce = try HTTP.get(base + "/new-nonce").header("Replay-Nonce")
        }
        let header: [String: Any] = ["alg": "ES256", "kid": accountURL, "nonce": nonce ?? "", "url": url]
        nonce = nil
        let protected = Base64URL.encode(try JSONSerialization.data(withJSONObject: header))
        let body = try payload.map { Base64URL.encode(try JSONSerialization.data(withJSONObject: $0)) } ?? ""
        let signature = Base64URL.encode(key.sign(Array("\(protected).\(body)".utf8)))
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.timeoutInterval = 60
        request.setValue("application/jose+json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: [
            "protected": protected, "payload": body, "signature": signature])
        return request
    }

    func newOrder(_ names: [String], extra: [String: Any] = [:]) throws -> HTTP.Response {
        var payload: [String: Any] = ["identifiers": names.map { ["type": "dns", "value": $0] }]
        payload.merge(extra) { _, new in new }
        return try post(base + "/new-order", payload)
    }
}

/// Keys and CSRs made with the openssl command line.
enum TestCSR {
    /// A new P-256 key in `directory`, returning its path.
    static func newKey(in directory: URL, name: String = UUID().uuidString) throws -> String {
        let path = directory.appendingPathComponent("\(name).key").path
        let result = try Command.tool("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path])
        guard result.status == 0 else { throw CLIFailure(result.stderr) }
        return path
    }

    /// base64url DER of a CSR for `names` (DNS SANs, or `IP:` ones), signed with the key at `keyPath`.
    static func make(names: [String], keyPath: String, commonName: String? = nil, in directory: URL) throws -> String {
        let out = directory.appendingPathComponent("\(UUID().uuidString).csr").path
        var arguments = ["req", "-new", "-key", keyPath, "-outform", "DER", "-out", out,
                         "-subj", commonName.map { "/CN=\($0)" } ?? "/"]
        if !names.isEmpty { arguments += ["-addext", "subjectAltName=" + names.map { $0.hasPrefix("IP:") ? $0 : "DNS:\($0)" }.joined(separator: ",")] }
        let result = try Command.tool("openssl", arguments)
        guard result.status == 0 else { throw CLIFailure("openssl req: \(result.stderr)") }
        return Base64URL.encode(Array(try Data(contentsOf: URL(fileURLWithPath: out))))
    }
}

/// The C challenge validator of Fixtures/file_validator.c, compiled once per run.
enum FileValidatorFixture {
    /// (http-01 library, dns-01 library): an `ext:` entry serves the first type its plugin declares.
    static let libraries: Result<(http: String, dns: String), Fixtures.FixtureError> = Result { () throws(Fixtures.FixtureError) in
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("acmeeh-order-fixtures-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch { throw Fixtures.FixtureError(description: "mkdir \(directory): \(error)") }
        let source = Fixtures.repository + "/Tests/HostTests/Fixtures/file_validator.c"
        let http = directory + "/libFileValidatorHTTP.so", dns = directory + "/libFileValidatorDNS.so"
        try Fixtures.compile(source, to: http, defines: [])
        try Fixtures.compile(source, to: dns, defines: ["-DDNS_FIRST"])
        return (http, dns)
    }
}
