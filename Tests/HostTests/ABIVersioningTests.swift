import Foundation
import Logging
import PluginAPI
import Testing

@testable import Host

/// ABI 1.1 against 1.0, both ways: a plugin compiled against the verbatim 1.0 header
/// (Fixtures/abi-1.0/acmeeh_plugin.h) loads and works in this host and reports the 1.1
/// functions absent; a 1.1 plugin without them reports them absent too; PluginKit reads a
/// host's structs by their v1.0 size, not its own sizeof.
@Suite struct ABIVersioningTests {
    let fixtures: Fixtures
    let registry: PluginRegistry

    init() throws {
        fixtures = try Fixtures.shared.get()
        registry = PluginRegistry(threadPool: Fixtures.pool) { label in Logger(label: label) { _ in SwiftLogNoOpLogHandler() } }
    }

    @Test func versionIsComputedFromItsPartsAndTheFrozenSizesAreTheLayouts() {
        #expect(HostABI.version == 0x0001_0001)
        #expect(HostABI.text(HostABI.version) == "1.1")
        #expect(HostABI.descriptorV1Size == 136)
        #expect(HostABI.descriptorSize == Int(ACMEEH_DESCRIPTOR_V1_1_SIZE))
        #expect(MemoryLayout<acmeeh_error>.size == Int(ACMEEH_ERROR_V1_SIZE))
        #expect(MemoryLayout<acmeeh_host_api>.size == Int(ACMEEH_HOST_API_V1_SIZE))
        #expect(MemoryLayout<acmeeh_create_params>.size == Int(ACMEEH_CREATE_PARAMS_V1_SIZE))
        // The sign request grew in 1.1: its 1.0 layout ends where crl_distribution_point begins.
        #expect(MemoryLayout<acmeeh_ca_sign_request>.offset(of: \.crl_distribution_point) == Int(ACMEEH_CA_SIGN_REQUEST_V1_SIZE))
        #expect(ACMEEH_CA_SIGN_REQUEST_V1_SIZE == 80)
        #expect(MemoryLayout<acmeeh_ca_sign_request>.size == Int(ACMEEH_CA_SIGN_REQUEST_V1_1_SIZE))
        #expect(ACMEEH_CA_SIGN_REQUEST_V1_1_SIZE == 120)
        #expect(MemoryLayout<acmeeh_ca_sign_result>.size == Int(ACMEEH_CA_SIGN_RESULT_V1_SIZE))
        #expect(MemoryLayout<acmeeh_ca_revoke_request>.size == Int(ACMEEH_CA_REVOKE_REQUEST_V1_SIZE))
        #expect(MemoryLayout<acmeeh_challenge_request>.size == Int(ACMEEH_CHALLENGE_REQUEST_V1_SIZE))
        #expect(MemoryLayout<acmeeh_notification>.offset(of: \.body_html) == Int(ACMEEH_NOTIFICATION_V1_SIZE))
        #expect(MemoryLayout<acmeeh_notification>.size == Int(ACMEEH_NOTIFICATION_V1_1_SIZE))
        #expect(MemoryLayout<acmeeh_ca_crl_request>.size == Int(ACMEEH_CA_CRL_REQUEST_V1_1_SIZE))
        #expect(MemoryLayout<acmeeh_ca_crl_result>.size == Int(ACMEEH_CA_CRL_RESULT_V1_1_SIZE))
    }

    /// The 1.0 header fixture is the header as released (main at the 1.0 ABI), byte for byte:
    /// the proofs below mean nothing if it drifts.
    @Test func theV10HeaderFixtureIsVerbatim() throws {
        let path = Fixtures.repository + "/Tests/HostTests/Fixtures/abi-1.0/acmeeh_plugin.h"
        let digest = try Command.tool("openssl", ["dgst", "-sha256", "-r", path])
        #expect(digest.stdout.hasPrefix("2b6e5eb8f6c793258c405966289d468efebecbc79a7921b1aa64b9fc9568d8a5 "), "\(digest.stdout)")
    }

