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
# The node (issue 19): when scripts/e2e runs a real node, the network namespace holds NODE_IP on `lo`;
# the API server and the S3 server listen there too, so pods (behind the CNI bridge) reach them.
NODE = ENV.get("E2E_NODE") == "1"
NODE_IP = ENV.get("E2E_NODE_IP", "10.200.0.1")
LISTEN_IP = NODE_IP if NODE else "127.0.0.1"
SERVICE_CIDR, POD_CIDR = "10.96.0.0/24", "10.244.0.0/24"

_procs = []
_tmpdirs = []
_used_ports = set()


_nodes = []


def cleanup():
    for n in reversed(_nodes):
        n.stop()
    for p in reversed(_procs):
        stop(p)
    for d in _tmpdirs:
        _umount_under(d)
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
        self.node = None

    def certs(self):
        d = os.path.join(self.dir, "pki")
        os.makedirs(d)
        p = lambda n: os.path.join(d, n)  # noqa: E731
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out", p("ca.crt"),
                "-subj", "/CN=artifact-repos-e2e-ca", "-days", "2")
        with open(p("san.ext"), "w") as f:
            f.write(f"subjectAltName=IP:127.0.0.1,IP:{NODE_IP},IP:10.96.0.1,DNS:localhost,"
                    "DNS:kubernetes.default,DNS:kubernetes.default.svc\n"
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
            "--bind-address", LISTEN_IP if not NODE else "0.0.0.0", "--advertise-address", LISTEN_IP,
            "--secure-port", str(self.port),
            "--tls-cert-file", p("apiserver.crt"), "--tls-private-key-file", p("apiserver.key"),
            "--client-ca-file", p("ca.crt"), "--authorization-mode", "RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", p("sa.pub"), "--service-account-signing-key-file", p("sa.key"),
            "--service-cluster-ip-range", SERVICE_CIDR, "--endpoint-reconciler-type", "lease" if NODE else "none",
            "--cert-dir", os.path.join(self.dir, "apiserver-certs"), "--profiling=false",
            *(["--kubelet-preferred-address-types", "InternalIP"] if NODE else [])], self.logs)
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
                             "root-ca-certificate-publisher-controller"
                             # the node's not-ready taint is lifted by the node lifecycle controller
                             + (",node-lifecycle-controller" if NODE else ""),
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
        if getattr(self, "node", None) is not None:
            self.node.stop()
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
            tool("E2E_WEED"), "server", "-ip", LISTEN_IP, "-ip.bind", "0.0.0.0" if NODE else "127.0.0.1", "-dir", data,
            "-master.port", str(self.master_port), "-master.volumeSizeLimitMB", "64",
            "-volume.port", str(free_port()), "-volume.max", "100",
            "-filer", "-filer.port", str(free_port()), "-s3", "-s3.port", str(self.port),
            "-s3.config", self.config], self.dir)
        wait_for("SeaweedFS S3", lambda: _http_status(self.port) is not None, 90, self.proc)

    @property
    def endpoint(self):
        return f"{LISTEN_IP}:{self.port}"


def _http_status(port, path="/"):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("GET", path)
        return c.getresponse().status
    except OSError:
        return None
    finally:
        c.close()


# ---- the node (issue 19) -----------------------------------------------------------------------------

class Registry:
    """Debian's docker-registry (the CNCF distribution registry) on loopback, holding the images
    scripts/e2e built (e2e/images.py); containerd's mirror for docker.io, quay.io and registry.k8s.io."""

    def __init__(self):
        import images
        self.dir = tmpdir("artifact-repos-e2e-registry-")
        self.port = free_port()
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            json.dump({"version": 0.1, "log": {"level": "warn"},
                       "storage": {"filesystem": {"rootdirectory": os.path.join(self.dir, "data")}},
                       "http": {"addr": f"127.0.0.1:{self.port}"}}, f)
        self.proc = spawn("docker-registry", [tool("E2E_REGISTRY"), "serve", cfg], self.dir)
        wait_for("docker-registry /v2/", lambda: _http_status(self.port, "/v2/") == 200, 30, self.proc)
        cache = tool("E2E_IMAGES")
        self.images = {}
        for d in sorted(os.listdir(cache)):
            name, digest = images.push_dir(os.path.join(cache, d), self.endpoint)
            self.images[name] = digest

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.port}"


