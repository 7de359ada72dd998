#!/usr/bin/env python3
"""A small external signing API for the CAExternal tests, on loopback.

POST /sign   {csr: PEM, profile, validity_days} -> {certificate_chain: PEM (leaf, CA)}
             signed for real by `openssl x509 -req`, the CSR's subjectAltName copied.
POST /revoke {serial_number, reason?}            -> {status: "revoked"}
POST /crl    {crl_number: hex, this_update, next_update: unix, hash_algorithm,
              revoked: [{serial_number: hex, revocation_time: unix, reason: n|null}]}
             -> {crl: base64 DER}, a v2 CRL signed by the CA key (`openssl ca -gencrl`).
HEAD/GET /sign -> 405 (reachability).

Failing modes for tests:
  --fail-first N   answer the first N POSTs with 500 (then work normally)
  --always-500     answer every POST with 500
  --reject-400     answer every POST with 400 and a problem document
  --slow SECONDS   sleep before answering each POST
  --crl-wrong-number  sign each CRL with the requested crl_number plus one
  --auth VALUE     require header (--auth-header, default Authorization) == VALUE, else 401
TLS: --tls-cert/--tls-key serve HTTPS with that certificate; --client-ca PEM also requires a
client certificate issued by that CA (mutual TLS). A refused handshake is logged as
{"tls_error": ...}; a request over mutual TLS logs the client certificate's CN ("client_cn").
Prints "PORT <n>" on stdout, and writes it to --port-file, when listening (--port 0 picks a free port).
The log of requests goes to --log FILE as JSON lines (path, status, body)."""
import argparse, base64, json, os, re, signal, socket, ssl, subprocess, sys, tempfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None
lock = threading.Lock()
posts = 0

def log(entry):
    if args.log:
        with lock, open(args.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

def sign(csr_pem, days):
    with tempfile.TemporaryDirectory() as d:
        csr = os.path.join(d, "req.pem")
        with open(csr, "w") as f:
            f.write(csr_pem)
        text = subprocess.run(["openssl", "req", "-in", csr, "-noout", "-text"],
                              check=True, capture_output=True, text=True).stdout
        m = re.search(r"X509v3 Subject Alternative Name:.*?\n\s*(.+)\n", text)
        sans = m.group(1).strip().replace("IP Address:", "IP:") if m else ""
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
            if sans:
                f.write("subjectAltName=" + sans + "\n")
        out = subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", args.ca_cert, "-CAkey", args.ca_key,
                              "-set_serial", "0x" + os.urandom(16).hex(), "-days", str(days),
                              "-sha256", "-extfile", ext], check=True, capture_output=True, text=True).stdout
        with open(args.ca_cert) as f:
            return out + f.read()

