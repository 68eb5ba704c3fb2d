"""Writes the inputs of the bounds in docs/hardening.md into DIR (default /tmp/hb)."""
import json
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/hb"
os.makedirs(out, exist_ok=True)


def regs(n, tenants):
    return [
        {
            "name": f"repo-{i:06}",
            "repoUrl": f"https://git.example.com/t{i % tenants}/repo-{i}.git",
            "tenant": f"tenant-{i % tenants:04}",
            "artifactBucket": {
                "hostname": "s3.us-west-2.amazonaws.com",
                "bucket": f"bucket-{i:06}",
                "region": "us-west-2",
                "keyPrefix": "workflows/",
                "externalSecretPath": f"tenants/{i % tenants}/repo-{i}/s3",
            },
        }
        for i in range(n)
    ]


def values(n, tenants):
    return {
        "artifactRepos": {"layout": "tenant"},
        "s3": {"enabled": True, "bucket": "platform-default", "externalSecretPath": "platform/s3"},
        "repoRegistrations": regs(n, tenants),
    }


def carrier(v):
    return (
        "---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\n"
        "kind: ValuesCarrier\nmetadata:\n  name: \"rel-artifact-repos-values\"\nrelease:\n"
        "  name: \"rel\"\n  namespace: \"argo\"\nvalues: " + json.dumps(v) + "\n"
    )


def write(name, text):
    with open(os.path.join(out, name), "w") as f:
        f.write(text)


v = values(10000, 1000)
foreign = "".join(
    f"---\n# Source: other/templates/cm{i}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
    f"  name: other-{i}\n  namespace: tenant-{i % 1000:04}\ndata:\n  k: v\n"
    for i in range(10000)
)
write("collide.yaml", foreign + carrier(v))
write("carrier10k.yaml", carrier(v))
v = values(100000, 10000)
write("carrier100k.yaml", carrier(v))
write("values100k.yaml", json.dumps(v) + "\n")
big = "x" * (5 * 1024 * 1024)
write(
    "alias-bytes.yaml",
    "ignored:\n  a: &s \"" + big + "\"\n  b: [" + ", ".join(["*s"] * 2000) + "]\n"
    "s3: {enabled: true, bucket: b, externalSecretPath: p/s3}\n",
)
