import Foundation
import XCTest

extension XCTestCase {
    /// Starts `Fixtures/signing_service.py` (signing under the RSA root of `CAFilePKI`)
    /// and stops it (SIGKILL) when the test ends.
    func startSigningService(_ arguments: [String] = []) throws -> SigningService {
        let pki = try CAFilePKI.shared()
        let directory = try TestPaths.temporaryDirectory("acmeeh-signing-service")
        let service = try SigningService(directory: directory, caCert: pki.rsaRootCert, caKey: pki.rsaRootKey, arguments: arguments)
        addTeardownBlock {
            service.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        return service
    }
}
