#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import PluginKit
import PluginNetwork

/// RFC 8737 §4: the one protocol a validation offers and accepts.
let acmeTLSProtocol = "acme-tls/1"

/// What one attempt on one address came to.
enum HandshakeOutcome {
    /// The handshake finished with `acme-tls/1` selected; `certificate` (X509*) is owned by the caller.
    case certificate(OpaquePointer)
    /// No TCP connection to this address (refused, unreachable, connect timeout): try the next one.
    case connectFailed(String)
    /// Connected, then the time allowed ran out.
    case timedOut(String)
    /// Connected, then the network failed (reset, send error): may work later.
    case networkFailed(String)
    /// The TLS handshake failed or ALPN `acme-tls/1` was not selected: final.
    case tlsFailed(String)
}

/// One tls-alpn-01 handshake on a TCP connection pinned to `address`: TLS ≥ 1.2,
/// ALPN exactly `acme-tls/1`, SNI `serverName`, no chain verification (RFC 8737 §3).
///
/// OpenSSL never touches the socket: it reads and writes memory BIOs and this type
/// moves the bytes with `send(MSG_NOSIGNAL)`/`recv` under `poll`, so that every wait
/// is bounded by `deadline` and a peer that closes can never raise SIGPIPE in the host.
struct TLSHandshake {
    let address: IPAddress
    let port: Int
    let serverName: String
    /// Bounds the whole attempt; `connectDeadline` bounds the TCP connect only.
    let deadline: Deadline
    let connectDeadline: Deadline

    func run() -> HandshakeOutcome {
        let fd: Int32
        switch connect() {
        case .connected(let socket): fd = socket
        case .failed(let outcome): return outcome
        }
        defer { close(fd) }
        return handshake(fd)
    }

    private enum Connection {
        case connected(Int32)
        case failed(HandshakeOutcome)
    }

    // MARK: TCP

