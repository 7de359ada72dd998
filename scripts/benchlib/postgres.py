"""The one private PostgreSQL cluster every server of a benchmark shares (scripts/pg-cluster),
with pg_stat_statements loaded when the installation has it."""
import glob
import os
import subprocess

SYSTEM_DATABASES = ("postgres", "template0", "template1")


def _bindir():
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if os.path.exists(os.path.join(out, "pg_ctl")):
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    if not candidates:
        raise SystemExit("bench: PostgreSQL binaries not found (apt-get install postgresql)")
    return candidates[0]


class Cluster:
    def __init__(self, repo, directory, port):
        self.repo = repo
        self.directory = os.path.abspath(directory)
        self.port = port
        self.bindir = _bindir()
        self.statements = False

    def _pg_cluster(self, *args):
        env = dict(os.environ, ACMEEH_PG_DURABLE="1" if getattr(self, "durable", False) else "")
        subprocess.run([os.path.join(self.repo, "scripts/pg-cluster")] + list(args), check=True,
                       stdout=subprocess.DEVNULL, env=env)

    def start(self, durable=False):
        """Starts the cluster; loads pg_stat_statements (a restart) when it is installed.
        `durable` keeps PostgreSQL's own fsync, synchronous_commit and full_page_writes (on);
        otherwise they are off, as in the tests."""
        self.durable = durable
        self._pg_cluster("start", self.directory, str(self.port))
        available = self.psql("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_stat_statements'") == "1"
        if available:
            loaded = self.psql("SHOW shared_preload_libraries")
            if "pg_stat_statements" not in loaded:
                self.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
                self.stop()
                self._pg_cluster("start", self.directory, str(self.port))
            self.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            self.statements = True

    def stop(self):
        self._pg_cluster("stop", self.directory)

    def psql(self, sql, database="postgres"):
        out = subprocess.run([os.path.join(self.bindir, "psql"), "-h", self.directory, "-p", str(self.port),
                              "-U", "acmeeh", "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("psql failed: %s: %s" % (sql, out.stderr.strip()))
        return out.stdout.strip()

    def recreate(self, name):
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        self.psql('CREATE DATABASE "%s"' % name)

    def vacuum_analyze(self, database):
        self.psql("VACUUM ANALYZE", database=database)

    def sessions(self, database):
        """Client sessions open on `database` now (the server's pool)."""
        return int(self.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'" % database))

    def postmaster_pid(self):
        with open(os.path.join(self.directory, "data", "postmaster.pid")) as f:
            return int(f.readline())

    def reset_statements(self):
        if self.statements:
            self.psql("SELECT pg_stat_statements_reset()")

    def counters(self):
        """Commits and tuple counts summed over the non-system databases, and statements
        (pg_stat_statements calls, BEGIN/COMMIT included) when available."""
        excluded = ",".join("'%s'" % d for d in SYSTEM_DATABASES)
        row = self.psql("SELECT coalesce(sum(xact_commit),0), coalesce(sum(xact_rollback),0), "
                        "coalesce(sum(tup_inserted),0), coalesce(sum(tup_updated),0), coalesce(sum(tup_deleted),0) "
                        "FROM pg_stat_database WHERE datname NOT IN (%s)" % excluded)
        commits, rollbacks, inserted, updated, deleted = (int(x) for x in row.split("|"))
        statements = None
        if self.statements:
            statements = int(self.psql("SELECT coalesce(sum(s.calls),0) FROM pg_stat_statements s "
                                       "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname NOT IN (%s)" % excluded))
        return {"commits": commits, "rollbacks": rollbacks, "inserted": inserted, "updated": updated,
                "deleted": deleted, "statements": statements}
