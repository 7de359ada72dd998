import Foundation
import NIOCore
import NIOPosix

/// Reachability checks of the outside services `/healthz` reports without failing on:
/// the SMTP relay (a TCP connect) and the DNS resolver (one real query over UDP).
enum NetworkProbe {
    static func smtp(_ config: SmtpConfig) async -> ComponentHealth {
        guard config.enabled, !config.host.isEmpty else { return ComponentHealth(status: .disabled) }
        let host = config.host
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(Int64(min(config.timeoutSeconds, 5))))
                .connect(host: host, port: config.port).get()
            try? await channel.close()
            return .ok
        } catch {
            return .failed(.unreachable, "\(host):\(config.port): \(error)")
        }
    }

    /// Asks the first configured resolver (else the first `nameserver` of
    /// /etc/resolv.conf) for the root zone's NS records.
    static func dnsResolver(_ config: DnsConfig) async -> ComponentHealth {
        guard let resolver = config.resolvers.first ?? systemResolver() else {
            return .failed(.unreachable, "no resolver configured and none in /etc/resolv.conf")
        }
        let (host, port) = split(resolver)
        do {
            let address = try SocketAddress(ipAddress: host, port: port)
            let id = UInt16.random(in: 0...UInt16.max)
            let answered = try await query(address, id: id, timeout: .seconds(Int64(min(config.timeoutSeconds, 5))))
            return answered ? .ok : .failed(.unreachable, "\(resolver): no answer")
        } catch {
            return .failed(.unreachable, "\(resolver): \(error)")
        }
    }

    private static func query(_ address: SocketAddress, id: UInt16, timeout: TimeAmount) async throws -> Bool {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: Bool.self)
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { $0.pipeline.addHandler(AnswerHandler(id: id, promise: promise)) }
            .bind(host: address.protocol == .inet6 ? "::" : "0.0.0.0", port: 0).get()
        defer { channel.close(promise: nil) }
        // Header: id, RD flag, one question; question: root name, type NS (2), class IN (1).
        var buffer = channel.allocator.buffer(capacity: 17)
        buffer.writeInteger(id)
        buffer.writeBytes([0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])
        buffer.writeBytes([0x00, 0x00, 0x02, 0x00, 0x01])
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer)).get()
        let timer = channel.eventLoop.scheduleTask(in: timeout) { promise.succeed(false) }
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    /// Completes with true on the first datagram that answers our query id.
    private final class AnswerHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let id: UInt16
        let promise: EventLoopPromise<Bool>
        init(id: UInt16, promise: EventLoopPromise<Bool>) { self.id = id; self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var envelope = unwrapInboundIn(data)
            if let answerID: UInt16 = envelope.data.readInteger(), answerID == id {
                promise.succeed(true)
            }
        }
    }

    private static func systemResolver() -> String? {
        guard let text = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if parts.count >= 2, parts[0] == "nameserver" { return String(parts[1]) }
        }
        return nil
    }

    /// `ip`, `ip:port` or `[v6]:port` (the forms `dns.resolvers` accepts).
    static func split(_ resolver: String) -> (String, Int) {
        if resolver.hasPrefix("["), let close = resolver.firstIndex(of: "]") {
            let host = String(resolver[resolver.index(after: resolver.startIndex)..<close])
            let rest = resolver[resolver.index(after: close)...]
            return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) ?? 53 : 53)
        }
        if resolver.filter({ $0 == ":" }).count == 1, let colon = resolver.firstIndex(of: ":") {
            return (String(resolver[..<colon]), Int(resolver[resolver.index(after: colon)...]) ?? 53)
        }
        return (resolver, 53)
    }
}
