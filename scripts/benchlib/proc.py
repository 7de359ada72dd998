"""CPU time and peak memory of process trees, read from /proc (Linux)."""
import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    """(ppid, utime+stime+cutime+cstime in ticks) of a live process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is state (stat field 3): ppid is field 4, utime..cstime are fields 14..17.
    return int(fields[1]), sum(int(x) for x in fields[11:15])


def _parents():
    """pid -> ppid for every live process."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                out[int(name)] = st[0]
    return out


def tree(roots):
    """The roots that are alive and all their live descendants."""
    parents = _parents()
    members = {pid for pid in roots if pid in parents}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in members and pid not in members:
                members.add(pid)
                grew = True
    return members


def cpu_ms(roots):
    """User+system milliseconds of the trees under `roots`: each live process's own time plus
    its reaped children's (cutime/cstime), so processes that exited during a run still count."""
    total = 0
    for pid in tree(roots):
        st = _stat(pid)
        if st is not None:
            total += st[1]
    return total * 1000.0 / CLOCK_TICKS


def peak_rss_kb(roots):
    """Sum of VmHWM (peak resident set) over the live processes of the trees."""
    total = 0
    for pid in tree(roots):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def alive(pid):
    return _stat(pid) is not None


def context_switches(roots):
    """Voluntary plus involuntary context switches of every thread of the live processes
    of the trees (threads and processes that exited are not counted)."""
    total = 0
    for pid in tree(roots):
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tasks:
            try:
                with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                            total += int(line.split()[1])
            except OSError:
                pass
    return total
