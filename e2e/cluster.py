"""A real control plane on 127.0.0.1: etcd, kube-apiserver (RBAC), kube-controller-manager, the Argo
Workflows controller, the External Secrets Operator controller, SeaweedFS S3. Every process is started
in its own process group and killed on exit; every file lives in one temp dir that is removed."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ENV = os.environ


def tool(name):
    path = ENV.get(name)
    if not path or not os.path.exists(path):
        raise SystemExit(f"e2e: error: {name} is not set or missing ({path!r}); run scripts/e2e")
    return path


KUBECTL = tool("E2E_KUBECTL")

_procs = []
_tmpdirs = []
_used_ports = set()


def cleanup():
    for p in reversed(_procs):
        stop(p)
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


def stop(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(10)
    if p in _procs:
        _procs.remove(p)


def _on_signal(signum, _frame):
    cleanup()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


def tmpdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


def free_port():
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        # the +10000 gRPC ports SeaweedFS derives must be free too
        if port not in _used_ports and port + 10000 < 65536 and _port_free(port + 10000):
            _used_ports.update({port, port + 10000})
            return port


def _port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def spawn(name, argv, logdir, env=None):
    log = open(os.path.join(logdir, name + ".log"), "ab")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, env=env or dict(ENV), cwd=logdir)
    p.e2e_name = name
    p.e2e_log = os.path.join(logdir, name + ".log")
    _procs.append(p)
    return p


def tail(path, n=15):
    try:
        with open(path, "rb") as f:
            return b"".join(f.readlines()[-n:]).decode(errors="replace")
    except OSError:
        return ""


def wait_for(what, pred, timeout, proc=None, interval=0.5):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: {proc.e2e_name} exited ({proc.returncode}):\n{tail(proc.e2e_log)}")
        try:
            r = pred()
            if r:
                return r
        except AssertionError:
            raise  # a definite answer (say, the workflow errored): no point waiting
        except Exception as e:  # noqa: BLE001 - keep polling, report the last reason
            last = e
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}" + (f" (last: {last})" if last else ""))


def run(argv, input=None, env=None, check=True, timeout=120):
    r = subprocess.run(argv, input=input, capture_output=True, text=True, env=env, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv[:6])}...` exited {r.returncode}: {r.stderr.strip()[-1500:]}")
    return r


def openssl(*args):
    run(["openssl", *args])


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager, admin through a client certificate."""

    def __init__(self, label):
        self.dir = tmpdir(f"artifact-repos-e2e-{label}-")
        self.logs = os.path.join(self.dir, "logs")
        os.makedirs(self.logs)
        self.procs = []

    def certs(self):
        d = os.path.join(self.dir, "pki")
        os.makedirs(d)
        p = lambda n: os.path.join(d, n)  # noqa: E731
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out", p("ca.crt"),
                "-subj", "/CN=artifact-repos-e2e-ca", "-days", "2")
        with open(p("san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n"
                    "extendedKeyUsage=serverAuth\n")
        with open(p("client.ext"), "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        for name, subj, ext in [("apiserver", "/CN=kube-apiserver", "san.ext"),
                                ("admin", "/O=system:masters/CN=e2e-admin", "client.ext")]:
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p(name + ".key"), "-out", p(name + ".csr"),
                    "-subj", subj)
            openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"),
                    "-CAcreateserial", "-out", p(name + ".crt"), "-days", "2", "-extfile", p(ext))
        openssl("genrsa", "-out", p("sa.key"), "2048")
        openssl("rsa", "-in", p("sa.key"), "-pubout", "-out", p("sa.pub"))
        return p

    def start(self, crd_dirs):
        p = self.certs()
        etcd_client, etcd_peer = free_port(), free_port()
        self.etcd = spawn("etcd", [tool("E2E_ETCD"), "--name", "e2e", "--data-dir", os.path.join(self.dir, "etcd"),
                                   "--listen-client-urls", f"http://127.0.0.1:{etcd_client}",
                                   "--advertise-client-urls", f"http://127.0.0.1:{etcd_client}",
                                   "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
                                   "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
                                   "--initial-cluster", f"e2e=http://127.0.0.1:{etcd_peer}",
                                   "--unsafe-no-fsync", "--log-level", "warn"], self.logs)
        self.port = free_port()
        self.apiserver = spawn("kube-apiserver", [
            tool("E2E_APISERVER"), "--etcd-servers", f"http://127.0.0.1:{etcd_client}",
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(self.port),
            "--tls-cert-file", p("apiserver.crt"), "--tls-private-key-file", p("apiserver.key"),
            "--client-ca-file", p("ca.crt"), "--authorization-mode", "RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", p("sa.pub"), "--service-account-signing-key-file", p("sa.key"),
            "--service-cluster-ip-range", "10.96.0.0/24", "--endpoint-reconciler-type", "none",
            "--cert-dir", os.path.join(self.dir, "apiserver-certs"), "--profiling=false"], self.logs)
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "e2e",
                       "clusters": [{"name": "e2e", "cluster": {"server": f"https://127.0.0.1:{self.port}",
                                                                 "certificate-authority": p("ca.crt")}}],
                       "users": [{"name": "admin", "user": {"client-certificate": p("admin.crt"),
                                                            "client-key": p("admin.key")}}],
                       "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "admin"}}]}, f)
        self.env = dict(ENV, KUBECONFIG=self.kubeconfig)
        wait_for("kube-apiserver /readyz", lambda: self.kubectl("get", "--raw", "/readyz", check=False).returncode == 0,
                 90, self.apiserver)
        self.kcm = spawn("kube-controller-manager", [
            tool("E2E_KCM"), "--kubeconfig", self.kubeconfig, "--leader-elect=false",
            "--bind-address", "127.0.0.1", "--secure-port", str(free_port()),
            "--controllers", "namespace-controller,garbage-collector-controller,serviceaccount-controller,"
                             "root-ca-certificate-publisher-controller",
            "--root-ca-file", p("ca.crt"), "--service-account-private-key-file", p("sa.key"),
            "--authentication-kubeconfig", self.kubeconfig, "--authorization-kubeconfig", self.kubeconfig],
            self.logs)
        for d in crd_dirs:
            self.kubectl("apply", "--server-side", "-f", d)

        def established():
            crds = self.get("crd")["items"]
            return all(any(c["type"] == "Established" and c["status"] == "True"
                           for c in (crd.get("status") or {}).get("conditions") or []) for crd in crds)
        wait_for("every CRD Established", established, 90, self.apiserver)
        wait_for("namespace default has its ServiceAccount",
                 lambda: self.kubectl("get", "sa", "default", "-n", "default", check=False).returncode == 0,
                 60, self.kcm)

    def kubectl(self, *args, input=None, check=True, timeout=120):
        return run([KUBECTL, *args], input=input, env=self.env, check=check, timeout=timeout)

    def get(self, *args, check=True):
        r = self.kubectl("get", *args, "-o", "json", check=check)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def spawn(self, name, argv, env=None):
        p = spawn(name, argv, self.logs, env=env or self.env)
        self.procs.append(p)
        return p

    def stop(self):
        for p in reversed(self.procs):
            stop(p)
        for p in (getattr(self, "kcm", None), getattr(self, "apiserver", None), getattr(self, "etcd", None)):
            if p is not None:
                stop(p)


class SeaweedS3:
    """SeaweedFS master+volume+filer+S3 with identities, so every request's signature is checked."""

    def __init__(self, identities):
        self.dir = tmpdir("artifact-repos-e2e-s3-")
        self.port = free_port()
        cfg = {"identities": [
            {"name": name, "credentials": [{"accessKey": ak, "secretKey": sk}], "actions": actions}
            for name, (ak, sk, actions) in identities.items()]}
        self.config = os.path.join(self.dir, "s3.json")
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        self.master_port = free_port()
        self.proc = spawn("seaweedfs", [
            tool("E2E_WEED"), "server", "-ip", "127.0.0.1", "-ip.bind", "127.0.0.1", "-dir", data,
            "-master.port", str(self.master_port), "-master.volumeSizeLimitMB", "64",
            "-volume.port", str(free_port()), "-volume.max", "100",
            "-filer", "-filer.port", str(free_port()), "-s3", "-s3.port", str(self.port),
            "-s3.config", self.config], self.dir)
        wait_for("SeaweedFS S3", lambda: _http_status(self.port) is not None, 90, self.proc)

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.port}"


def _http_status(port):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("GET", "/")
        return c.getresponse().status
    except OSError:
        return None
    finally:
        c.close()
