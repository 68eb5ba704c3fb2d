//! The "limit" of the render benchmark: how long the YAML library alone takes to emit the bytes
//! `render` writes. Reads a rendered stream, parses every document into a `serde_json::Value`
//! (untimed), checks that emitting them again gives back exactly the input, then times, in process,
//! serde_yaml emitting every document and the crate's own emitter (`yaml::emit`) doing the same.
//! Prints one JSON line. Usage: yaml-limit STREAM [RUNS]

use serde::Deserialize;
use std::time::Instant;

fn median_ms(runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    for _ in 0..runs {
        let start = Instant::now();
        bytes = std::hint::black_box(f());
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    (times[runs / 2], bytes)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: yaml-limit STREAM [RUNS]");
    let runs: usize = args
        .get(2)
        .map_or(5, |r| r.parse().expect("RUNS is a number"));
    let input = std::fs::read_to_string(path).expect("the stream is readable UTF-8");
    let docs: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&input)
        .map(|d| serde_json::Value::deserialize(d).expect("the stream is YAML"))
        .collect();

    let emit_serde_yaml = || {
        let mut out = String::with_capacity(input.len());
        for d in &docs {
            out.push_str("---\n");
            out.push_str(&serde_yaml::to_string(d).unwrap());
        }
        out
    };
    let same_bytes = emit_serde_yaml() == input;
    let (serde_yaml_ms, bytes) = median_ms(runs, || emit_serde_yaml().len());
    let (fast_ms, _) = median_ms(runs, || {
        let mut n = 0;
        for d in &docs {
            n += 4 + artifact_repos::yaml::emit::to_yaml(d).map_or(0, |s| s.len());
        }
        n
    });
    println!(
        "{{\"docs\": {}, \"bytes\": {bytes}, \"same_bytes\": {same_bytes}, \"serde_yaml_ms\": {serde_yaml_ms:.3}, \"fast_emitter_ms\": {fast_ms:.3}}}",
        docs.len()
    );
}
