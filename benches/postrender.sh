#!/usr/bin/env bash
# Post-render speed next to `cat`, measured in the same run on the same files.
#
#   benches/postrender.sh [--runs N] [--binary PATH]
#
# Inputs: every stream in fixtures/upstream/streams concatenated
# (about 6 MB), that repeated to at least 50 MB, and both again with a values carrier (the seed
# values) appended. Each case is timed as `PROGRAM < FILE > /dev/null` and, as Helm feeds a
# post-renderer, `cat FILE | PROGRAM > /dev/null`: the median of N runs (default 21), reported as a
# ratio to `cat` doing the same in the same run. Peak memory comes from
# /usr/bin/time -v when it exists. Target: pass-through at most 3x `cat` on 50 MB.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=21
binary=
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --binary) binary=$2; shift 2 ;;
        *) echo "postrender.sh: unknown argument \`$1\`" >&2; exit 2 ;;
    esac
done
if [ -z "$binary" ]; then
    (cd "$root" && cargo build --release --quiet)
    binary="$root/target/release/artifact-repos"
fi
shared=$root/fixtures/upstream

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Concatenate; a stream that does not open with `---` (Helm 4's) gets one, so documents stay apart.
for f in "$shared"/streams/*.yaml; do
    head -c 3 "$f" | grep -q -- '---' || printf -- '---\n'
    cat "$f"
done > "$work/streams.yaml"
size=$(stat -c %s "$work/streams.yaml")
for _ in $(seq $(((50000000 + size - 1) / size))); do cat "$work/streams.yaml"; done > "$work/streams50.yaml"

# The carrier as Helm 3 hands it over, with the seed's values.
helm_values_json=$(python3 -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' \
    "$root/examples/seed-values.yaml" 2>/dev/null || true)
if [ -z "$helm_values_json" ]; then
    echo "postrender.sh: python3 with PyYAML is needed to build the carrier" >&2
    exit 2
fi
carrier=$(printf -- '---\n# Source: artifact-repos/templates/values-carrier.yaml\napiVersion: artifact-repos/v1\nkind: ValuesCarrier\nmetadata:\n  name: "rel-artifact-repos-values"\nrelease:\n  name: "rel"\n  namespace: "argo"\nvalues: %s\n' "$helm_values_json")
for n in streams streams50; do
    { cat "$work/$n.yaml"; printf '%s\n' "$carrier"; } > "$work/$n-carrier.yaml"
done

median_ns() { # command... ; prints the median wall time of $runs runs in nanoseconds
    local times=() start end
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        "$@"
        end=$(date +%s%N)
        times+=($((end - start)))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}
run_cat() { cat < "$1" > /dev/null; }
run_post() { "$binary" post-render < "$1" > /dev/null 2>&1; }
# Helm writes into a pipe: the same through `cat FILE |`.
pipe_cat() { cat "$1" | cat > /dev/null; }
pipe_post() { cat "$1" | "$binary" post-render > /dev/null 2>&1; }
peak_kb() { # file
    if /usr/bin/time -v true 2>/dev/null; then
        /usr/bin/time -v "$binary" post-render < "$1" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'
    else
        echo "?"
    fi
}

printf '%-18s %6s | %-28s | %-28s | %s\n' "" "" "from a file (< FILE)" "from a pipe (cat FILE |)" ""
printf '%-18s %6s | %8s %8s %8s | %8s %8s %8s | %s\n' input MB "cat ms" "ours ms" ratio "cat ms" "ours ms" ratio "peak RSS MB"
for n in streams streams-carrier streams50 streams50-carrier; do
    f="$work/$n.yaml"
    "$binary" post-render < "$f" > /dev/null 2>&1 # warm the page cache and check it succeeds
    c=$(median_ns run_cat "$f")
    p=$(median_ns run_post "$f")
    pc=$(median_ns pipe_cat "$f")
    pp=$(median_ns pipe_post "$f")
    kb=$(peak_kb "$f")
    size=$(stat -c %s "$f")
    awk -v n="$n" -v s="$size" -v c="$c" -v p="$p" -v pc="$pc" -v pp="$pp" -v kb="$kb" 'BEGIN {
        printf "%-18s %6.1f | %8.1f %8.1f %7.2fx | %8.1f %8.1f %7.2fx | %s\n", n, s / 1e6,
            c / 1e6, p / 1e6, p / c, pc / 1e6, pp / 1e6, pp / pc,
            (kb == "?" ? "?" : sprintf("%.1f", kb / 1024))
    }'
done
