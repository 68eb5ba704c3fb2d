//! Issue #11, class 9: `render` and Helm read the same values the same way. A seeded generator
//! writes values files and `--set` arguments full of what YAML 1.1 and Helm read in their own way
//! (`yes`/`on`/`n`, `0x1F`, `1_000`, `+12`, `.5`, `1e3`, `~`, merge keys single and listed,
//! anchors and aliases, a `null` in a second `-f`, `--set` typing: `TRUE`, `+1`, `010`, `1e3`,
//! `null`, `--set-string`), and each case runs through `artifact-repos render` and through real
//! `helm template` of the bundled chart with the post-renderer (Helm 3 every case, Helm 4 every
//! third). Both must give the same generated objects, or both refuse. Where Helm's reading is a
//! trap (a leading zero read as octal, a repeated key, a merge key after the keys it overrides)
//! `render` refuses by design, naming the trap; the generator knows when it wrote one.
//!
//! Cases: `PARITY_CASES` (default 40, about 60 Helm runs), seed `PARITY_SEED` (default fixed).

use crate::helm::{Helm, chart, helm};
use artifact_repos::yaml::{Node, parse_documents};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_artifact-repos");

/// xorshift64*: deterministic, no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// One generated case: files, `--set`/`--set-string` arguments, and the traps written (each a
/// piece of the message `render` must refuse with).
#[derive(Debug, Default)]
struct Case {
    files: Vec<String>,
    args: Vec<String>,
    traps: Vec<&'static str>,
}

const LEADING_ZERO: &str = "has a leading zero: Helm (YAML 1.1, go-yaml v2) reads it as";
const REPEATED: &str = "the key is repeated in this map";
const MERGE_AFTER: &str = "is written before the merge key (`<<`)";

/// The forms of each field: first those both read as valid, then those both refuse (a quoted
/// `'yes'` where a boolean belongs, an unquoted `no` where a string belongs), picked 1 time in 16.
const BOOLS: (&[&str], &[&str]) = (
    &[
        "yes", "no", "on", "off", "y", "n", "Y", "N", "true", "false", "True", "FALSE", "ON",
        "Off", "~", "NO", "Yes",
    ],
    &["'yes'", "0"],
);
const TENANTS: (&[&str], &[&str]) = (
    &[
        "team-a",
        "team-b",
        "\"no\"",
        "'0123'",
        "\"team-a\"",
        "'on'",
        "'1_0'",
    ],
    &["no", "0x1F", "y"],
);
const BRANCHES: (&[&str], &[&str]) = (
    &["main", "dev", "\"1e3\"", "release-1_000", "'0.5'", "'yes'"],
    &["1e3", ".5", "on"],
);
const INSTALLATION_IDS: (&[&str], &[&str]) = (
    &[
        "12", "0x1F", "1_000", "+12", "1e3", "1.0", "0o17", "0b11", "7", "5.", "0X_1F",
    ],
    &["'12'", "-1", "1.5", "0x0"],
);
const VERSIONS: (&[&str], &[&str]) = (&["\"3.7\"", "3.7", "3.6", "\"3.6\""], &["3.10", "4.0"]);
const LABEL_VALUES: (&[&str], &[&str]) = (
    &["x", "\"yes\"", "\"0123\"", "'on'", "~", "\"1_0\"", "null"],
    &["yes", "1_0", "0x10"],
);
const REGIONS: (&[&str], &[&str]) = (&["us-east-1", "~", "null", "eu-west-1", "Null", ""], &[]);

fn form(rng: &mut Rng, (good, bad): (&[&'static str], &[&'static str])) -> &'static str {
    if !bad.is_empty() && rng.chance(6) {
        rng.pick::<&str>(bad)
    } else {
        rng.pick::<&str>(good)
    }
}

