#!/usr/bin/env python3
"""The loopback DNS responder of the tests (Python standard library only).

Answers on 127.0.0.1 (UDP and TCP, same port) from ZONE_FILE, which is read again whenever
it changes, so a test can rewrite it between requests. One record or mark a line:

    <name> A <ipv4>
    <name> AAAA <ipv6>
    <name> TXT "<string>" ["<string>" ...]    one TXT record of one or more character-strings
    <name> CNAME <target>
    <name> CAA <flags> <tag> "<value>"
    <name> RCODE <SERVFAIL|REFUSED|NXDOMAIN|number>   queries for the name get that rcode
    <name> SILENT                                     queries for the name get no answer at all
    <name> AD                                 answers whose every name is marked AD carry the AD bit
    <name> SEQUENCE                           each query gets the next record of the asked type alone
                                              (the last one repeats): a name that changes its answer
    *.<zone> <record>                         a wildcard: for every name below <zone> without lines of its own

Like a recursive resolver it follows CNAMEs (the whole chain in the answer, at most 16
steps). A name with lines (or matched by a wildcard) gets NOERROR and its records of the
asked type (none: NODATA); a name without lines above one with lines (an empty
non-terminal) gets NODATA; any other name NXDOMAIN. Answers carry AA and RA; a UDP answer
over 512 bytes is truncated (TC) so the client retries over TCP. It never forwards a query.

    loopback_dns.py --zone-file FILE --port-file FILE [--port 0]
    loopback_dns.py --zone ZONE [--address 127.0.0.1] --port-file FILE [--port 0]

The second form (also without either, for ZONE `test`) answers A ADDRESS for ZONE and every
name under it, as the lines `ZONE A ADDRESS` and `*.ZONE A ADDRESS` would; with --zone-file
too, those come before the file's lines.

With --port 0 it picks a port free for both UDP and TCP and writes it into the port file
once both sockets are bound (the test waits for that file). Each query is logged to stderr.
"""
import argparse
import ipaddress
import os
import shlex
import socket
import socketserver
import struct
import sys
import threading

TYPES = {"A": 1, "CNAME": 5, "TXT": 16, "AAAA": 28, "CAA": 257}
RCODES = {"NOERROR": 0, "SERVFAIL": 2, "NXDOMAIN": 3, "REFUSED": 5}


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
    return ident, flags, ".".join(labels).lower(), packet[12:offset + 4], qtype


def wire_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            data = label.encode("ascii")
            out += bytes([len(data)]) + data
    return out + b"\x00"


def rdata(kind, fields):
    """The wire rdata of a record of type `kind` from its zone-file fields."""
    if kind == "A":
        return ipaddress.IPv4Address(fields[0]).packed
    if kind == "AAAA":
        return ipaddress.IPv6Address(fields[0]).packed
    if kind == "TXT":
        return b"".join(bytes([len(s)]) + s for s in (f.encode() for f in fields))
    if kind == "CNAME":
        return wire_name(fields[0].lower())
    if kind == "CAA":
        tag, value = fields[1].encode(), fields[2].encode()
        return bytes([int(fields[0]), len(tag)]) + tag + value
    raise ValueError("unknown record type " + kind)


class Zone:
    """The names of a zone file: records (type -> [rdata]), CNAME target and marks per name."""

    def __init__(self, path, base_lines=()):
        self.names = {}
        with open(path) as f:
            lines = list(base_lines) + f.read().splitlines()
            for number, line in enumerate(lines, 1 - len(base_lines)):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                fields = shlex.split(line, posix=True)
                name, kind, rest = fields[0].strip(".").lower(), fields[1].upper(), fields[2:]
                entry = self.names.setdefault(name, {"records": {}, "cname": None, "marks": set(), "rcode": None})
                try:
                    if kind in ("AD", "SILENT", "SEQUENCE"):
                        entry["marks"].add(kind)
                    elif kind == "RCODE":
                        entry["rcode"] = int(rest[0]) if rest[0].isdigit() else RCODES[rest[0].upper()]
                    else:
                        if kind == "CNAME":
                            entry["cname"] = rest[0].strip(".").lower()
                        entry["records"].setdefault(TYPES[kind], []).append(rdata(kind, rest))
                except (KeyError, IndexError, ValueError) as error:
                    raise ValueError("%s:%d: %r: %s" % (path, number, line, error))

    def lookup(self, name):
        """The entry answering for `name`, "empty" for an empty non-terminal, or None."""
        if name in self.names:
            return self.names[name]
        if any(other.endswith("." + name) for other in self.names):
            return "empty"
        labels = name.split(".")
        for i in range(1, len(labels)):
            wildcard = self.names.get("*." + ".".join(labels[i:]))
            if wildcard is not None:
                return wildcard
        return None


