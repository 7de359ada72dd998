import Foundation
import Logging
import PluginAPI
import Synchronization
import Testing

@testable import Host

/// Plugins written in plain C (Tests/HostTests/Fixtures), compiled at run time with the
/// system C compiler, loaded through the host's own loader: a plain C plugin must load
/// and pass the same ABI checks as a Swift one.
@Suite struct PluginLoaderTests {
    let fixtures: Fixtures
    let logs = LogCapture()
    let registry: PluginRegistry

    init() throws {
        fixtures = try Fixtures.shared.get()
        let logs = self.logs
        registry = PluginRegistry(threadPool: Fixtures.pool) { label in
            Logger(label: label) { label in CapturingLogHandler(label: label, capture: logs) }
        }
    }

    // MARK: - resolution

    @Test func resolvesBuiltinAndExternalReferences() throws {
        #expect(try PluginReference.caLibrary("internal", configKey: "ca.backend", directory: "/p") == "/p/libCAFile.so")
        #expect(try PluginReference.caLibrary("external", configKey: "ca.backend", directory: "/p/") == "/p/libCAExternal.so")
        #expect(try PluginReference.caLibrary("ext:HSM", configKey: "ca.backend", directory: "/p") == "/p/libHSM.so")
        #expect(try PluginReference.caLibrary("ext:my.so", configKey: "ca.backend", directory: "/p") == "/p/my.so")
        #expect(try PluginReference.caLibrary("ext:/opt/x/libY.so", configKey: "ca.backend", directory: "/p") == "/opt/x/libY.so")
        #expect(try PluginReference.caLibrary("ext:rel/libY.so", configKey: "ca.backend", directory: "/p") == "rel/libY.so")
        #expect(try PluginReference.challengeLibrary("http-01", configKey: "k", directory: "/p") == ("/p/libChallengeHTTP01.so", "http-01"))
        #expect(try PluginReference.challengeLibrary("dns-01", configKey: "k", directory: "/p").path == "/p/libChallengeDNS01.so")
        #expect(try PluginReference.challengeLibrary("dns-persist-01", configKey: "k", directory: "/p") == ("/p/libChallengeDNS01.so", "dns-persist-01"))
        #expect(try PluginReference.challengeLibrary("tls-alpn-01", configKey: "k", directory: "/p").path == "/p/libChallengeTLSALPN.so")
        #expect(try PluginReference.challengeLibrary("ext:Mine", configKey: "k", directory: "/p") == ("/p/libMine.so", nil))
        #expect(try PluginReference.notifierLibrary("smtp", configKey: "k", directory: "/p") == "/p/libNotifierSMTP.so")
        #expect(try PluginReference.notifierLibrary("webhook", configKey: "k", directory: "/p") == "/p/libNotifierWebhook.so")
        #expect(try PluginReference.notifierLibrary("ext:Pager", configKey: "k", directory: "/p") == "/p/libPager.so")
        #expect(PluginReference.join("", "libA.so") == "./libA.so")

        #expect(PluginReference.directory(configured: "/etc/acmeeh/plugins", environment: ["ACMEEH_PLUGIN_DIR": "/env"]) == "/etc/acmeeh/plugins")
        #expect(PluginReference.directory(configured: nil, environment: ["ACMEEH_PLUGIN_DIR": "/env"]) == "/env")
        let exeDirectory = try #require(PluginReference.executableDirectory())
        #expect(PluginReference.directory(configured: "", environment: [:]) == exeDirectory)
        #expect(FileManager.default.fileExists(atPath: exeDirectory))
    }

    @Test func unknownReferencesNameTheKey() {
        expectLoadError(try PluginReference.caLibrary("vault", configKey: "ca.backend", directory: "/p"),
                        "ca.backend: unknown CA backend \"vault\"")
        expectLoadError(try PluginReference.challengeLibrary("http-02", configKey: "challenges.enabled[2]", directory: "/p"),
                        "challenges.enabled[2]: unknown challenge type \"http-02\"")
        expectLoadError(try PluginReference.caLibrary("ext:", configKey: "ca.backend", directory: "/p"),
                        "ca.backend: \"ext:\" needs a plugin name or path")
    }

    // MARK: - a working validator in C

