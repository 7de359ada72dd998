#!/usr/bin/env python3
"""A tiny DNS responder serving a small zone file, for the dns-01 / dns-persist-01 tests
(Python standard library only; a copy of loopback_dns.py extended with TXT and CNAME).

Answers on 127.0.0.1 (UDP and TCP, same port) from ZONE_FILE, one record a line:

    <name> TXT "<string>" ["<string>" ...]   one TXT record of one or more character-strings
    <name> CNAME <target>
    <name> AD                                 answers whose every name is marked AD carry the AD bit
    <name> SERVFAIL                           queries for the name get SERVFAIL
    <name> SILENT                             queries for the name get no answer at all

Like a recursive resolver, it follows CNAMEs inside the zone and puts the whole chain in
the answer (a loop stops after 16 steps). Names without records get NXDOMAIN; names with
records of other types get NOERROR and no answer (NODATA). It never forwards a query.

    zone_dns.py --zone-file FILE --port-file FILE [--port 0]
"""
import argparse
import os
import shlex
import socket
import socketserver
import struct
import sys
import threading

TYPE_CNAME, TYPE_TXT = 5, 16


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


def encode_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\x00"


def load_zone(path):
    records, flags = {}, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = shlex.split(line, posix=True)
            name, kind = fields[0].strip(".").lower(), fields[1].upper()
            if kind in ("AD", "SERVFAIL", "SILENT"):
                flags.setdefault(name, set()).add(kind)
            elif kind == "TXT":
                records.setdefault(name, []).append((TYPE_TXT, [s.encode() for s in fields[2:]]))
            elif kind == "CNAME":
                records.setdefault(name, []).append((TYPE_CNAME, fields[2].strip(".").lower()))
    return records, flags


class Responder:
    def __init__(self, zone_file):
        self.records, self.flags = load_zone(zone_file)

    def answer(self, packet):
        parsed = parse_question(packet)
        if parsed is None:
            return None
        ident, flags, name, question, qtype = parsed
        rd = flags & 0x0100
        marks = self.flags.get(name, set())
        if "SILENT" in marks:
            return None
        answers, rcode, authenticated, current, seen = [], 0, True, name, 0
        if "SERVFAIL" in marks:
            rcode = 2
        else:
            while True:
                authenticated = authenticated and "AD" in self.flags.get(current, set())
                rrs = self.records.get(current)
                if rrs is None:
                    rcode = 3  # NXDOMAIN (also at the end of a dangling CNAME chain)
                    break
                cname = next((data for kind, data in rrs if kind == TYPE_CNAME), None)
                if cname is not None and qtype != TYPE_CNAME:
                    answers.append(encode_name(current) + struct.pack("!HHIH", TYPE_CNAME, 1, 60, len(encode_name(cname))) + encode_name(cname))
                    seen += 1
                    if seen > 16:
                        break
                    current = cname
                    continue
                for kind, data in rrs:
                    if kind != qtype:
                        continue
                    if kind == TYPE_TXT:
                        rdata = b"".join(bytes([len(s)]) + s for s in data)
                    else:
                        rdata = encode_name(data)
                    answers.append(encode_name(current) + struct.pack("!HHIH", kind, 1, 60, len(rdata)) + rdata)
                break
        ad = 0x0020 if authenticated and rcode == 0 else 0
        out_flags = 0x8000 | 0x0400 | rd | 0x0080 | ad | rcode  # QR, AA, RD copied, RA, AD on demand
        header = struct.pack("!HHHHHH", ident, out_flags, 1, len(answers), 0, 0)
        sys.stderr.write("zone_dns: %s type %d -> rcode %d, %d answer(s)%s\n" % (name, qtype, rcode, len(answers), " AD" if ad else ""))
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
            if reply is None:
                return
            if len(reply) > 512:
                # Truncated: header only with TC, the client retries over TCP.
                ident, flags = struct.unpack("!HH", reply[:4])
                question_end = 12 + len(parse_question(data)[3])
                reply = struct.pack("!HHHHHH", ident, flags | 0x0200, 1, 0, 0, 0) + reply[12:question_end]
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
        sys.exit("zone_dns: no port free for both UDP and TCP")
    udp.daemon_threads = tcp.daemon_threads = True
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as f:
        f.write("%d\n" % port)
    os.replace(temporary, args.port_file)
    sys.stderr.write("zone_dns: %s on 127.0.0.1:%d\n" % (args.zone_file, port))
    sys.stderr.flush()
    udp.serve_forever()


if __name__ == "__main__":
    main()