class Node:
    """One real node for a control plane: containerd (CRI, runc, CNI bridge + host-local), the kubelet
    registered with the API server, kube-proxy (iptables) and kube-scheduler, all inside the e2e
    network namespace. Pod addresses come from POD_CIDR on the bridge; nothing routes out."""

    def __init__(self, cp, registry, name):
        self.cp, self.registry, self.name = cp, registry, name
        self.dir = os.path.join(cp.dir, "node")
        os.makedirs(self.dir)
        self.procs = []
        self.stopped = False
        _nodes.append(self)

    def _spawn(self, name, argv):
        p = spawn(name, argv, self.cp.logs, env=self.cp.env)
        self.procs.append(p)
        return p

    def start(self):
        d = lambda *a: os.path.join(self.dir, *a)  # noqa: E731
        for sub in ("cni/net.d", "cni/ipam", "containerd", "kubelet", "opt"):
            os.makedirs(d(sub), exist_ok=True)
        with open(d("cni/net.d/10-e2e.conflist"), "w") as f:
            json.dump({"cniVersion": "0.4.0", "name": "e2e", "plugins": [
                {"type": "bridge", "bridge": "cni-e2e", "isGateway": True, "ipMasq": False, "hairpinMode": True,
                 "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_CIDR}]],
                          "routes": [{"dst": "0.0.0.0/0"}], "dataDir": d("cni/ipam")}},
                {"type": "portmap", "capabilities": {"portMappings": True}}]}, f)
        reg = f"http://{self.registry.endpoint}"
        mirrors = "".join(f'[plugins."io.containerd.grpc.v1.cri".registry.mirrors."{h}"]\n  endpoint = ["{reg}"]\n'
                          for h in ("docker.io", "quay.io", "registry.k8s.io"))
        self.sock = d("containerd", "containerd.sock")
        with open(d("containerd.toml"), "w") as f:
            f.write(f'''version = 2
root = "{d("containerd", "root")}"
state = "{d("containerd", "state")}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{self.sock}"
[ttrpc]
  address = "{self.sock}.ttrpc"
[debug]
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d("opt")}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  restrict_oom_score_adj = true
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  BinaryName = "{tool("E2E_RUNC")}"
  SystemdCgroup = false
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "{tool("E2E_CNI_BIN")}"
  conf_dir = "{d("cni/net.d")}"
[plugins."io.containerd.grpc.v1.cri".registry]
{mirrors}''')
        self.containerd = self._spawn("containerd", [tool("E2E_CONTAINERD"), "--config", d("containerd.toml")])
        wait_for("containerd socket", lambda: os.path.exists(self.sock), 30, self.containerd)
        # kubelet: the cgroup root is this run's own (created in every v1 hierarchy), removed on stop
        self.cgroup = f"/{os.path.basename(self.cp.dir)}-{self.name}"
        for h in _cgroup_hierarchies():
            os.makedirs(h + self.cgroup, exist_ok=True)
        port, healthz = free_port(), free_port()
        with open(d("kubelet.yaml"), "w") as f:
            json.dump({
                "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
                "failCgroupV1": False, "cgroupDriver": "cgroupfs", "cgroupRoot": self.cgroup, "failSwapOn": False,
                "containerRuntimeEndpoint": "unix://" + self.sock,
                "address": NODE_IP, "port": port, "readOnlyPort": 0,
                "healthzBindAddress": "127.0.0.1", "healthzPort": healthz,
                "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
                "authorization": {"mode": "AlwaysAllow"},
                "resolvConf": "", "clusterDomain": "cluster.local",
                "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                                 "nodefs.inodesFree": "1%"},
                "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
                "serializeImagePulls": False, "registerNode": True,
                "localStorageCapacityIsolation": False,
                "syncFrequency": "5s", "fileCheckFrequency": "5s", "nodeStatusUpdateFrequency": "5s",
            }, f)
        self.kubelet = self._spawn("kubelet", [
            tool("E2E_KUBELET"), "--config", d("kubelet.yaml"), "--kubeconfig", self.cp.kubeconfig,
            "--root-dir", d("kubelet"), "--hostname-override", self.name, "--node-ip", NODE_IP, "--v", "1"])
        self.scheduler = self._spawn("kube-scheduler", [
            tool("E2E_SCHEDULER"), "--kubeconfig", self.cp.kubeconfig, "--leader-elect=false",
            "--bind-address", "127.0.0.1", "--secure-port", str(free_port()),
            "--authentication-kubeconfig", self.cp.kubeconfig, "--authorization-kubeconfig", self.cp.kubeconfig])
        with open(d("kube-proxy.yaml"), "w") as f:
            json.dump({"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
                       "clientConnection": {"kubeconfig": self.cp.kubeconfig}, "mode": "iptables",
                       "clusterCIDR": POD_CIDR, "hostnameOverride": self.name, "bindAddress": NODE_IP,
                       "healthzBindAddress": f"127.0.0.1:{free_port()}",
                       "metricsBindAddress": f"127.0.0.1:{free_port()}",
                       "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s",
                                     "tcpCloseWaitTimeout": "0s"}}, f)
        self.proxy = self._spawn("kube-proxy", [tool("E2E_KUBE_PROXY"), "--config", d("kube-proxy.yaml")])

        def ready():
            n = self.cp.get("node", self.name, check=False)
            return n and any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
        wait_for(f"node {self.name} Ready", ready, 120, self.kubelet)

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        for p in (getattr(self, "proxy", None), getattr(self, "scheduler", None), getattr(self, "kubelet", None)):
            if p is not None:
                stop(p)
        # what the kubelet started: every process in this node's cgroups, then containerd and its shims
        cg = getattr(self, "cgroup", None)
        if cg:
            for _ in range(3):
                pids = set()
                for h in _cgroup_hierarchies():
                    for root, _dirs, files in os.walk(h + cg):
                        if "cgroup.procs" in files:
                            try:
                                pids.update(int(x) for x in open(os.path.join(root, "cgroup.procs")).read().split())
                            except OSError:
                                pass
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                if not pids:
                    break
                time.sleep(0.5)
        for pid in _shims(getattr(self, "sock", None)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if getattr(self, "containerd", None) is not None:
            stop(self.containerd)
        _umount_under(self.dir)
        if cg:
            for h in _cgroup_hierarchies():
                for root, _dirs, _files in sorted(os.walk(h + cg), key=lambda w: -len(w[0])):
                    try:
                        os.rmdir(root)
                    except OSError:
                        pass


def _cgroup_hierarchies():
    """The cgroup hierarchies (every mount of type cgroup, and cgroup2 mounted beside them)."""
    out = []
    for line in open("/proc/self/mounts"):
        f = line.split()
        if f[2] in ("cgroup", "cgroup2"):
            out.append(f[1])
    return out


def _shims(sock):
    """The containerd shims of this node's containerd (they name its socket on their command line)."""
    if not sock:
        return []
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if sock.encode() in open(f"/proc/{pid}/cmdline", "rb").read():
                    out.append(int(pid))
            except OSError:
                pass
    return out


def _umount_under(path):
    mounts = [line.split()[1] for line in open("/proc/self/mounts")]
    for m in sorted((m for m in mounts if m.startswith(path.rstrip("/") + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)


class OpenBao:
    """OpenBao's dev server (`bao server -dev`: the Vault API, in memory, KV v2 mounted at `secret/`),
    what ESO's `vault` provider reads (token auth)."""

    TOKEN = "e2e-root-token"

    def __init__(self):
        self.dir = tmpdir("artifact-repos-e2e-bao-")
        self.port = free_port()
        self.env = dict(ENV, VAULT_ADDR=self.addr, VAULT_TOKEN=self.TOKEN, BAO_ADDR=self.addr, BAO_TOKEN=self.TOKEN,
                        HOME=self.dir)
        self.proc = spawn("openbao", [tool("E2E_BAO"), "server", "-dev", f"-dev-listen-address=127.0.0.1:{self.port}",
                                      f"-dev-root-token-id={self.TOKEN}", "-dev-no-store-token"], self.dir, env=self.env)
        wait_for("OpenBao unsealed", lambda: run([tool("E2E_BAO"), "status"], env=self.env, check=False).returncode == 0,
                 60, self.proc)

    @property
    def addr(self):
        return f"http://127.0.0.1:{self.port}"

    def put(self, path, **fields):
        run([tool("E2E_BAO"), "kv", "put", "-mount=secret", path, *[f"{k}={v}" for k, v in fields.items()]], env=self.env)

    def get(self, path):
        return json.loads(run([tool("E2E_BAO"), "kv", "get", "-format=json", "-mount=secret", path], env=self.env).stdout)
