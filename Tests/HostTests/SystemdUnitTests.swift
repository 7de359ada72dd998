import Foundation
import XCTest

/// `deploy/acmeeh.service` is a unit systemd accepts (`systemd-analyze verify`, with the
/// built executable where the unit expects /opt/acmeeh/acmeeh), reloads by SIGHUP,
/// restarts on failure, runs as its own user and keeps its hardening: the offline
/// security audit rates it "OK" or better.
final class SystemdUnitTests: XCTestCase {
    static let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    func unit() throws -> String {
        try String(contentsOf: TestPaths.repository.appendingPathComponent("deploy/acmeeh.service"), encoding: .utf8)
    }

    func testUnitDirectives() throws {
        let lines = Set(try unit().split(separator: "\n").map(String.init))
        for directive in ["ExecStart=/opt/acmeeh/acmeeh -c /etc/acmeeh/acmeeh.yaml serve",
                          "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "User=acmeeh", "Group=acmeeh",
                          "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/acmeeh /var/log/acmeeh",
                          "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
                          "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "CapabilityBoundingSet="] {
            XCTAssertTrue(lines.contains(directive), "deploy/acmeeh.service lacks \(directive)")
        }
    }

    func testSystemdAnalyzeVerifiesTheUnit() throws {
        guard let analyze = Self.analyze else {
            throw XCTSkip("systemd-analyze is not installed (apt-get install -y systemd; scripts/setup installs it)")
        }
        let directory = try TestPaths.temporaryDirectory("acmeeh-unit")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("acmeeh.service")
        try unit().replacingOccurrences(of: "/opt/acmeeh/acmeeh", with: TestPaths.executable.path)
            .write(to: file, atomically: true, encoding: .utf8)

        let verify = try Command.run(analyze, ["verify", file.path])
        XCTAssertEqual(verify.status, 0, verify.stderr + verify.stdout)
        XCTAssertEqual(verify.stderr.trimmingCharacters(in: .whitespacesAndNewlines), "", "warnings from verify")

        let security = try Command.run(analyze, ["security", "--offline=true", "--threshold=30", file.path])
        XCTAssertEqual(security.status, 0, security.stdout + security.stderr)
        let rating = security.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") }
        XCTAssertTrue(rating.map { $0.contains(" OK") || $0.contains(" SAFE") } ?? false, String(rating ?? ""))
    }
}