# RFC 5280 CRLReason codes by the names `openssl ca` keeps in index.txt (it has none for 9, 10).
REASONS = {0: "unspecified", 1: "keyCompromise", 2: "CACompromise", 3: "affiliationChanged", 4: "superseded",
           5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL"}

def even_hex(text):
    text = text.upper()
    if not re.fullmatch(r"[0-9A-F]{1,42}", text):
        raise ValueError("not hex: %r" % text[:50])
    return text if len(text) % 2 == 0 else "0" + text

def utc(seconds, generalized=False):
    return time.strftime("%Y%m%d%H%M%SZ" if generalized else "%y%m%d%H%M%SZ", time.gmtime(int(seconds)))

def gen_crl(body):
    """DER of a v2 CRL of the draft: `openssl ca -gencrl` over a throwaway index.txt and crlnumber."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "index.txt"), "w") as f:
            for e in body.get("revoked", []):
                reason = e.get("reason")
                if reason is not None and reason not in REASONS:
                    raise ValueError("reason %r has no openssl ca name" % reason)
                revoked = utc(e["revocation_time"]) + ("," + REASONS[reason] if reason is not None else "")
                f.write("R\t%s\t%s\t%s\tunknown\t/CN=revoked\n"
                        % (utc(int(body["next_update"]) + 86400), revoked, even_hex(e["serial_number"])))
        number = int(even_hex(body["crl_number"]), 16) + (1 if args.crl_wrong_number else 0)
        with open(os.path.join(d, "crlnumber"), "w") as f:
            f.write(even_hex("%x" % number) + "\n")
        cnf = os.path.join(d, "ca.cnf")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca = service\n[service]\ndatabase = %s/index.txt\ncrlnumber = %s/crlnumber\n"
                    "unique_subject = no\ncrl_extensions = crl_ext\n[crl_ext]\nauthorityKeyIdentifier = keyid\n" % (d, d))
        md = body.get("hash_algorithm") or "sha256"
        if md not in ("sha256", "sha384", "sha512"):
            raise ValueError("hash_algorithm %r" % md)
        pem = os.path.join(d, "crl.pem")
        subprocess.run(["openssl", "ca", "-batch", "-config", cnf, "-gencrl", "-cert", args.ca_cert, "-keyfile", args.ca_key,
                        "-md", md, "-crl_lastupdate", utc(body["this_update"], True),
                        "-crl_nextupdate", utc(body["next_update"], True), "-out", pem],
                       check=True, capture_output=True, text=True)
        return subprocess.run(["openssl", "crl", "-in", pem, "-outform", "DER"], check=True, capture_output=True).stdout

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, obj=None):
        body = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.reply(405)

    do_GET = do_HEAD

    def do_POST(self):
        global posts
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        with lock:
            posts += 1
            n = posts
        entry = {"path": self.path, "n": n, "auth": self.headers.get(args.auth_header)}
        peer = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        if peer:
            entry["client_cn"] = dict(x[0] for x in peer.get("subject", ())).get("commonName")
        try:
            entry["body"] = json.loads(raw or b"{}")
        except ValueError:
            entry["body"] = None
        if args.slow:
            time.sleep(args.slow)
        if args.auth is not None and self.headers.get(args.auth_header) != args.auth:
            status, obj = 401, {"type": "urn:ietf:params:acme:error:unauthorized", "detail": "bad credentials"}
        elif args.always_500 or n <= args.fail_first:
            status, obj = 500, {"detail": "signing backend temporarily broken"}
        elif args.reject_400:
            status, obj = 400, {"type": "urn:ietf:params:acme:error:rejectedIdentifier", "detail": "policy forbids this name"}
        elif self.path == "/sign":
            body = entry["body"] or {}
            if "BEGIN CERTIFICATE REQUEST" not in str(body.get("csr", "")):
                status, obj = 400, {"detail": "csr is not PEM"}
            else:
                try:
                    status, obj = 200, {"certificate_chain": sign(body["csr"], int(body.get("validity_days", 90)))}
                except subprocess.CalledProcessError as e:
                    status, obj = 400, {"detail": "openssl: " + e.stderr.strip()[:200]}
        elif self.path == "/crl":
            try:
                status, obj = 200, {"crl": base64.b64encode(gen_crl(entry["body"] or {})).decode()}
            except (KeyError, TypeError, ValueError) as e:
                status, obj = 400, {"detail": "bad CRL request: %s" % e}
            except subprocess.CalledProcessError as e:
                status, obj = 400, {"detail": "openssl: " + (e.stderr or "").strip()[:200]}
        elif self.path == "/revoke":
            status, obj = 200, {"status": "revoked"}
        else:
            status, obj = 404, {"detail": "no such endpoint"}
        entry["status"] = status
        log(entry)
        self.reply(status, obj)

def drain(request):
    """Reads what the client still sends (its request, after a TLS 1.3 handshake that it
    thinks succeeded) until it closes, so that closing here does not reset the connection
    and lose the alert already sent."""
    request.settimeout(2)
    try:
        while socket.socket.recv(request, 65536):
            pass
    except OSError:
        pass

class Server(ThreadingHTTPServer):
    daemon_threads = True

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's thread, so a refusal is logged
        # and never blocks the accept loop.
        if isinstance(request, ssl.SSLSocket):
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError) as e:
                log({"tls_error": str(e)})
                drain(request)
                return
        super().finish_request(request, client_address)

def main():
    global args
    # The test runner may spawn us with SIGTERM blocked (inherited mask): let it through.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ca-cert", required=True)
    p.add_argument("--ca-key", required=True)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--always-500", action="store_true")
    p.add_argument("--reject-400", action="store_true")
    p.add_argument("--slow", type=float, default=0)
    p.add_argument("--crl-wrong-number", action="store_true")
    p.add_argument("--auth")
    p.add_argument("--auth-header", default="Authorization")
    p.add_argument("--log")
    p.add_argument("--port-file")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca")
    args = p.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.client_ca)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    print("PORT %d" % server.server_address[1], flush=True)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()

if __name__ == "__main__":
    main()
