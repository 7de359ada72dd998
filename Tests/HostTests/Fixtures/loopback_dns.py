#!/usr/bin/env python3
"""A tiny authoritative DNS responder for end-to-end tests (Python standard library only).

Answers on 127.0.0.1 (UDP and TCP, same port) for every name in ZONE (default `test`):
A -> ADDRESS (default 127.0.0.1); every other type -> NOERROR with no answer (so CAA
lookups find no CAA record and AAAA lookups find no address). Names outside the zone get
NXDOMAIN. It never forwards a query anywhere.

    loopback_dns.py --port-file FILE [--port 0] [--zone test] [--address 127.0.0.1]

With --port 0 it picks a free port; either way it writes the port it listens on into FILE
once both sockets are bound (the test waits for that file), and logs each query to stderr.
"""
import argparse
import os
import socket
import socketserver
import struct
import sys
import threading

TYPE_A = 1


def parse_question(packet):
    """(id, flags, qname lowercased, question bytes, qtype) or None for a malformed query."""
    if len(packet) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if qdcount < 1:
        return None
    labels, offset = [], 12
    while True:
        if offset >= len(packet):
            return None
        length = packet[offset]
        offset += 1
        if length == 0:
            break
        if length & 0xC0 or offset + length > len(packet):
            return None
        labels.append(packet[offset:offset + length].decode("ascii", "replace"))
        offset += length
    if offset + 4 > len(packet):
        return None
    qtype, _qclass = struct.unpack("!HH", packet[offset:offset + 4])
    question = packet[12:offset + 4]
    return ident, flags, ".".join(labels).lower(), question, qtype


class Responder:
    def __init__(self, zone, address):
        self.zone = zone.strip(".").lower()
        self.address = socket.inet_aton(address)

    def in_zone(self, name):
        return name == self.zone or name.endswith("." + self.zone)

    def answer(self, packet):
        parsed = parse_question(packet)
        if parsed is None:
            return None
        ident, flags, name, question, qtype = parsed
        opcode = (flags >> 11) & 0xF
        rd = flags & 0x0100
        if opcode != 0:
            rcode, answers = 4, []  # NOTIMP
        elif self.in_zone(name):
            rcode = 0
            answers = []
            if qtype == TYPE_A:
                # name as a pointer to the question (offset 12), type A, class IN, TTL 60
                answers.append(struct.pack("!HHHIH", 0xC00C, TYPE_A, 1, 60, 4) + self.address)
        else:
            rcode, answers = 3, []  # NXDOMAIN
        out_flags = 0x8000 | 0x0400 | rd | rcode  # QR, AA, RD copied
        header = struct.pack("!HHHHHH", ident, out_flags, 1, len(answers), 0, 0)
        sys.stderr.write("query %s type %d -> rcode %d, %d answer(s)\n" % (name, qtype, rcode, len(answers)))
        sys.stderr.flush()
        return header + question + b"".join(answers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--zone", default="test")
    parser.add_argument("--address", default="127.0.0.1")
    args = parser.parse_args()
    responder = Responder(args.zone, args.address)

    class UDPHandler(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            reply = responder.answer(data)
            if reply is not None:
                sock.sendto(reply, self.client_address)

    class TCPHandler(socketserver.BaseRequestHandler):
        def handle(self):
            conn = self.request
            conn.settimeout(10)
            try:
                while True:
                    head = conn.recv(2, socket.MSG_WAITALL)
                    if len(head) < 2:
                        return
                    (length,) = struct.unpack("!H", head)
                    data = conn.recv(length, socket.MSG_WAITALL)
                    reply = responder.answer(data)
                    if reply is None:
                        return
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                return

    socketserver.ThreadingUDPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    for _attempt in range(20):
        udp = socketserver.ThreadingUDPServer(("127.0.0.1", args.port), UDPHandler)
        port = udp.server_address[1]
        try:
            tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), TCPHandler)
            break
        except OSError:
            udp.server_close()
            if args.port:
                raise
    else:
        sys.exit("loopback_dns: no port free for both UDP and TCP")
    udp.daemon_threads = tcp.daemon_threads = True
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as f:
        f.write("%d\n" % port)
    os.replace(temporary, args.port_file)
    sys.stderr.write("loopback_dns: zone %s -> %s on 127.0.0.1:%d\n" % (responder.zone, args.address, port))
    sys.stderr.flush()
    udp.serve_forever()


if __name__ == "__main__":
    main()
