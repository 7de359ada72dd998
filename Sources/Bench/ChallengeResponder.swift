import Foundation

/// The tool's own http-01 responder (RFC 8555 §8.3): one thread with `poll(2)` on
/// ADDRESS:PORT (127.0.0.1 unless told), answering `GET /.well-known/acme-challenge/TOKEN` with the key
/// authorization flows register, 404 for anything else. One request per connection;
/// a connection that sends no complete request head within 10 s is closed.
final class ChallengeResponder: @unchecked Sendable {
    private static let prefix = "/.well-known/acme-challenge/"
    private static let maxHead = 8192
    private static let idleNanoseconds: UInt64 = 10_000_000_000

    private let listener: Int32
    private let lock = NSLock()
    private var answers: [String: String] = [:]
    private var served = 0
    private var notFound = 0

    init(port: Int, address: String = "127.0.0.1") throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw BenchFailure("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let host = address
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(listener)
            throw BenchFailure("--http01-address \(host) is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 512) == 0 else {
            let code = errno
            close(listener)
            throw BenchFailure("cannot listen on \(host):\(port) for http-01: \(String(cString: strerror(code)))")
        }
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        let thread = Thread { [self] in serve() }
        thread.name = "http-01"
        thread.start()
    }

    func publish(token: String, keyAuthorization: String) {
        lock.withLock { answers[token] = keyAuthorization }
    }

    func withdraw(token: String) {
        lock.withLock { _ = answers.removeValue(forKey: token) }
    }

    /// Requests answered with a key authorization, and with 404.
    var counts: (served: Int, notFound: Int) { lock.withLock { (served, notFound) } }

    private struct Client {
        let fd: Int32
        let since: UInt64
        var head: [UInt8] = []
    }

    private func serve() {
        var clients: [Client] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            fds += clients.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 1000)
            if fds[0].revents != 0 {
                while case let fd = accept(listener, nil, nil), fd >= 0 {
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    clients.append(Client(fd: fd, since: Deadline.now()))
                }
            }
            let now = Deadline.now()
            var open: [Client] = []
            for (index, var client) in clients.enumerated() {
                let ready = index + 1 < fds.count && fds[index + 1].fd == client.fd && fds[index + 1].revents != 0
                var finished = false
                if ready {
                    let count = recv(client.fd, &buffer, buffer.count, 0)
                    if count <= 0 {
                        finished = count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
                    } else {
                        client.head += buffer[0..<count]
                        if let reply = reply(to: client.head) {
                            reply.withUnsafeBufferPointer { _ = send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                            finished = true
                        }
                    }
                }
                if !finished && now - client.since > Self.idleNanoseconds { finished = true }
                if finished { close(client.fd) } else { open.append(client) }
            }
            clients = open
        }
    }

    /// The whole response once `head` holds a complete request head, else nil.
    private func reply(to head: [UInt8]) -> [UInt8]? {
        let complete = head.count >= 4 && (0...(head.count - 4)).contains { i in
            head[i] == 13 && head[i + 1] == 10 && head[i + 2] == 13 && head[i + 3] == 10
        }
        guard complete || head.count > Self.maxHead else { return nil }
        let line = head.prefix { $0 != 13 }.split(separator: 32, omittingEmptySubsequences: false)
        var status = "404 Not Found", body = ""
        if !complete || line.count != 3 || !line[2].starts(with: Array("HTTP/1.".utf8)) {
            status = "400 Bad Request"
        } else if String(decoding: line[0], as: UTF8.self) == "GET",
                  case let target = String(decoding: line[1], as: UTF8.self), target.hasPrefix(Self.prefix),
                  let answer = lock.withLock({ answers[String(target.dropFirst(Self.prefix.count))] }) {
            status = "200 OK"
            body = answer
        }
        lock.withLock { if status == "200 OK" { served += 1 } else { notFound += 1 } }
        let text = "HTTP/1.1 \(status)\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        return Array(text.utf8)
    }
}
