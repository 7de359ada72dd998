"""The servers under test: acmeeh (release build, its own database in the shared cluster)
and the peers that scripts/bench-peer starts (the reference ACMEEH 2.1, Pebble 2.4)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout, process=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            return False
        try:
            with NO_PROXY.open(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


class Started:
    """What a started server gives the harness: directory URL, root pids, trust."""

    def __init__(self, directory, pids, ca_file=None):
        self.directory = directory
        self.pids = pids
        self.ca_file = ca_file or None


class LoopbackDNS:
    """scripts/loopback-dns: A 127.0.0.1 for every name in the zone."""

    def __init__(self, repo, workdir, zone):
        os.makedirs(workdir, exist_ok=True)
        port_file = os.path.join(workdir, "dns-port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log = open(os.path.join(workdir, "dns.log"), "w")
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(repo, "scripts/loopback-dns"),
             "--port-file", port_file, "--zone", zone],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        end = time.monotonic() + 20
        while not os.path.exists(port_file):
            if time.monotonic() > end or self.process.poll() is not None:
                raise SystemExit("bench: the loopback DNS responder did not start, see %s" % self.log.name)
            time.sleep(0.05)
        with open(port_file) as f:
            self.address = "127.0.0.1:%d" % int(f.read())

    def stop(self):
        stop_process(self.process)
        self.log.close()


def stop_process(process, timeout=30):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Acmeeh:
    """`acmeeh serve` from the release build, on a fresh database for every start."""

    name = "acmeeh"
    uses_postgres = True
    database = "acmeeh_bench"
    log_level = "WARNING"

    def __init__(self, repo, binary_dir, workdir, cluster, dns, http01_port):
        self.repo, self.binary_dir, self.workdir = repo, binary_dir, workdir
        self.cluster, self.dns, self.http01_port = cluster, dns, http01_port
        self.process = None
        # --rate-limits: every limit on, counted in PostgreSQL, too generous to refuse anything.
        self.rate_limits = False
        # --revocation-status: CRL publishing and the OCSP responder on (CT stays off).
        self.revocation_status = False
        # --hooks: the webhook sink's base URL; two hooks on every event, one that hangs, one that fails.
        self.hooks_sink = None
        # --admin-api: the admin API on (finalize then reads the account's CSR profile).
        self.admin_api = False
        os.makedirs(workdir, exist_ok=True)
        ca = os.path.join(workdir, "ca")
        subprocess.run([os.path.join(repo, "scripts/dev-ca"), ca], check=True, stdout=subprocess.DEVNULL)

    def config(self, port):
        ca = os.path.join(self.workdir, "ca")
        return "\n".join([
            "server:",
            "  external_url: http://127.0.0.1:%d" % port,
            "  bind: 127.0.0.1",
            "  port: %d" % port,
            "database:",
            "  host: %s" % self.cluster.directory,
            "  port: %d" % self.cluster.port,
            "  database: acmeeh_bench",
            "  user: acmeeh",
            "  auto_setup: true",
            "ca:",
            "  backend: internal",
            "  internal:",
            "    root_cert_path: %s/root.pem" % ca,
            "    root_key_path: %s/root-key.pem" % ca,
            "    serial_source: database",
            "challenges:",
            "  http01:",
            "    port: %d" % self.http01_port,
            "    blocked_networks: []",
            "dns:",
            "  resolvers: [\"%s\"]" % self.dns.address,
            "security:",
            "  rate_limits:",
        ] + (self.rate_limit_lines() if self.rate_limits else ["    enabled: false"]) + [
            # The peers run at WARNING too (scripts/bench-peer): no per-request log lines.
            "logging:",
            "  level: WARNING",
        ] + (["crl:", "  enabled: true", "ocsp:", "  enabled: true"] if self.revocation_status else [])
          + (self.hook_lines() if self.hooks_sink else [])
          + (["admin_api:", "  enabled: true", "  token_secret: bench-admin-token-secret-0123456789",
              "  initial_admin_email: bench@example.test"] if self.admin_api else []) + [
            "",
        ])

    def hook_lines(self):
        return [
            "hooks:",
            "  max_workers: 4",
            "  max_retries: 2",
            "  dead_letter_log: %s" % os.path.join(self.workdir, "hooks-dead-letter.jsonl"),
            "  registered:",
            "    - notifier: webhook",
            "      timeout_seconds: 2",
            "      config: {url: \"%s\"}" % self.hooks_sink.url("/hang"),
            "    - notifier: webhook",
            "      config: {url: \"%s\"}" % self.hooks_sink.url("/fail"),
        ]

    @staticmethod
    def rate_limit_lines():
        lines = ["    enabled: true", "    backend: database"]
        for name in ("new_nonce", "new_account", "new_order", "new_order_per_identifier", "challenge",
                     "challenge_validation"):
            lines += ["    %s:" % name, "      requests: 100000000", "      window_seconds: 3600"]
        return lines

    def start(self):
        self.cluster.recreate("acmeeh_bench")
        port = free_port()
        path = os.path.join(self.workdir, "acmeeh.yaml")
        with open(path, "w") as f:
            f.write(self.config(port))
        self.log = open(os.path.join(self.workdir, "server.log"), "a")
        self.process = subprocess.Popen([os.path.join(self.binary_dir, "acmeeh"), "-c", path, "serve"],
                                        stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        if not wait_http("http://127.0.0.1:%d/livez" % port, 60, self.process):
            self.stop()
            raise RuntimeError("acmeeh did not become live, see %s" % self.log.name)
        return Started("http://127.0.0.1:%d/directory" % port, [self.process.pid])

    def round_trips(self, started):
        """The server's SQL round trips so far (/healthz), or None when it does not say."""
        url = started.directory.rsplit("/", 1)[0] + "/healthz"
        try:
            with NO_PROXY.open(url, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as degraded:  # 503 still carries the report
            raw = degraded.read()
        except OSError:
            return None
        try:
            pool = json.loads(raw).get("checks", {}).get("database", {}).get("pool", {})
        except ValueError:
            return None
        return pool.get("round_trips")

    def stop(self):
        if self.process is not None:
            stop_process(self.process)
            self.process = None
            self.log.close()


class Peer:
    """A peer server through the scripts/bench-peer contract: `NAME start WORKDIR
    --http01-port P [--pg-host H --pg-port N]` prints DIRECTORY=, PIDS=, CA_FILE=."""

    database = "acmeeh_reference"
    log_level = "WARNING"

    def __init__(self, repo, name, workdir, cluster, http01_port):
        self.repo, self.name, self.workdir = repo, name, workdir
        self.cluster, self.http01_port = cluster, http01_port
        self.uses_postgres = name == "reference"
        self.script = os.path.join(repo, "scripts/bench-peer")

    def available(self):
        return os.access(self.script, os.X_OK)

    def start(self):
        args = [self.script, self.name, "start", self.workdir, "--http01-port", str(self.http01_port)]
        if self.uses_postgres:
            args += ["--pg-host", self.cluster.directory, "--pg-port", str(self.cluster.port)]
        out = subprocess.run(args, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        values = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        if out.returncode != 0 or "DIRECTORY" not in values or not values.get("PIDS", "").strip():
            raise RuntimeError("bench-peer %s start failed (%d): %s %s" % (self.name, out.returncode,
                                                                        out.stdout[-2000:], out.stderr[-2000:]))
        pids = [int(p) for p in values["PIDS"].split()]
        return Started(values["DIRECTORY"].strip(), pids, values.get("CA_FILE", "").strip())

    def round_trips(self, started):
        return None

    def stop(self):
        subprocess.run([self.script, self.name, "stop", self.workdir], capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
