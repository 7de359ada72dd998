import Foundation

/// Certificates for serving the signing service over HTTPS on loopback, made once per run
/// with the openssl CLI: a test TLS CA, a server certificate for 127.0.0.1 and a client
/// certificate (mutual TLS) issued by it, and a client certificate from an unrelated CA.
struct TLSTestPKI: Sendable {
    let caCert: String
    let serverCert: String, serverKey: String
    let clientCert: String, clientKey: String
    /// Issued by another CA, which the service does not trust.
    let strangerCert: String, strangerKey: String

    private static let made: Result<TLSTestPKI, any Error> = Result { try make() }

    static func shared() throws -> TLSTestPKI { try made.get() }

    private static func make() throws -> TLSTestPKI {
        let directory = try TestPaths.temporaryDirectory("acmeeh-tls-pki")
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        func openssl(_ arguments: [String]) throws {
            let result = try Command.tool("openssl", arguments)
            guard result.status == 0 else { throw CLIFailure("openssl \(arguments.first ?? ""): \(result.stderr)") }
        }
        func newCA(_ name: String, subject: String) throws {
            try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                         "-keyout", path("\(name).key"), "-out", path("\(name).pem"), "-days", "2", "-subj", subject,
                         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
        }
        /// A leaf for `name` issued by `ca`, with the extensions in `extensions`.
        func issue(_ name: String, subject: String, by ca: String, extensions: String) throws {
            try openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                         "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
            try extensions.write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
            try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).pem"), "-CAkey", path("\(ca).key"),
                         "-set_serial", "0x" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16),
                         "-days", "2", "-extfile", path("\(name).ext"), "-out", path("\(name).pem")])
        }
        try newCA("tls-ca", subject: "/CN=acmeeh test TLS CA")
        try newCA("stranger-ca", subject: "/CN=unrelated CA")
        try issue("server", subject: "/CN=127.0.0.1", by: "tls-ca",
                  extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        try issue("client", subject: "/CN=acmeeh signing client", by: "tls-ca", extensions: "extendedKeyUsage=clientAuth\n")
        try issue("stranger", subject: "/CN=stranger", by: "stranger-ca", extensions: "extendedKeyUsage=clientAuth\n")
        return TLSTestPKI(caCert: path("tls-ca.pem"), serverCert: path("server.pem"), serverKey: path("server.key"),
                          clientCert: path("client.pem"), clientKey: path("client.key"),
                          strangerCert: path("stranger.pem"), strangerKey: path("stranger.key"))
    }

    /// signing_service.py arguments: HTTPS, and mutual TLS (clients of the test TLS CA) when `mutual`.
    func serviceArguments(mutual: Bool) -> [String] {
        ["--tls-cert", serverCert, "--tls-key", serverKey] + (mutual ? ["--client-ca", caCert] : [])
    }
}
