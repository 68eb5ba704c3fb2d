"""Container images without a daemon and without the internet: each image is one reproducible layer
(a tar with sorted entries, uid/gid 0, mtime 0, gzip without a timestamp) plus an image config, written
as blobs into a cache directory, then pushed to the local registry (the CNCF distribution registry,
Debian's docker-registry) with its HTTP API. Same inputs, same digests.

  images.py build CACHE_DIR NAME=FILE...    build the images scripts/e2e needs (see IMAGES)
"""

import gzip
import hashlib
import http.client
import io
import json
import os
import sys
import tarfile

MT_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _tar(entries):
    """entries: list of (path, kind, data_or_target, mode); kind in file|dir|symlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, kind, data, mode in sorted(entries, key=lambda e: e[0]):
            ti = tarfile.TarInfo(path)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname, ti.mode = 0, 0, 0, "", "", mode
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            elif kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, data
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def _base_entries():
    return [("etc", "dir", None, 0o755), ("tmp", "dir", None, 0o1777), ("bin", "dir", None, 0o755),
            ("etc/passwd", "file", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n", 0o644),
            ("etc/group", "file", b"root:x:0:\nnobody:x:65534:\n", 0o644),
            ("etc/nsswitch.conf", "file", b"hosts: files dns\n", 0o644), ("root", "dir", None, 0o700)]


def image(entries, config):
    """Returns (manifest bytes, {digest: blob})."""
    raw = _tar(entries)
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=6) as g:
        g.write(raw)
    layer = gz.getvalue()
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                      "rootfs": {"type": "layers", "diff_ids": [_sha(raw)]},
                      "history": [{"created_by": "artifact-repos e2e/images.py"}]}, sort_keys=True).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                           "config": {"mediaType": MT_CONFIG, "size": len(cfg), "digest": _sha(cfg)},
                           "layers": [{"mediaType": MT_LAYER, "size": len(layer), "digest": _sha(layer)}]},
                          sort_keys=True).encode()
    return manifest, {_sha(cfg): cfg, _sha(layer): layer}


def busybox_image(busybox):
    """The `alpine` stand-in: Debian's busybox-static and its applets as symlinks (busybox, not Alpine)."""
    import subprocess
    data = open(busybox, "rb").read()
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    entries = _base_entries() + [("bin/busybox", "file", data, 0o755)]
    entries += [(f"bin/{a}", "symlink", "busybox", 0o777) for a in applets if a != "busybox"]
    return image(entries, {"Env": [PATH_ENV], "Cmd": ["/bin/sh"]})


NEXTFLOW_STANDIN = b"""#!/bin/sh
# A stand-in for `nextflow` (e2e/images.py): the generated WorkflowTemplates run
# `nextflow run <repo-url> -r <revision> -with-report FILE -with-trace FILE`; there is neither Nextflow nor
# the internet here, so this writes the two files the template collects, naming what it was asked to run.
set -eu
[ "${1:-}" = run ] || { echo "nextflow stand-in: only 'run' is supported" >&2; exit 2; }
repo="$2"; shift 2
rev="" report="" trace=""
while [ $# -gt 0 ]; do
  case "$1" in
    -r) rev="$2"; shift 2 ;;
    -with-report) report="$2"; shift 2 ;;
    -with-trace) trace="$2"; shift 2 ;;
    *) shift ;;
  esac
done
for f in "$report" "$trace"; do
  [ -n "$f" ] || continue
  mkdir -p "$(dirname "$f")"
  echo "nextflow stand-in (busybox): run $repo revision $rev" >"$f"
done
echo "nextflow stand-in: run $repo -r $rev"
"""


def nextflow_standin_image(busybox):
    """`nextflow/nextflow:<tag>`, a stand-in: the busybox image plus a `nextflow` shell script."""
    import subprocess
    data = open(busybox, "rb").read()
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    entries = _base_entries() + [("bin/busybox", "file", data, 0o755), ("usr", "dir", None, 0o755),
                                 ("usr/local", "dir", None, 0o755), ("usr/local/bin", "dir", None, 0o755),
                                 ("usr/local/bin/nextflow", "file", NEXTFLOW_STANDIN, 0o755)]
    entries += [(f"bin/{a}", "symlink", "busybox", 0o777) for a in applets if a != "busybox"]
    return image(entries, {"Env": [PATH_ENV], "Cmd": ["/bin/sh"]})


