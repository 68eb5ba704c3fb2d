#!/usr/bin/env python3
"""Writes a benchmark values file: N registrations spread over N/10 tenants (at least one).

Every registration but each tenth has its own bucket with credentials from Vault; the tenth ones use
the platform default repository. Layout `central` while the central ConfigMap stays under 1 MiB
(about 1,400 registrations), `tenant` beyond. Usage: gen_values.py N [central|tenant] > values.yaml
"""
import sys

n = int(sys.argv[1])
layout = sys.argv[2] if len(sys.argv) > 2 else ("central" if n <= 1000 else "tenant")
tenants = max(1, n // 10)
out = [
    "artifactRepos:",
    f"  layout: {layout}",
    "s3:",
    "  enabled: true",
    "  bucket: platform-default",
    "  endpoint: s3.amazonaws.com",
    "  region: us-east-1",
    "  externalSecretPath: argo/platform/s3/default",
    "repoRegistrations:",
]
for i in range(n):
    t = i % tenants
    out.append(f"  - name: repo-{i:05d}")
    out.append(f"    repoUrl: https://git.example.com/team-{t:04d}/repo-{i:05d}.git")
    out.append("    defaultBranch: main")
    out.append(f"    tenant: team-{t:04d}")
    if i % 10 != 9:
        out.append("    artifactBucket:")
        out.append("      hostname: s3.us-west-2.amazonaws.com")
        out.append(f"      bucket: artifacts-{i:05d}")
        out.append("      region: us-west-2")
        out.append("      keyPrefix: workflows/")
        out.append(f"      externalSecretPath: argo/team-{t:04d}/repo-{i:05d}/s3")
sys.stdout.write("\n".join(out) + "\n")