fn generate(rng: &mut Rng) -> Case {
    let mut case = Case::default();
    let mut f = String::new();
    f.push_str("x-anchors:\n");
    f.push_str("  d1: &d1\n    bucket: shared-bkt\n    externalSecretPath: argo/shared\n");
    f.push_str(&format!("    region: {}\n", form(rng, REGIONS)));
    f.push_str(&format!(
        "  d2: &d2\n    insecure: {}\n    keyPrefix: wf/\n",
        form(rng, BOOLS)
    ));
    f.push_str(&format!("  t: &t {}\n", form(rng, TENANTS)));
    f.push_str("s3:\n");
    f.push_str(&format!(
        "  enabled: {}\n",
        rng.pick(&["true", "yes", "on", "Y", "True"])
    ));
    f.push_str("  bucket: default-bkt\n  externalSecretPath: argo/platform\n");
    f.push_str(&format!("  region: {}\n", form(rng, REGIONS)));
    if rng.chance(50) {
        f.push_str(&format!("  insecure: {}\n", form(rng, BOOLS)));
    }
    f.push_str("artifactRepos:\n");
    f.push_str(&format!("  argoVersion: {}\n", form(rng, VERSIONS)));
    if rng.chance(60) {
        f.push_str(&format!(
            "  commonLabels:\n    team: {}\n",
            form(rng, LABEL_VALUES)
        ));
    }
    f.push_str("repoRegistrations:\n");
    let n = 1 + rng.next() % 3;
    for i in 0..n {
        f.push_str(&format!(
            "- name: r{i}\n  repoUrl: https://github.com/o/r{i}.git\n"
        ));
        if rng.chance(30) {
            f.push_str("  tenant: *t\n");
        } else {
            f.push_str(&format!("  tenant: {}\n", form(rng, TENANTS)));
        }
        if rng.chance(40) {
            f.push_str(&format!("  defaultBranch: {}\n", form(rng, BRANCHES)));
        }
        let id = rng.chance(40);
        if id {
            f.push_str(&format!(
                "  installationId: {}\n",
                form(rng, INSTALLATION_IDS)
            ));
        }
        if rng.chance(3) {
            f.push_str("  installationId: 0123\n");
            case.traps.push(LEADING_ZERO);
            if id {
                case.traps.push(REPEATED);
            }
        } else if rng.chance(2) {
            f.push_str("  defaultBranch: 010\n");
            case.traps.push(LEADING_ZERO);
        }
        match rng.next() % 7 {
            0 => {}
            1 => f.push_str(&format!(
                "  artifactBucket:\n    bucket: b-r{i}\n    externalSecretPath: argo/apps/r{i}\n    insecure: {}\n",
                form(rng, BOOLS)
            )),
            2 => f.push_str(&format!(
                "  artifactBucket:\n    <<: *d1\n    bucket: b-r{i}\n"
            )),
            3 => f.push_str("  artifactBucket:\n    <<: [*d1, *d2]\n"),
            4 => f.push_str(&format!(
                "  artifactBucket: {{<<: [*d2, *d1], insecure: {}}}\n",
                form(rng, BOOLS)
            )),
            5 if rng.chance(25) => {
                f.push_str(&format!(
                    "  artifactBucket:\n    bucket: b-r{i}\n    <<: *d1\n"
                ));
                case.traps.push(MERGE_AFTER);
            }
            _ => {
                if rng.chance(25) {
                    f.push_str("  tenant: team-c\n");
                    case.traps.push(REPEATED);
                }
            }
        }
    }
    case.files.push(f);
    if rng.chance(60) {
        let mut g = String::new();
        g.push_str("s3:\n");
        g.push_str(&format!(
            "  region: {}\n",
            rng.pick(&["null", "~", "eu-west-2"])
        ));
        if rng.chance(40) {
            g.push_str("  insecure: null\n");
        }
        if rng.chance(50) {
            g.push_str("artifactRepos:\n  commonLabels:\n    team: null\n");
        }
        if rng.chance(10) {
            g.push_str("repoRegistrations: null\n");
        }
        case.files.push(g);
    }
    let sets: &[(&str, &str)] = &[
        ("--set", "s3.insecure=TRUE"),
        ("--set", "s3.insecure=yes"),
        ("--set", "s3.insecure=true"),
        ("--set", "repoRegistrations[0].defaultBranch=1e3"),
        ("--set", "s3.insecure=False"),
        ("--set", "repoRegistrations[0].installationId=+1"),
        ("--set", "repoRegistrations[0].installationId=010"),
        ("--set", "repoRegistrations[0].installationId=1e3"),
        ("--set", "repoRegistrations[0].installationId=7"),
        ("--set", "artifactRepos.commonLabels.team=null"),
        ("--set", "artifactRepos.commonLabels.owner=007"),
        ("--set", "artifactRepos.commonLabels.owner=NULL"),
        ("--set", "s3.region=null"),
        ("--set", "s3.region=eu-north-1,s3.keyPrefix=k/"),
        ("--set-string", "repoRegistrations[0].tenant=0123"),
        ("--set-string", "s3.insecure=true"),
    ];
    for _ in 0..rng.next() % 3 {
        let (flag, v) = rng.pick(sets);
        case.args.push(flag.to_string());
        case.args.push(v.to_string());
    }
    case
}

/// An outcome: the generated objects, or the refusal's message.
type Outcome = Result<Vec<Node>, String>;

