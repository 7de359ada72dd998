#!/usr/bin/env python3
"""Checks the SCTs embedded in a certificate (RFC 6962 section 3.3) on its own, with
Python's cryptography rather than acmeeh's code: for each SCT of the SCT list extension,
rebuilds the signed precert_entry (issuer key hash + the TBSCertificate without the SCT
list, which is the precertificate's without the poison) and verifies the signature under
each given log key. Prints one line per SCT: "<log id hex> <timestamp> verified-by <key
path>" or "<log id hex> <timestamp> unverified".
Usage: verify_scts.py CERT.pem ISSUER.pem LOG_KEY.pem [LOG_KEY.pem ...]
"""
import hashlib, struct, sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def main():
    cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
    issuer = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
    keys = [(path, serialization.load_pem_public_key(open(path, "rb").read())) for path in sys.argv[3:]]
    issuer_key_hash = hashlib.sha256(issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
    tbs = cert.tbs_precertificate_bytes
    scts = cert.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
    for sct in scts:
        timestamp = int(sct.timestamp.replace(tzinfo=__import__("datetime").timezone.utc).timestamp() * 1000)
        signed = (struct.pack(">BBQH", 0, 0, timestamp, 1) + issuer_key_hash
                  + struct.pack(">I", len(tbs))[1:] + tbs + struct.pack(">H", len(sct.extension_bytes))
                  + sct.extension_bytes)
        verified_by = None
        for path, key in keys:
            spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            if hashlib.sha256(spki).digest() != sct.log_id:
                continue
            try:
                key.verify(sct.signature, signed, ec.ECDSA(hashes.SHA256()))
                verified_by = path
            except InvalidSignature:
                pass
        result = f"verified-by {verified_by}" if verified_by else "unverified"
        print(f"{sct.log_id.hex()} {timestamp} {result}")


main()