    private func connect() -> Connection {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failed(.connectFailed("socket: \(errnoText())")) }
        var status: Int32
        if address.isIPv6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = in_port_t(UInt16(port)).bigEndian
            withUnsafeMutableBytes(of: &sa.sin6_addr) { $0.copyBytes(from: address.bytes) }
            status = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = in_port_t(UInt16(port)).bigEndian
            withUnsafeMutableBytes(of: &sa.sin_addr) { $0.copyBytes(from: address.bytes) }
            status = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if status != 0 && errno != EINPROGRESS && errno != EINTR {
            let message = errnoText()
            close(fd)
            return .failed(.connectFailed("connect: \(message)"))
        }
        if status != 0 {
            switch wait(fd, for: Int16(POLLOUT), until: connectDeadline) {
            case .ready: break
            case .timedOut:
                close(fd)
                return .failed(.connectFailed("connect: no answer in time"))
            case .failed(let message):
                close(fd)
                return .failed(.connectFailed("connect: \(message)"))
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) != 0 || soError != 0 {
                let message = String(cString: strerror(soError != 0 ? soError : errno))
                close(fd)
                return .failed(.connectFailed("connect: \(message)"))
            }
        }
        return .connected(fd)
    }

    private enum Wait { case ready, timedOut, failed(String) }

    /// Polls `fd` for `events` until ready or `limit` passes (EINTR retried).
    private func wait(_ fd: Int32, for events: Int16, until limit: Deadline) -> Wait {
        while true {
            let left = limit.remainingMilliseconds
            guard left > 0 else { return .timedOut }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&pfd, 1, Int32(min(left, Int64(Int32.max))))
            if n < 0 {
                if errno == EINTR { continue }
                return .failed("poll: \(errnoText())")
            }
            if n == 0 { return .timedOut }
            // POLLERR/POLLHUP: the following send/recv or SO_ERROR says what happened.
            return .ready
        }
    }

    // MARK: TLS

    private func handshake(_ fd: Int32) -> HandshakeOutcome {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            return .networkFailed("SSL_CTX_new: \(openSSLErrors())")
        }
        defer { SSL_CTX_free(ctx) }
        // SSL_CTX_set_min_proto_version is a macro.
        guard SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1 else {
            return .networkFailed("cannot require TLS 1.2: \(openSSLErrors())")
        }
        // RFC 8737 §3: the certificate is self-signed; nothing is verified against a trust store.
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        // RFC 7301 wire format: one length-prefixed protocol name. Returns 0 on success.
        let alpn: [UInt8] = [UInt8(acmeTLSProtocol.utf8.count)] + Array(acmeTLSProtocol.utf8)
        guard SSL_CTX_set_alpn_protos(ctx, alpn, UInt32(alpn.count)) == 0 else {
            return .networkFailed("cannot offer ALPN \(acmeTLSProtocol): \(openSSLErrors())")
        }
        guard let ssl = SSL_new(ctx) else { return .networkFailed("SSL_new: \(openSSLErrors())") }
        defer { SSL_free(ssl) }
        guard let rbio = BIO_new(BIO_s_mem()) else { return .networkFailed("BIO_new: \(openSSLErrors())") }
        guard let wbio = BIO_new(BIO_s_mem()) else {
            BIO_free(rbio)
            return .networkFailed("BIO_new: \(openSSLErrors())")
        }
        SSL_set_bio(ssl, rbio, wbio)  // the SSL owns both BIOs from here on
        // SSL_set_tlsext_host_name is a macro.
        let sniSet = serverName.withCString {
            SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0))
        }
        guard sniSet == 1 else { return .networkFailed("cannot set SNI \(serverName): \(openSSLErrors())") }
        SSL_set_connect_state(ssl)

        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let result = SSL_do_handshake(ssl)
            if result != 1 {
                let error = SSL_get_error(ssl, result)
                if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE {
                    let detail = openSSLErrors()
                    _ = flush(wbio, to: fd, buffer: &buffer)  // the alert, best effort
                    return .tlsFailed("TLS handshake failed: \(detail)")
                }
            }
            // Whatever OpenSSL wrote (ClientHello, Finished) goes out before waiting.
            if let failure = flush(wbio, to: fd, buffer: &buffer) {
                if result == 1 { break }  // the handshake is done; a lost Finished does not matter here
                return failure
            }
            if result == 1 { break }
            switch wait(fd, for: Int16(POLLIN), until: deadline) {
            case .ready: break
            case .timedOut: return .timedOut("no TLS handshake in time")
            case .failed(let message): return .networkFailed(message)
            }
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received == 0 {
                // RFC 7301 §3.2: a server that will not speak acme-tls/1 may just close.
                return .tlsFailed("the server closed the connection during the TLS handshake")
            }
            if received < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                return .networkFailed("during the TLS handshake: \(errnoText())")
            }
            let written = buffer.withUnsafeBytes { BIO_write(rbio, $0.baseAddress, Int32(received)) }
            guard written == Int32(received) else { return .networkFailed("BIO_write: \(openSSLErrors())") }
        }

        // RFC 8737 §4: the server must have selected acme-tls/1 (and nothing else).
        var selected: UnsafePointer<UInt8>? = nil
        var selectedLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &selected, &selectedLength)
        let chosen = selected.map { Array(UnsafeBufferPointer(start: $0, count: Int(selectedLength))) } ?? []
        guard chosen == Array(acmeTLSProtocol.utf8) else {
            let what = chosen.isEmpty ? "no protocol" : "\"\(escapedForDetail(chosen))\""
            return .tlsFailed("the server did not negotiate ALPN \(acmeTLSProtocol) (it selected \(what))")
        }
        guard let certificate = SSL_get1_peer_certificate(ssl) else {
            return .tlsFailed("the server presented no certificate")
        }
        return .certificate(certificate)
    }

    /// Sends everything OpenSSL has written to `wbio`; nil when all went out.
    private func flush(_ wbio: OpaquePointer, to fd: Int32, buffer: inout [UInt8]) -> HandshakeOutcome? {
        while BIO_ctrl_pending(wbio) > 0 {
            let count = buffer.withUnsafeMutableBytes { BIO_read(wbio, $0.baseAddress, Int32($0.count)) }
            guard count > 0 else { return nil }
            var offset = 0
            while offset < Int(count) {
                let sent = buffer.withUnsafeBytes { send(fd, $0.baseAddress! + offset, Int(count) - offset, Int32(MSG_NOSIGNAL)) }
                if sent > 0 { offset += sent; continue }
                if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    switch wait(fd, for: Int16(POLLOUT), until: deadline) {
                    case .ready: continue
                    case .timedOut: return .timedOut("could not send the TLS handshake in time")
                    case .failed(let message): return .networkFailed(message)
                    }
                }
                return .networkFailed("sending the TLS handshake: \(errnoText())")
            }
        }
        return nil
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// The OpenSSL error queue of this thread as one line (and the queue emptied).
func openSSLErrors() -> String {
    var parts: [String] = []
    while parts.count < 8 {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        parts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    ERR_clear_error()
    return parts.isEmpty ? "no OpenSSL error reported" : parts.joined(separator: "; ")
}