fn objects(stdout: &[u8], managed_by: &str) -> Vec<Node> {
    let text = String::from_utf8_lossy(stdout).replace(
        &format!("app.kubernetes.io/managed-by: {managed_by}\n"),
        "app.kubernetes.io/managed-by: Helm\n",
    );
    let mut docs = parse_documents("output", text.as_bytes(), usize::MAX).unwrap();
    docs.sort_by_key(|d| serde_json::to_string(d).unwrap());
    docs
}

fn run_render(args: &[String]) -> Outcome {
    let out = Command::new(BIN)
        .args(["render", "--release-name", "rel"])
        .args(args)
        .env_remove("ARTIFACT_REPOS_LOG")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(objects(&out.stdout, "artifact-repos"))
    } else {
        assert_eq!(
            out.status.code(),
            Some(2),
            "render must exit 2 on bad values"
        );
        assert!(out.stdout.is_empty(), "render printed output and failed");
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn run_helm(h: &Helm, args: &[String]) -> Outcome {
    let chart = chart();
    let mut all: Vec<&str> = vec!["template", "rel", chart.to_str().unwrap(), "-n", "argo"];
    all.extend(args.iter().map(String::as_str));
    all.extend(h.post_renderer());
    if all.contains(&BIN) {
        all.extend(["--post-renderer-args", "post-render"]);
    }
    let out = h.run(&all);
    if out.status.success() {
        Ok(objects(&out.stdout, "Helm"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn write_case(dir: &Path, i: usize, case: &Case) -> Vec<String> {
    let mut args = Vec::new();
    for (j, text) in case.files.iter().enumerate() {
        let p: PathBuf = dir.join(format!("case{i}-{j}.yaml"));
        std::fs::write(&p, text).unwrap();
        args.push("-f".to_string());
        args.push(p.to_str().unwrap().to_string());
    }
    args.extend(case.args.iter().cloned());
    args
}

fn short(o: &Outcome) -> String {
    match o {
        Ok(docs) => format!("{} objects", docs.len()),
        Err(e) => format!("refused: {}", e.chars().take(600).collect::<String>()),
    }
}

#[test]
fn render_and_helm_read_values_the_same_way() {
    let cases: usize = std::env::var("PARITY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let seed: u64 = std::env::var("PARITY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x11_0009);
    let h3 = helm(3, "values-parity");
    let h4 = helm(4, "values-parity");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("values-parity");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(seed.wrapping_mul(2).wrapping_add(1));
    let (mut same_objects, mut both_refused, mut traps) = (0, 0, 0);
    let mut failures = Vec::new();
    for i in 0..cases {
        let case = generate(&mut rng);
        let args = write_case(&dir, i, &case);
        let render = run_render(&args);
        let describe = |what: &str, other: &Outcome| {
            format!(
                "case {i} (seed {seed}): {what}\n--- files\n{}\n--- args {:?}\n--- render: {}\n--- helm: {}",
                case.files.join("--- next -f\n"),
                case.args,
                short(&render),
                short(other)
            )
        };
        if !case.traps.is_empty() {
            traps += 1;
            match &render {
                Err(e) if case.traps.iter().all(|t| e.contains(t)) => {}
                _ => failures.push(describe(
                    "render must refuse the trap it was given",
                    &Err(format!("{:?}", case.traps)),
                )),
            }
            continue;
        }
        let mut helms = vec![(3, &h3)];
        if i % 3 == 0 {
            helms.push((4, &h4));
        }
        for (major, h) in helms {
            let helm = run_helm(h, &args);
            match (&render, &helm) {
                (Ok(a), Ok(b)) if a == b => same_objects += 1,
                (Err(e), Err(_)) => {
                    both_refused += 1;
                    if std::env::var_os("PARITY_DEBUG").is_some() {
                        eprintln!(
                            "both refused: {}",
                            e.lines()
                                .skip(1)
                                .map(|l| l
                                    .split(": ")
                                    .last()
                                    .unwrap_or("")
                                    .chars()
                                    .take(50)
                                    .collect::<String>())
                                .collect::<Vec<_>>()
                                .join(" / ")
                        );
                    }
                }
                _ => failures.push(describe(
                    &format!("render and Helm {major} disagree"),
                    &helm,
                )),
            }
        }
    }
    eprintln!(
        "values parity: {cases} cases, {same_objects} same objects, {both_refused} both refused, {traps} traps refused by render"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Not vacuous: a fair share of the cases renders objects through both.
    assert!(
        same_objects * 5 >= cases,
        "only {same_objects} of {cases} cases rendered objects"
    );
}
