"""Shared fixtures for ctdp's integration tests.

The tests run against one build tree, named by $CTDP_BUILDDIR (default
_build/default under the checkout): `./quickstart test` runs the suite once
per build flavour.  When $CTDP_SANITIZER_LOG_DIR is set (the sanitizer
flavour), every test also fails if a sanitizer wrote a report there.
"""
import os
import pathlib
import signal
import subprocess
import time

import pytest

# The helper modules' asserts explain their failures as the tests' do; this
# must run before any test module imports them.
pytest.register_assert_rewrite("dp_helpers", "netns", "kernel_ct")

TOP = pathlib.Path(__file__).resolve().parent.parent


def build_dir():
    return pathlib.Path(os.environ.get("CTDP_BUILDDIR", TOP / "_build" / "default"))


def program(name):
    """Path of one of ctdp's programs in the build tree under test."""
    path = build_dir() / "utilities" / name
    if not os.access(path, os.X_OK):
        pytest.exit(f"{path} is missing: build first (build-aux/build.sh)", 2)
    return str(path)


def wait_until(predicate, timeout=10.0, what="condition"):
    """Polls 'predicate' until it is true; fails the test after 'timeout' s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def pid_alive(pid):
    """True while 'pid' runs.  A zombie counts as ended: a detached daemon's
    parent is PID 1, which may reap it only seconds later."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def run(args, env=None, timeout=30, check=False, cwd=None):
    """Runs a command (in 'cwd', if given); returns the CompletedProcess
    with text output."""
    return subprocess.run(args, capture_output=True, text=True, env=env,
                          timeout=timeout, check=check, cwd=cwd)


class Daemon:
    """A ctdpd running detached in a private directory."""

    def __init__(self, workdir):
        self.dir = pathlib.Path(workdir)
        self.socket = self.dir / "ctdpd.ctl"
        self.pidfile = self.dir / "ctdpd.pid"
        self.logfile = self.dir / "ctdpd.log"
        self.pid = None

    def start(self, *extra):
        proc = run([program("ctdpd"), "--detach", "--no-chdir",
                    f"--pidfile={self.pidfile}", f"--unixctl={self.socket}",
                    f"--log-file={self.logfile}", *extra])
        assert proc.returncode == 0, proc.stderr
        # --detach returns once the daemon serves its socket.
        assert self.socket.exists()
        self.pid = int(self.pidfile.read_text())
        return self

    def dpctl(self, *args, **kw):
        return run([program("ctdp-dpctl"), f"--unixctl={self.socket}", *args],
                   **kw)

    def appctl(self, *args):
        return run(["ovs-appctl", "-t", str(self.socket), *args])

    def wait_exit(self):
        wait_until(lambda: not pid_alive(self.pid), what="ctdpd to exit")

    def stop(self):
        """SIGTERM, then SIGKILL and a failure if the daemon has not gone
        after 5 s.  The pidfile names the daemon if start() did not get
        that far."""
        if self.pid is None and self.pidfile.exists():
            self.pid = int(self.pidfile.read_text())
        if not self.pid or not pid_alive(self.pid):
            return
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while pid_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if pid_alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
            pytest.fail("ctdpd did not exit on SIGTERM; killed")


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path).start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def router():
    """The kernel's side of the comparisons (kernel_ct.KernelRouter), one
    per test module."""
    from kernel_ct import KernelRouter

    with KernelRouter() as r:
        yield r


@pytest.fixture(autouse=True)
def no_sanitizer_reports():
    """Fails the test if a sanitizer reported anything while it ran."""
    logdir = os.environ.get("CTDP_SANITIZER_LOG_DIR")
    before = set(os.listdir(logdir)) if logdir else set()
    yield
    if logdir:
        new = sorted(set(os.listdir(logdir)) - before)
        reports = "".join(pathlib.Path(logdir, n).read_text() for n in new)
        assert not new, f"sanitizer reports:\n{reports}"
