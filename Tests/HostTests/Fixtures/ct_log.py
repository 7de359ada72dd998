#!/usr/bin/env python3
"""A small RFC 6962 Certificate Transparency log for tests, on loopback.

POST /ct/v1/add-chain      {"chain": [base64 DER leaf, base64 DER issuer, ...]}
POST /ct/v1/add-pre-chain  {"chain": [base64 DER precertificate, base64 DER issuer, ...]}
  -> 200 {"sct_version": 0, "id", "timestamp", "extensions": "", "signature"}: a real SCT
     (RFC 6962 section 3.2) signed by the log's own EC P-256 key, generated at startup.
The leaf must be signed by chain[1]; a precertificate must carry the critical poison
extension (1.3.6.1.4.1.11129.2.4.3) and a certificate must not. Anything else is a 400
(bodies over 1 MiB, bad JSON, base64 or DER included).

Modes (--mode): ok (default); hang: answer only after --hang-seconds (default 30); error: 503.
The log's SubjectPublicKeyInfo PEM goes to log-key.pem beside --port-file, then the port it
listens on (127.0.0.1) to --port-file, both written atomically. --log gets one JSON line per
request received:
{"path", "entry_type": "precert"|"x509"|null, "leaf_der_b64", "issuer_der_b64", "has_poison",
 "timestamp": ms|null, "status"}, written before the answer (so before a hang's sleep).
Usage: ct_log.py --port-file PATH --log PATH [--mode ok|hang|error] [--hang-seconds N]
"""
import argparse, base64, hashlib, json, os, signal, struct, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

MAX_BODY = 1 << 20
POISON = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.3")
POISON_OID_DER = bytes.fromhex("2b 06 01 04 01 d6 79 02 04 03")  # content octets of POISON
ENTRY_TYPES = {"/ct/v1/add-chain": "x509", "/ct/v1/add-pre-chain": "precert"}

args = None
log_key = ec.generate_private_key(ec.SECP256R1())
log_spki = log_key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
log_id = hashlib.sha256(log_spki).digest()
record_lock = threading.Lock()


class BadRequest(Exception):
    pass


def write_atomically(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


def record(entry):
    with record_lock, open(args.log, "a") as f:
        f.write(json.dumps(entry) + "\n")
        f.flush()


def check_issued_by(leaf, issuer):
    """Raises BadRequest unless issuer's key made leaf's signature."""
    if leaf.issuer != issuer.subject:
        raise BadRequest("chain[1] is not the leaf's issuer")
    key, sig, tbs = issuer.public_key(), leaf.signature, leaf.tbs_certificate_bytes
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, tbs, padding.PKCS1v15(), leaf.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, tbs, ec.ECDSA(leaf.signature_hash_algorithm))
        else:
            key.verify(sig, tbs)
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError) as e:
        raise BadRequest("leaf not signed by chain[1]: %r" % e)


def parse_chain(raw, entry, precert):
    """The (leaf, issuer) certificates of an add-(pre-)chain body; fills entry's fields."""
    try:
        chain = json.loads(raw)["chain"]
        if not isinstance(chain, list):
            raise TypeError("chain is not a list")
        ders = [base64.b64decode(c, validate=True) for c in chain]
    except (ValueError, KeyError, TypeError) as e:
        raise BadRequest("bad body: %r" % e)
    if len(ders) < 2:
        raise BadRequest("chain needs the leaf and its issuer")
    entry["leaf_der_b64"], entry["issuer_der_b64"] = chain[0], chain[1]
    try:
        leaf, issuer = (x509.load_der_x509_certificate(d) for d in ders[:2])
        poison = next((e for e in leaf.extensions if e.oid == POISON), None)
    except ValueError as e:
        raise BadRequest("bad certificate: %r" % e)
    entry["has_poison"] = poison is not None
    if precert and (poison is None or not poison.critical):
        raise BadRequest("precertificate without the critical poison extension")
    if not precert and poison is not None:
        raise BadRequest("certificate with the poison extension")
    check_issued_by(leaf, issuer)
    return leaf, issuer