class Responder:
    def __init__(self, zone_file, base_lines):
        self.zone_file = zone_file
        self.base_lines = base_lines
        self.lock = threading.Lock()
        self.stamp = None
        self.zone = None
        self.asked = {}  # (name, type) -> how often SEQUENCE records were answered

    def current_zone(self):
        """The zone, read again when the file's mtime or size changed."""
        with self.lock:
            try:
                st = os.stat(self.zone_file)
                stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
                if stamp != self.stamp:
                    self.zone, self.stamp, self.asked = Zone(self.zone_file, self.base_lines), stamp, {}
            except (OSError, ValueError) as error:
                sys.stderr.write("loopback_dns: %s\n" % error)
                if self.zone is None:
                    self.zone = Zone(os.devnull, self.base_lines)
            return self.zone

    def answer(self, packet):
        parsed = parse_question(packet)
        if parsed is None:
            return None
        ident, flags, name, question, qtype = parsed
        zone = self.current_zone()
        rd = flags & 0x0100
        answers, rcode, authenticated, current = [], 0, True, name
        if (flags >> 11) & 0xF != 0:
            rcode = 4  # NOTIMP: only standard queries
        for _step in range(17 if rcode == 0 else 0):
            entry = zone.lookup(current)
            if entry is None:
                rcode = 3  # NXDOMAIN (also at the end of a dangling CNAME chain)
                break
            if entry == "empty":
                authenticated = False
                break
            if "SILENT" in entry["marks"]:
                sys.stderr.write("query %s type %d -> no answer\n" % (name, qtype))
                sys.stderr.flush()
                return None
            authenticated = authenticated and "AD" in entry["marks"]
            if entry["rcode"] is not None:
                rcode = entry["rcode"]
                break
            if entry["cname"] is not None and qtype != TYPES["CNAME"]:
                target = entry["records"][TYPES["CNAME"]][0]
                answers.append(wire_name(current) + struct.pack("!HHIH", TYPES["CNAME"], 1, 60, len(target)) + target)
                current = entry["cname"]
                continue
            records = entry["records"].get(qtype, [])
            if "SEQUENCE" in entry["marks"] and records:
                with self.lock:
                    count = self.asked.get((current, qtype), 0)
                    self.asked[(current, qtype)] = count + 1
                records = [records[min(count, len(records) - 1)]]
            for data in records:
                answers.append(wire_name(current) + struct.pack("!HHIH", qtype, 1, 60, len(data)) + data)
            break
        ad = 0x0020 if authenticated and rcode == 0 else 0
        out_flags = 0x8000 | 0x0400 | rd | 0x0080 | ad | rcode  # QR, AA, RD copied, RA, AD on demand
        header = struct.pack("!HHHHHH", ident, out_flags, 1, len(answers), 0, 0)
        sys.stderr.write("query %s type %d -> rcode %d, %d answer(s)%s\n" % (name, qtype, rcode, len(answers), " AD" if ad else ""))
        sys.stderr.flush()
        return header + question + b"".join(answers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--zone-file")
    parser.add_argument("--zone")
    parser.add_argument("--address", default="127.0.0.1")
    args = parser.parse_args()
    zone = args.zone or (None if args.zone_file else "test")
    base = ["%s A %s" % (zone, args.address), "*.%s A %s" % (zone, args.address)] if zone else []
    responder = Responder(args.zone_file or os.devnull, base)
    responder.current_zone()

    class UDPHandler(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            reply = responder.answer(data)
            if reply is None:
                return
            if len(reply) > 512:
                # Truncated: header and question only, with TC; the client retries over TCP.
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
        sys.exit("loopback_dns: no port free for both UDP and TCP")
    udp.daemon_threads = tcp.daemon_threads = True
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as f:
        f.write("%d\n" % port)
    os.replace(temporary, args.port_file)
    sys.stderr.write("loopback_dns: %s on 127.0.0.1:%d\n" % (args.zone_file or "zone " + zone, port))
    sys.stderr.flush()
    udp.serve_forever()


if __name__ == "__main__":
    main()