def single_binary_image(binary, path, entrypoint):
    entries = _base_entries() + [(path, "file", open(binary, "rb").read(), 0o755)]
    return image(entries, {"Env": [PATH_ENV], "Entrypoint": entrypoint})


def save(cache, name, built):
    """Writes the image into cache/<name>/ (manifest.json + blobs/); returns the manifest digest."""
    manifest, blobs = built
    d = os.path.join(cache, name.replace("/", "_").replace(":", "_"))
    os.makedirs(os.path.join(d, "blobs"), exist_ok=True)
    for dg, b in blobs.items():
        open(os.path.join(d, "blobs", dg.split(":")[1]), "wb").write(b)
    open(os.path.join(d, "manifest.json"), "wb").write(manifest)
    open(os.path.join(d, "name"), "w").write(name + "\n")
    return _sha(manifest)


def push_dir(d, registry):
    """Pushes one cached image to registry (host:port, plain HTTP). Returns (repository:tag, digest)."""
    name = open(os.path.join(d, "name")).read().strip()
    repo, tag = name.rsplit(":", 1)
    host_part = repo.split("/", 1)[0]
    if "." in host_part or ":" in host_part:  # drop the registry host; docker.io's single names are library/
        repo = repo.split("/", 1)[1]
    if host_part in ("docker.io",) or "." not in host_part:
        if "/" not in repo:
            repo = "library/" + repo
    manifest = open(os.path.join(d, "manifest.json"), "rb").read()
    host, port = registry.split(":")
    for fn in sorted(os.listdir(os.path.join(d, "blobs"))):
        blob = open(os.path.join(d, "blobs", fn), "rb").read()
        dg = "sha256:" + fn
        c = http.client.HTTPConnection(host, int(port), timeout=60)
        c.request("HEAD", f"/v2/{repo}/blobs/{dg}")
        r = c.getresponse()
        r.read()
        if r.status == 200:
            continue
        c.request("POST", f"/v2/{repo}/blobs/uploads/")
        r = c.getresponse()
        r.read()
        if r.status != 202:
            raise RuntimeError(f"registry: starting an upload to {repo}: HTTP {r.status}")
        loc = r.getheader("Location")
        loc = loc.split(registry, 1)[-1] if "://" in loc else loc
        c.request("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + dg, body=blob,
                  headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(blob))})
        r = c.getresponse()
        body = r.read()
        if r.status != 201:
            raise RuntimeError(f"registry: uploading {dg} to {repo}: HTTP {r.status} {body[:300]!r}")
        c.close()
    c = http.client.HTTPConnection(host, int(port), timeout=60)
    c.request("PUT", f"/v2/{repo}/manifests/{tag}", body=manifest, headers={"Content-Type": MT_MANIFEST})
    r = c.getresponse()
    body = r.read()
    if r.status != 201:
        raise RuntimeError(f"registry: putting the manifest of {repo}:{tag}: HTTP {r.status} {body[:300]!r}")
    return f"{repo}:{tag}", _sha(manifest)


def build(cache, specs):
    """specs: NAME=KIND:FILE; KIND busybox or nextflow-standin (FILE: the busybox binary), argoexec, pause."""
    os.makedirs(cache, exist_ok=True)
    for spec in specs:
        name, rest = spec.split("=", 1)
        kind, path = rest.split(":", 1)
        if kind == "busybox":
            built = busybox_image(path)
        elif kind == "nextflow-standin":
            built = nextflow_standin_image(path)
        elif kind == "argoexec":
            built = single_binary_image(path, "bin/argoexec", ["argoexec"])
        elif kind == "pause":
            built = single_binary_image(path, "pause", ["/pause"])
        else:
            raise SystemExit(f"images.py: unknown kind {kind}")
        print(f"e2e-build: image {name} {save(cache, name, built)}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3:])
    else:
        raise SystemExit(__doc__)