    /// CountingCA built against the 1.0 header: its descriptor is 136 bytes and is followed in
    /// memory by non-NULL garbage where 1.1 put ca_sign_crl.
    @Test func pluginBuiltAgainst10LoadsSignsAndLacksTheNewFunctions() async throws {
        let ca = try await registry.loadCA(backend: "ext:CountingCA10", directory: fixtures.directory, configPath: "ca.external")
        let library = ca.instance.library
        #expect(library.abiVersionText == "1.0")
        #expect(library.abiMinor == 0)
        #expect(library.descriptorSize == 136)
        #expect(library.descriptor.ca_sign_crl == nil, "the host read past the plugin's struct_size")
        #expect(library.descriptor.ca_features == 0)
        #expect(!ca.canSignCRL)
        #expect(library.optionalFunctions.map(\.name) == ["self_check", "ca_poll", "ca_sign_crl"])
        #expect(library.optionalFunctions.map(\.present) == [true, true, false])

        let request = CASignRequest(csrDER: [0x30, 0x03, 0x02, 0x01, 0x00], validityDays: 30)
        #expect(try await ca.sign(request, timeout: .seconds(5)) == .issued(
            chain: "-----BEGIN CERTIFICATE-----\ncsr 5 bytes\n-----END CERTIFICATE-----\n",
            serial: "0a1b", notBefore: 1_700_000_000, notAfter: 1_700_000_000 + 90 * 86_400))
        var pending = request
        pending.profile = "pending"
        #expect(try await ca.sign(pending, timeout: .seconds(5)) == .pending(handle: "job-7", retryAfter: .seconds(3)))
        guard case .issued = try await ca.poll(handle: "job-7", timeout: .seconds(5)) else {
            Issue.record("poll of a 1.0 plugin did not issue")
            return
        }
        try await ca.revoke(CARevokeRequest(serialHex: "0a1b", certificateDER: [0x30]), timeout: .seconds(5))
        try await ca.selfCheck(timeout: .seconds(5)) // every buffer freed exactly once

        let crl = CASignCRLRequest(entries: [], thisUpdate: 1, nextUpdate: 2, crlNumber: [1])
        let refused = await expectPluginError { _ = try await ca.signCRL(crl, timeout: .seconds(5)) }
        #expect(refused?.code == .unsupported)
        #expect(refused?.detail == "signCRL: CountingCA has no ca_sign_crl")
        await ca.close()
    }

    @Test func plugin11WithoutCRLReportsItAbsent() async throws {
        let library = try PluginLibrary.load(path: fixtures.directory + "/libCountingCA.so", expecting: .ca, configKey: "k")
        #expect(library.abiVersionText == "1.1")
        #expect(library.abiMinor == 1)
        #expect(library.descriptorSize == 152)
        #expect(!library.signsPrecertificates)
        #expect(library.descriptor.ca_sign_crl == nil)
        #expect(library.optionalFunctions.first { $0.name == "ca_sign_crl" }?.present == false)

        let caFile = try PluginLibrary.load(path: TestPaths.products.appendingPathComponent("libCAFile.so").path,
                                            expecting: .ca, configKey: "k")
        #expect(caFile.abiVersionText == "1.1")
        #expect(caFile.optionalFunctions.map(\.present) == [true, false, true])
        #expect(caFile.features == ["precertificate"])
    }

    /// The host copies min(struct_size, its own) bytes of a descriptor, whatever lies beyond.
    @Test func descriptorCopyStopsAtTheDeclaredSize() {
        let size = MemoryLayout<acmeeh_plugin_descriptor>.size
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size + 32, alignment: 8)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0xA5, count: size + 32)
        raw.storeBytes(of: UInt32(ACMEEH_DESCRIPTOR_V1_SIZE), as: UInt32.self)
        let descriptor = raw.assumingMemoryBound(to: acmeeh_plugin_descriptor.self)
        let short = PluginLibrary.copyDescriptor(descriptor, declaredSize: Int(ACMEEH_DESCRIPTOR_V1_SIZE))
        #expect(short.ca_sign_crl == nil)
        #expect(short.notifier_deliver != nil)
        // A newer plugin's larger descriptor: the host takes what it knows.
        raw.storeBytes(of: UInt32(size + 32), as: UInt32.self)
        let long = PluginLibrary.copyDescriptor(descriptor, declaredSize: size + 32)
        #expect(long.ca_sign_crl != nil)
        #expect(long.struct_size == UInt32(size + 32))
    }

    /// PluginKit (here in CAFile) accepts a request exactly the v1.0 size and a larger one
    /// from a newer host, and refuses one below the v1.0 layout with a true message. The 1.1
    /// URLs are read only when struct_size covers them: a request declared with the 1.0 size
    /// yields a leaf without cRLDistributionPoints and authorityInfoAccess even though valid
    /// URL pointers follow it in memory.
    @Test func pluginKitReadsHostStructsByTheirV10Size() async throws {
        let pki = try CAFilePKI.shared()
        let config = #"{"root_cert_path": "\#(pki.rsaRootCert)", "root_key_path": "\#(pki.rsaRootKey)"}"#
        let ca = try await registry.loadCA(backend: "internal", directory: TestPaths.products.path,
                                          configJSON: config, configPath: "ca.internal")
        let csr = try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:abi.example.test"])

        // DER of the extension OIDs: id-ce-cRLDistributionPoints (2.5.29.31), id-pe-authorityInfoAccess.
        let cdpOID: [UInt8] = [0x06, 0x03, 0x55, 0x1D, 0x1F]
        let aiaOID: [UInt8] = [0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01]
        func has(_ der: [UInt8], _ oid: [UInt8]) -> Bool {
            der.count >= oid.count && (0...(der.count - oid.count)).contains { der[$0..<($0 + oid.count)].elementsEqual(oid) }
        }
        for (declared, expected) in [(80, ACMEEH_STATUS_OK), (96, ACMEEH_STATUS_OK), (96 + 24, ACMEEH_STATUS_OK), (72, ACMEEH_STATUS_ERROR)] {
            let (status, detail, chain) = try await ca.instance.call("sign", timeout: .seconds(30)) { descriptor, handle, deadline in
                withCStrings(["http://abi.example.test/crl", "http://abi.example.test/ocsp"]) { urls in
                    csr.withUnsafeBufferPointer { der in
                        // The request inside a larger buffer whose tail is garbage a reader must ignore.
                        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 8)
                        defer { buffer.deallocate() }
                        buffer.initializeMemory(as: UInt8.self, repeating: 0xEE, count: 128)
                        var request = acmeeh_ca_sign_request()
                        request.struct_size = UInt32(declared)
                        request.csr_der = der.baseAddress
                        request.csr_der_len = der.count
                        request.validity_days = 7
                        request.deadline_ms = deadline
                        request.crl_distribution_point = urls[0]
                        request.ocsp_url = urls[1]
                        buffer.copyMemory(from: &request, byteCount: MemoryLayout<acmeeh_ca_sign_request>.size)
                        var result = acmeeh_ca_sign_result.empty()
                        var error = acmeeh_error.empty()
                        let status = descriptor.ca_sign!(handle, buffer.assumingMemoryBound(to: acmeeh_ca_sign_request.self), &result, &error)
                        let chain = result.pem_chain.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: result.pem_chain_len), as: UTF8.self) }
                        [result.pem_chain.map(UnsafeMutableRawPointer.init), result.serial_hex.map(UnsafeMutableRawPointer.init)]
                            .compactMap { $0 }.forEach { descriptor.buffer_free!($0) }
                        return .success((status, withUnsafeBytes(of: &error.detail) { boundedString($0) }, chain))
                    }
                }
            }
            #expect(status == expected, "struct_size \(declared): \(detail)")
            if expected == ACMEEH_STATUS_ERROR {
                #expect(detail == "ca_sign request/result struct_size is smaller than the v1.0 layout")
                #expect(chain == nil)
            } else {
                let leaf = try CertificateChain(pem: try #require(chain)).leaf.der
                // 1.0-sized: the URLs past struct_size are not read; 1.1-sized or larger: they are.
                #expect(has(leaf, cdpOID) == (declared >= 96), "struct_size \(declared)")
                #expect(has(leaf, aiaOID) == (declared >= 96), "struct_size \(declared)")
            }
        }

        // ca_sign_crl (1.1): the same rule, by the 1.1 size of the CRL request.
        let serial: [UInt8] = [0x0b]
        let number: [UInt8] = [0x07]
        for (declared, expected) in [(72, ACMEEH_STATUS_OK), (72 + 24, ACMEEH_STATUS_OK), (64, ACMEEH_STATUS_ERROR)] {
            let (status, detail, der) = try await ca.instance.call("signCRL", timeout: .seconds(30)) { descriptor, handle, deadline in
                serial.withUnsafeBufferPointer { serialBytes in
                    number.withUnsafeBufferPointer { numberBytes in
                        var entry = acmeeh_crl_entry(serial: serialBytes.baseAddress, serial_len: 1, revocation_time: 1_800_000_000, reason: -1)
                        return withUnsafePointer(to: &entry) { entryPointer in
                            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 8)
                            defer { buffer.deallocate() }
                            buffer.initializeMemory(as: UInt8.self, repeating: 0xEE, count: 128)
                            var request = acmeeh_ca_crl_request(
                                struct_size: UInt32(declared), entries: entryPointer, entry_count: 1,
                                this_update: 1_800_000_000, next_update: 1_800_086_400,
                                crl_number: numberBytes.baseAddress, crl_number_len: 1, hash_algorithm: nil, deadline_ms: deadline)
                            buffer.copyMemory(from: &request, byteCount: MemoryLayout<acmeeh_ca_crl_request>.size)
                            var result = acmeeh_ca_crl_result(struct_size: UInt32(MemoryLayout<acmeeh_ca_crl_result>.size), crl_der: nil, crl_der_len: 0)
                            var error = acmeeh_error.empty()
                            let status = descriptor.ca_sign_crl!(handle, buffer.assumingMemoryBound(to: acmeeh_ca_crl_request.self), &result, &error)
                            let der = result.crl_der.map { Array(UnsafeBufferPointer(start: $0, count: result.crl_der_len)) } ?? []
                            if let pointer = result.crl_der { descriptor.buffer_free!(pointer) }
                            return .success((status, withUnsafeBytes(of: &error.detail) { boundedString($0) }, der))
                        }
                    }
                }
            }
            #expect(status == expected, "struct_size \(declared): \(detail)")
            #expect(der.isEmpty == (expected != ACMEEH_STATUS_OK))
            if expected == ACMEEH_STATUS_ERROR {
                #expect(detail == "ca_sign_crl request/result struct_size is smaller than the v1.1 layout")
            }
        }
        await ca.close()
    }
}