    @Test func cValidatorAcceptsRejectsAndLogs() async throws {
        let validator = try await registry.loadChallenge(
            entry: "ext:ThumbprintC", configKey: "challenges.enabled[0]", directory: fixtures.directory,
            configJSON: #"{"thumbprint": "THUMB"}"#, configPath: "challenges.http01")
        #expect(validator.name == "ThumbprintC")
        #expect(validator.challengeTypes == [ChallengeTypeInfo(challengeType: "http-01", supportsDNS: true, supportsIP: true, usesToken: true)])

        try await validator.validate(request(token: "tok", keyAuthorization: "tok.THUMB"), timeout: .seconds(5))

        let rejection = await expectPluginError { try await validator.validate(request(token: "tok", keyAuthorization: "tok.OTHER"), timeout: .seconds(5)) }
        #expect(rejection?.code == .rejected)
        #expect(rejection?.retryable == false)
        #expect(rejection?.problemType == "urn:ietf:params:acme:error:incorrectResponse")
        #expect(rejection?.detail == "key authorization for www.example.com does not match")
        #expect(rejection?.source == "ThumbprintC (challenges.enabled[0])")

        let unavailable = await expectPluginError { try await validator.validate(request(token: "unavailable", keyAuthorization: "x"), timeout: .seconds(5)) }
        #expect(unavailable?.code == .unavailable)
        #expect(unavailable?.retryable == true)
        #expect(unavailable?.problemType == "urn:ietf:params:acme:error:serverInternal")
        #expect(unavailable?.detail == "resolver unreachable")

        let bogus = await expectPluginError { try await validator.validate(request(token: "bogus-status", keyAuthorization: "x"), timeout: .seconds(5)) }
        #expect(bogus?.detail == "validate returned unknown status 42")
        #expect(bogus?.problemType == PluginError.serverInternal)

        // Log lines arrive through acmeeh_host_api.log, labelled, with levels mapped, as data.
        let lines = logs.lines()
        #expect(lines.contains { $0.label == "acmeeh.plugin.challenges.http01" && $0.level == .notice
                && $0.message == "created for challenges.http01 serving http-01" })
        #expect(lines.contains { $0.level == .info && $0.message == "validating http-01 www.example.com for https://ca.test/acct/1 (100% plain C)"
                && $0.metadata["plugin"] == "ThumbprintC" && $0.metadata["config"] == "challenges.http01" })
        await validator.close()
    }

    @Test func builtinNameLoadsFromTheDirectory() async throws {
        // fixtures.directory also holds the C validator copied as libChallengeHTTP01.so.
        let validator = try await registry.loadChallenge(
            entry: "http-01", configKey: "challenges.enabled[1]", directory: fixtures.directory,
            configJSON: #"{"thumbprint": "T"}"#, configPath: "challenges.http01")
        try await validator.validate(request(token: "a", keyAuthorization: "a.T"), timeout: .seconds(5))
        #expect(validator.instance.library.path == fixtures.directory + "/libChallengeHTTP01.so")
    }

    @Test func validatorThatDoesNotServeTheTypeIsRefused() async throws {
        try? FileManager.default.removeItem(atPath: fixtures.directory + "/persist")
        try FileManager.default.createDirectory(atPath: fixtures.directory + "/persist", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixtures.directory + "/libThumbprintC.so", toPath: fixtures.directory + "/persist/libChallengeDNS01.so")
        let path = fixtures.directory + "/persist/libChallengeDNS01.so"
        await expectLoadError(
            try await registry.loadChallenge(entry: "dns-persist-01", configKey: "challenges.enabled[3]", directory: fixtures.directory + "/persist",
                                             configJSON: #"{"thumbprint": "T"}"#, configPath: "challenges.dns01"),
            "challenges.enabled[3]: cannot load plugin \(path): ThumbprintC does not serve dns-persist-01 (it declares http-01)")
    }

    @Test func deadlineIsInTheFuture() async throws {
        let validator = try await registry.loadChallenge(
            entry: "ext:" + fixtures.directory + "/libThumbprintC.so", configKey: "challenges.enabled[0]",
            directory: "/nowhere", configJSON: #"{"thumbprint": "T"}"#, configPath: "challenges.http01")
        let answer = await expectPluginError { try await validator.validate(request(token: "remaining", keyAuthorization: "x"), timeout: .seconds(7)) }
        let detail = try #require(answer?.detail)
        #expect(detail.hasPrefix("remaining_ms="))
        let remaining = try #require(Int(detail.dropFirst("remaining_ms=".count)))
        #expect(remaining > 5_000 && remaining <= 7_000, "plugin saw \(remaining) ms left of 7000")

        // A deadline that has already passed when the pool picks the call up: not called.
        let late = await expectPluginError { try await validator.validate(request(token: "tok", keyAuthorization: "tok.T"), timeout: .zero) }
        #expect(late?.code == .deadline)
        #expect(late?.retryable == true)
    }

    @Test func concurrentValidationsOnOneInstanceAllComplete() async throws {
        let validator = try await registry.loadChallenge(
            entry: "ext:ThumbprintC", configKey: "challenges.enabled[0]", directory: fixtures.directory,
            configJSON: #"{"thumbprint": "CONC"}"#, configPath: "challenges.http01")
        let count = 64
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<count {
                group.addTask {
                    let token = "t\(index)"
                    let keyAuthorization = index.isMultiple(of: 2) ? "\(token).CONC" : "\(token).WRONG"
                    do {
                        try await validator.validate(self.request(token: token, keyAuthorization: keyAuthorization), timeout: .seconds(10))
                        return (index, true)
                    } catch {
                        return (index, false)
                    }
                }
            }
            var all: [Int: Bool] = [:]
            for await (index, valid) in group { all[index] = valid }
            return all
        }
        #expect(outcomes.count == count)
        #expect(outcomes.allSatisfy { $0.value == $0.key.isMultiple(of: 2) })
    }

    // MARK: - a CA in C: buffers and statuses

    @Test func cCASignsPollsAndFreesEveryBufferOnce() async throws {
        let ca = try await registry.loadCA(
            backend: "ext:CountingCA", directory: fixtures.directory, configPath: "ca.external")
        let signRequest = CASignRequest(csrDER: [0x30, 0x82, 0x01, 0x0A], validityDays: 90)
        let issued = try await ca.sign(signRequest, timeout: .seconds(5))
        #expect(issued == .issued(
            chain: "-----BEGIN CERTIFICATE-----\ncsr 4 bytes\n-----END CERTIFICATE-----\n",
            serial: "0a1b", notBefore: 1_700_000_000, notAfter: 1_700_000_000 + 90 * 86_400))

        var pendingRequest = signRequest
        pendingRequest.profile = "pending"
        let pending = try await ca.sign(pendingRequest, timeout: .seconds(5))
        #expect(pending == .pending(handle: "job-7", retryAfter: .seconds(3)))
        guard case .issued(_, let serial, _, _) = try await ca.poll(handle: "job-7", timeout: .seconds(5)) else {
            Issue.record("poll did not issue")
            return
        }
        #expect(serial == "0a1b")

        var sameBuffer = signRequest
        sameBuffer.profile = "same-buffer"
        _ = try await ca.sign(sameBuffer, timeout: .seconds(5))

        var empty = signRequest
        empty.profile = "ok-empty"
        let violation = await expectPluginError { _ = try await ca.sign(empty, timeout: .seconds(5)) }
        #expect(violation?.detail == "sign returned OK without pem_chain")
        #expect(violation?.code == .internalError)

        var bogus = signRequest
        bogus.profile = "bogus"
        let unknown = await expectPluginError { _ = try await ca.sign(bogus, timeout: .seconds(5)) }
        #expect(unknown?.detail == "sign returned unknown status 42")

        var reject = signRequest
        reject.profile = "reject"
        let badCSR = await expectPluginError { _ = try await ca.sign(reject, timeout: .seconds(5)) }
        #expect(badCSR == PluginError(code: .rejected, retryable: false, problemType: "urn:ietf:params:acme:error:badCSR",
                                      detail: "key too small", source: "CountingCA (ca.backend)"))

        try await ca.revoke(CARevokeRequest(serialHex: "0a1b", certificateDER: [0x30]), timeout: .seconds(5))
        // self_check fails unless every buffer the plugin handed out was freed exactly once.
        try await ca.selfCheck(timeout: .seconds(5))

        #expect(registry.entries().contains(PluginRegistry.Entry(
            kind: .ca, name: "CountingCA", pluginVersion: "2.3.4", abiVersion: "1.1",
            path: fixtures.directory + "/libCountingCA.so", configKey: "ca.backend",
            configPath: "ca.external", state: .active)))
        await ca.close()
        #expect(registry.entries().first { $0.name == "CountingCA" }?.state == .closed)
        let closed = await expectPluginError { _ = try await ca.sign(signRequest, timeout: .seconds(5)) }
        #expect(closed?.detail == "sign: plugin instance is closed")
        #expect(registry.formattedTable().contains("CountingCA"))
    }

    // MARK: - a notifier in C: what crosses, and destroy exactly once

    @Test func cNotifierDeliversAndIsDestroyedOnce() async throws {
        let first = try await registry.loadNotifier(
            reference: "ext:NotifierC", configKey: "notifications.channels[0]", directory: fixtures.directory,
            configPath: "notifications.webhook")
        try await first.deliver(PluginNotification(event: "certificate.issuance", recipients: ["a@x.test"], subject: "s", body: "b"),
                                timeout: .seconds(5))
        let echo = await expectPluginError {
            try await first.deliver(PluginNotification(event: "echo", recipients: ["a@x.test", "b@x.test"], subject: "Subj",
                                                       body: "Body", payloadJSON: #"{"n":1}"#), timeout: .seconds(5))
        }
        #expect(echo?.detail == #"event=echo to=a@x.test,b@x.test subject=Subj body=Body payload={"n":1}"#)
        #expect(echo?.code == .unsupported)
        await first.close()
        await first.close() // a second close is a no-op

        let second = try await registry.loadNotifier(
            reference: "ext:NotifierC", configKey: "notifications.channels[1]", directory: fixtures.directory,
            configPath: "notifications.smtp")
        // An instance no one holds any more is destroyed by deinit.
        do {
            let library = try PluginLibrary.load(path: fixtures.directory + "/libNotifierC.so", expecting: .notifier, configKey: "k")
            let dropped = try await PluginInstance.create(
                library: library, configKey: "k", configPath: "k", configJSON: "{}", challengeType: nil,
                pool: Fixtures.pool, logger: Logger(label: "test"))
            try await NotifierPluginInstance(dropped).deliver(
                PluginNotification(event: "x", recipients: [], subject: "", body: ""), timeout: .seconds(5))
        }
        var stats = ""
        for _ in 0..<100 {
            stats = await expectPluginError {
                try await second.deliver(PluginNotification(event: "stats", recipients: [], subject: "", body: ""), timeout: .seconds(5))
            }?.detail ?? ""
            if stats == "live=1 destroyed=2" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(stats == "live=1 destroyed=2")
        #expect(registry.entries().map(\.state) == [.closed, .active])
    }

    // MARK: - plugins the host must refuse

    @Test func missingFile() async {
        let path = fixtures.directory + "/libNope.so"
        await expectLoadError(try await registry.loadCA(backend: "ext:Nope", directory: fixtures.directory, configPath: "ca"),
                              "ca.backend: cannot load plugin \(path): file not found")
        #expect(registry.entries().last?.state == .failed("ca.backend: cannot load plugin \(path): file not found"))
    }

    @Test func notASharedLibrary() async {
        let path = fixtures.directory + "/libNotELF.so"
        await expectLoadError(try await registry.loadCA(backend: "ext:NotELF", directory: fixtures.directory, configPath: "ca"),
                              "ca.backend: cannot load plugin \(path): not a shared library (")
    }

    @Test func missingEntrySymbol() async {
        let path = fixtures.directory + "/libBrokenNoSymbol.so"
        await expectLoadError(try await registry.loadCA(backend: "ext:BrokenNoSymbol", directory: fixtures.directory, configPath: "ca"),
                              "ca.backend: cannot load plugin \(path): no symbol acmeeh_plugin_register", exact: true)
    }

    @Test func wrongABIMajor() async {
        let path = fixtures.directory + "/libBrokenAbiMajor.so"
        await expectLoadError(try await registry.loadCA(backend: "ext:BrokenAbiMajor", directory: fixtures.directory, configPath: "ca"),
                              "ca.backend: cannot load plugin \(path): ABI major 2, this host speaks 1", exact: true)
    }

    @Test func descriptorTooSmall() async {
        let path = fixtures.directory + "/libBrokenTooSmall.so"
        await expectLoadError(try await registry.loadCA(backend: "ext:BrokenTooSmall", directory: fixtures.directory, configPath: "ca"),
                              "ca.backend: cannot load plugin \(path): descriptor too small (48 bytes, need at least 136)",
                              exact: true)
    }

    @Test func registerReturnsNull() async {
        let path = fixtures.directory + "/libBrokenNull.so"
        await expectLoadError(try await registry.loadCA(backend: "ext:BrokenNull", directory: fixtures.directory, configPath: "ca"),
                              "ca.backend: cannot load plugin \(path): acmeeh_plugin_register returned no descriptor")
    }

    @Test func missingRequiredFunction() async {
        let path = fixtures.directory + "/libBrokenMissingSign.so"
        await expectLoadError(try await registry.loadCA(backend: "ext:BrokenMissingSign", directory: fixtures.directory, configPath: "ca"),
                              "ca.backend: cannot load plugin \(path): descriptor lacks required function ca_sign", exact: true)
    }

    @Test func createFailureQuotesThePlugin() async {
        let path = fixtures.directory + "/libBrokenCreateFails.so"
        await expectLoadError(try await registry.loadCA(backend: "ext:BrokenCreateFails", directory: fixtures.directory, configPath: "ca.internal"),
                              "ca.backend: cannot load plugin \(path): create() failed: ca.internal.key_file: cannot read /nonexistent/ca.key",
                              exact: true)
        // The C validator without its thumbprint: its message arrives verbatim, "%s" included.
        let validator = fixtures.directory + "/libThumbprintC.so"
        await expectLoadError(try await registry.loadChallenge(entry: "ext:ThumbprintC", configKey: "challenges.enabled[4]",
                                                               directory: fixtures.directory, configJSON: "{}", configPath: "challenges.x"),
                              "challenges.enabled[4]: cannot load plugin \(validator): create() failed: challenges.x: missing \"thumbprint\" (%s stays literal)",
                              exact: true)
    }

    @Test func wrongKindForTheKey() async {
        let path = fixtures.directory + "/libThumbprintC.so"
        await expectLoadError(try await registry.loadCA(backend: "ext:ThumbprintC", directory: fixtures.directory, configPath: "ca"),
                              "ca.backend: cannot load plugin \(path): wrong kind: ThumbprintC is a challenge validator plugin, ca.backend needs a CA plugin",
                              exact: true)
        let ca = fixtures.directory + "/libCountingCA.so"
        await expectLoadError(try await registry.loadChallenge(entry: "ext:CountingCA", configKey: "challenges.enabled[1]",
                                                               directory: fixtures.directory, configPath: "challenges"),
                              "challenges.enabled[1]: cannot load plugin \(ca): wrong kind: CountingCA is a CA plugin, challenges.enabled[1] needs a challenge validator plugin",
                              exact: true)
    }

    // MARK: - helpers

    func request(token: String, keyAuthorization: String) -> ChallengeValidationRequest {
        ChallengeValidationRequest(
            challengeType: "http-01", identifierType: "dns", identifierValue: "www.example.com",
            token: token, keyAuthorization: keyAuthorization, accountURL: "https://ca.test/acct/1")
    }
}

/// Asserts that `body` throws a PluginLoadError whose message starts with (or is) `expected`.
func expectLoadError<T>(_ body: @autoclosure () throws -> T, _ expected: String, exact: Bool = false,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try body()
        Issue.record("no error; expected \(expected)", sourceLocation: sourceLocation)
    } catch let error as PluginLoadError {
        check(error.description, expected, exact: exact, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

func expectLoadError<T>(_ body: @autoclosure () async throws -> T, _ expected: String, exact: Bool = false,
                        sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        _ = try await body()
        Issue.record("no error; expected \(expected)", sourceLocation: sourceLocation)
    } catch let error as PluginLoadError {
        check(error.description, expected, exact: exact, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

private func check(_ message: String, _ expected: String, exact: Bool, sourceLocation: SourceLocation) {
    if exact {
        #expect(message == expected, sourceLocation: sourceLocation)
    } else {
        #expect(message.hasPrefix(expected), "\(message)", sourceLocation: sourceLocation)
    }
}

/// Runs `body`, which must throw a PluginError, and returns it.
func expectPluginError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> PluginError? {
    do {
        try await body()
        Issue.record("no PluginError thrown", sourceLocation: sourceLocation)
    } catch let error as PluginError {
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

// MARK: - fixtures

/// The C fixtures, compiled once per test run into a temporary directory.
struct Fixtures: Sendable {
    let directory: String

    static let pool = PluginThreadPool(numberOfThreads: 8)
    static let shared: Result<Fixtures, FixtureError> = Result { () throws(FixtureError) in try build() }

    struct FixtureError: Error, CustomStringConvertible { let description: String }

    /// The repository root, from this file's path (Tests/HostTests/PluginLoaderTests.swift).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func build() throws(FixtureError) -> Fixtures {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("acmeeh-plugin-fixtures-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch { throw FixtureError(description: "mkdir \(directory): \(error)") }
        let sources = repository + "/Tests/HostTests/Fixtures/"
        let builds: [(source: String, output: String, defines: [String])] = [
            ("thumbprint_validator.c", "libThumbprintC.so", []),
            ("counting_ca.c", "libCountingCA.so", []),
            // The same CA built against the verbatim ABI 1.0 header (Fixtures/abi-1.0).
            ("counting_ca.c", "libCountingCA10.so", ["-I", sources + "abi-1.0"]),
            ("notifier.c", "libNotifierC.so", []),
            ("broken.c", "libBrokenAbiMajor.so", ["-DBROKEN_ABI_MAJOR"]),
            ("broken.c", "libBrokenNoSymbol.so", ["-DBROKEN_NO_SYMBOL"]),
            ("broken.c", "libBrokenTooSmall.so", ["-DBROKEN_TOO_SMALL"]),
            ("broken.c", "libBrokenNull.so", ["-DBROKEN_NULL"]),
            ("broken.c", "libBrokenMissingSign.so", ["-DBROKEN_MISSING_SIGN"]),
            ("broken.c", "libBrokenCreateFails.so", ["-DBROKEN_CREATE_FAILS"]),
        ]
        for build in builds {
            try compile(sources + build.source, to: directory + "/" + build.output, defines: build.defines)
        }
        do {
            try FileManager.default.copyItem(atPath: directory + "/libThumbprintC.so", toPath: directory + "/libChallengeHTTP01.so")
            try "this is not an ELF file\n".write(toFile: directory + "/libNotELF.so", atomically: true, encoding: .utf8)
        } catch { throw FixtureError(description: "\(error)") }
        return Fixtures(directory: directory)
    }

    static func compile(_ source: String, to output: String, defines: [String]) throws(FixtureError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // `defines` come first, so an "-I" among them wins over the current header.
        process.arguments = ["cc", "-shared", "-fPIC", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Werror"]
            + defines
            + ["-I", repository + "/Sources/PluginAPI/include",
               "-Wl,--version-script=" + repository + "/Plugins/exports.map", "-o", output, source]
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch { throw FixtureError(description: "cannot run cc: \(error)") }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError(description: "cc \(source) failed: \(message)")
        }
    }
}

// MARK: - log capture

struct CapturedLine: Sendable {
    var label: String
    var level: Logger.Level
    var message: String
    var metadata: [String: String]
}

final class LogCapture: Sendable {
    private let storage = Mutex<[CapturedLine]>([])
    func append(_ line: CapturedLine) { storage.withLock { $0.append(line) } }
    func lines() -> [CapturedLine] { storage.withLock { $0 } }
}

struct CapturingLogHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var metadataProvider: Logger.MetadataProvider? = nil

    init(label: String, capture: LogCapture) {
        self.label = label
        self.capture = capture
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        all.merge(event.metadata ?? [:]) { $1 }
        capture.append(CapturedLine(
            label: label, level: event.level, message: event.message.description,
            metadata: all.mapValues { $0.description }))
    }
}
