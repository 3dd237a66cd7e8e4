"""A single-node Slurm cluster of its own, for the tests: munged, slurmctld and
slurmd from Debian's munge and slurm-wlm packages, run as the current user with
every file (key, sockets, state, spool, logs, slurm.conf) in one temporary
folder and free TCP ports, and stopped and removed afterwards. Nothing outside
that folder is touched; no service of the machine is used.

    with SlurmCluster() as c:     # c.env: the environment for sbatch, squeue...
        subprocess.run(["sbatch", ...], env=c.env)
"""
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")


def missing_programs():
    """The programs a cluster needs that are not installed (in PATH or /usr/sbin)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [p for p in PROGRAMS if not shutil.which(p, path=path)]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    def __init__(self, cpus=None, timeout=60):
        self.cpus = cpus or os.cpu_count()
        self.timeout = timeout
        self.procs = []

    def _which(self, prog):
        return shutil.which(prog, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="sasim_slurm_")
        os.chmod(self.dir, 0o700)
        d = self.dir
        try:
            self._start(d)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self, d):
        # munge: a key of our own and a socket in the folder.
        key = os.path.join(d, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        self.munge_socket = os.path.join(d, "munge.socket")
        self._spawn([self._which("munged"), "--foreground", "--force", "--key-file=" + key,
                     "--socket=" + self.munge_socket, "--pid-file=" + os.path.join(d, "munged.pid"),
                     "--log-file=" + os.path.join(d, "munged.log"),
                     "--seed-file=" + os.path.join(d, "munged.seed")], "munged.out")
        self._wait(lambda: os.path.exists(self.munge_socket), "munged")

        host = socket.gethostname().split(".")[0]
        user = getpass.getuser()
        for sub in ("state", "spool"):
            os.makedirs(os.path.join(d, sub))
        conf = os.path.join(d, "slurm.conf")
        with open(conf, "w") as f:
            f.write(f"""# written by tests/sweep/slurm_cluster.py
ClusterName=sasimtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
AuthInfo=socket={self.munge_socket}
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=2
MaxArraySize=100001
NodeName={host} NodeAddr=127.0.0.1 CPUs={self.cpus} State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
        self.env = dict(os.environ, SLURM_CONF=conf)
        self._spawn([self._which("slurmctld"), "-D", "-i", "-f", conf], "slurmctld.out")
        self._spawn([self._which("slurmd"), "-D", "-f", conf, "-N", host], "slurmd.out")

        def idle():
            p = subprocess.run(["sinfo", "--noheader", "--format=%t"], env=self.env,
                               capture_output=True, text=True)
            return p.returncode == 0 and p.stdout.strip() in ("idle", "mix", "alloc")
        self._wait(idle, "the Slurm node to be idle")

    def _spawn(self, argv, log):
        out = open(os.path.join(self.dir, log), "w")
        self.procs.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True))

    def _wait(self, ready, what):
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            if ready():
                return
            dead = [p for p in self.procs if p.poll() is not None]
            if dead:
                break
            time.sleep(0.2)
        raise RuntimeError("waiting for %s failed; logs:\n%s" % (what, self.logs()))

    def logs(self):
        text = ""
        for name in sorted(os.listdir(self.dir)):
            if name.endswith((".log", ".out")):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text += "--- %s\n%s" % (name, f.read()[-3000:])
        return text

    def __exit__(self, *exc):
        # slurmd first (its job steps), then the controller, then munged.
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False
