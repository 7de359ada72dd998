#!/usr/bin/env python3
"""A tiny DNS responder answering CAA queries from a zone file the test writes (Python
standard library only; derived from loopback_dns.py).

    caa_dns.py --port-file FILE --zone-file ZONE.json

ZONE.json is re-read on every query, so a test can change it between requests:

    {"example.test": {"caa": [[0, "issue", "ca.test"], [128, "tbs", "x"]]},
     "alias.test":   {"cname": "example.test"},
     "broken.test":  {"rcode": 2},          # SERVFAIL
     "silent.test":  {"silent": true},      # no answer at all (a timeout)
     "gone.test":    {"rcode": 3}}          # NXDOMAIN

Names are lowercase without the final dot. A CAA query follows CNAMEs like a recursive
resolver (CNAME records, then the target's CAA records, in the answer section). Any other
name or type: NOERROR with no answer. Listens on 127.0.0.1, UDP and TCP on one port,
writes that port into FILE once bound, logs each query to stderr. Never forwards.
"""
import argparse
import json
import os
import socket
import socketserver
import struct
import sys
import threading

TYPE_CNAME = 5
TYPE_CAA = 257


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


def wire_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            data = label.encode("ascii")
            out += bytes([len(data)]) + data
    return out + b"\x00"


def rr(name, rtype, rdata):
    return wire_name(name) + struct.pack("!HHIH", rtype, 1, 60, len(rdata)) + rdata


class Responder:
    def __init__(self, zone_file):
        self.zone_file = zone_file

    def zone(self):
        try:
            with open(self.zone_file) as f:
                return {k.strip(".").lower(): v for k, v in json.load(f).items()}
        except (OSError, ValueError):
            return {}

    def answer(self, packet):
        parsed = parse_question(packet)
        if parsed is None:
            return None
        ident, flags, name, question, qtype = parsed
        zone = self.zone()
        rd = flags & 0x0100
        rcode, answers = 0, []
        current, hops = name, 0
        while True:
            entry = zone.get(current, {})
            if entry.get("silent"):
                sys.stderr.write("query %s type %d -> no answer\n" % (name, qtype))
                sys.stderr.flush()
                return None
            if "rcode" in entry:
                rcode = int(entry["rcode"])
                break
            target = entry.get("cname")
            if target and qtype != TYPE_CNAME and hops < 8:
                answers.append(rr(current, TYPE_CNAME, wire_name(target)))
                current, hops = target.strip(".").lower(), hops + 1
                continue
            if qtype == TYPE_CAA:
                for flag, tag, value in entry.get("caa", []):
                    tag_bytes, value_bytes = tag.encode("utf-8"), value.encode("utf-8")
                    answers.append(rr(current, TYPE_CAA, bytes([int(flag), len(tag_bytes)]) + tag_bytes + value_bytes))
            break
        out_flags = 0x8000 | 0x0080 | rd | rcode  # QR, RA, RD copied
        header = struct.pack("!HHHHHH", ident, out_flags, 1, len(answers), 0, 0)
        sys.stderr.write("query %s type %d -> rcode %d, %d answer(s)\n" % (name, qtype, rcode, len(answers)))
        sys.stderr.flush()
        return header + question + b"".join(answers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--zone-file", required=True)
    args = parser.parse_args()
    responder = Responder(args.zone_file)

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
        sys.exit("caa_dns: no port free for both UDP and TCP")
    udp.daemon_threads = tcp.daemon_threads = True
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as f:
        f.write("%d\n" % port)
    os.replace(temporary, args.port_file)
    sys.stderr.write("caa_dns: zone file %s on 127.0.0.1:%d\n" % (args.zone_file, port))
    sys.stderr.flush()
    udp.serve_forever()


if __name__ == "__main__":
    main()