def read_tlv(der, i):
    """(tag, content start, end) of the DER element at der[i] (low tag numbers only, as in X.509)."""
    length, start = der[i + 1], i + 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(der[start:start + count], "big"), start + count
    return der[i], start, start + length


def encode_tlv(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def tbs_without_poison(cert):
    """RFC 6962 section 3.2's precert TBSCertificate: cert's TBSCertificate minus the poison extension.
    (cryptography 38's tbs_precertificate_bytes removes the SCT list instead, so it is done here.)"""
    tbs = cert.tbs_certificate_bytes
    _, i, end = read_tlv(tbs, 0)
    fields = []
    while i < end:
        tag, start, next_i = read_tlv(tbs, i)
        if tag == 0xA3:  # [3] EXPLICIT Extensions
            _, j, ext_end = read_tlv(tbs, start)
            kept = []
            while j < ext_end:
                _, ext_start, ext_next = read_tlv(tbs, j)
                _, oid_start, oid_end = read_tlv(tbs, ext_start)
                if tbs[oid_start:oid_end] != POISON_OID_DER:
                    kept.append(tbs[j:ext_next])
                j = ext_next
            if kept:
                fields.append(encode_tlv(0xA3, encode_tlv(0x30, b"".join(kept))))
        else:
            fields.append(tbs[i:next_i])
        i = next_i
    return encode_tlv(0x30, b"".join(fields))


def sct(leaf, issuer, precert, timestamp):
    """The SCT JSON for leaf, signed over RFC 6962 section 3.2's digitally-signed struct."""
    if precert:
        issuer_spki = issuer.public_key().public_bytes(serialization.Encoding.DER,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
        tbs = tbs_without_poison(leaf)
        entry = struct.pack(">H", 1) + hashlib.sha256(issuer_spki).digest() + len(tbs).to_bytes(3, "big") + tbs
    else:
        der = leaf.public_bytes(serialization.Encoding.DER)
        entry = struct.pack(">H", 0) + len(der).to_bytes(3, "big") + der
    signed = struct.pack(">BBQ", 0, 0, timestamp) + entry + struct.pack(">H", 0)
    signature = log_key.sign(signed, ec.ECDSA(hashes.SHA256()))
    digitally_signed = struct.pack(">BBH", 4, 3, len(signature)) + signature
    return {"sct_version": 0, "id": base64.b64encode(log_id).decode(), "timestamp": timestamp,
            "extensions": "", "signature": base64.b64encode(digitally_signed).decode()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout in hang mode)

    def do_GET(self):
        self.close_connection = True
        self.reply(405, {"error_message": "POST only"})

    def do_POST(self):
        kind = ENTRY_TYPES.get(self.path)
        entry = {"path": self.path, "entry_type": kind, "leaf_der_b64": None,
                 "issuer_der_b64": None, "has_poison": False, "timestamp": None}
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if kind is None:
            status, obj = 404, {"error_message": "no such endpoint"}
        elif not 0 <= length <= MAX_BODY:
            status, obj = 400, {"error_message": "body missing or over 1 MiB"}
        else:
            try:
                leaf, issuer = parse_chain(self.rfile.read(length), entry, kind == "precert")
                entry["timestamp"] = int(time.time() * 1000)
                status, obj = 200, sct(leaf, issuer, kind == "precert", entry["timestamp"])
            except BadRequest as e:
                status, obj = 400, {"error_message": str(e)}
        if args.mode == "error" and kind is not None:
            entry["timestamp"] = None
            status, obj = 503, {"error_message": "log unavailable"}
        self.close_connection = status != 200
        entry["status"] = status
        record(entry)
        if args.mode == "hang":
            time.sleep(args.hang_seconds)
        self.reply(status, obj)


def main():
    global args
    # The test runner may spawn us with SIGTERM blocked (inherited mask): let it through.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    p = argparse.ArgumentParser(description="RFC 6962 CT log for tests")
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--mode", choices=("ok", "hang", "error"), default="ok")
    p.add_argument("--hang-seconds", type=float, default=30)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    key_file = os.path.join(os.path.dirname(os.path.abspath(args.port_file)), "log-key.pem")
    write_atomically(key_file, log_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    write_atomically(args.port_file, b"%d\n" % server.server_address[1])
    try:
        server.serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
