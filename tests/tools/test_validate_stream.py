"""Tests of validate_stream.py itself: the good stream passes, and each rule fails on a stream broken on
purpose with a message that names the object and the field.

Each bad case starts from cases/good.yaml (what `render` is meant to print for the seed example), changes
one thing, and asserts on the report. Everything runs for real: kubernetes-validate, the upstream
schemas copied into fixtures/upstream/schemas. Run with `scripts/test`, or alone:
    .tools/venv/bin/python -m pytest -p no:cacheprovider tests/tools
"""

import copy
import json
import os
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import validate_stream  # noqa: E402

SCRIPT = os.path.join(HERE, "validate_stream.py")
GOOD = os.path.join(HERE, "cases", "good.yaml")
CENTRAL = "argo-workflows"
TENANT = "research-team"
REG = "genomics-pipeline"

UPSTREAM = os.path.join(HERE, "..", "..", "fixtures", "upstream")


# ------------------------------------------------------------------------------------------- helpers


def good_docs():
    with open(GOOD, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(docs, kind, namespace, name):
    for doc in docs:
        meta = doc["metadata"]
        if doc["kind"] == kind and meta.get("namespace") == namespace and meta["name"] == name:
            return doc
    raise AssertionError(f"no {kind} {namespace}/{name} in the stream")


def remove(docs, kind, namespace, name):
    doc = find(docs, kind, namespace, name)
    docs.remove(doc)
    return doc


def edit_value(docs, namespace, key, change):
    """Applies `change` to the parsed value of a data key of the repositories ConfigMap in `namespace`."""
    cm = find(docs, "ConfigMap", namespace, "artifact-repositories")
    value = yaml.safe_load(cm["data"][key])
    change(value)
    cm["data"][key] = yaml.safe_dump(value, sort_keys=False)


def to_text(docs):
    return yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True, width=1 << 20)


def check(docs_or_text, *argv):
    text = docs_or_text if isinstance(docs_or_text, str) else to_text(docs_or_text)
    args = validate_stream.parse_args(list(argv) + ["-"])
    return validate_stream.validate_text(text, args)


def assert_error(report, *fragments):
    """Some error contains every fragment; the report is not ok."""
    assert not report["ok"], "expected the stream to fail"
    for error in report["errors"]:
        if all(fragment in error for fragment in fragments):
            return error
    pytest.fail("no error contains all of %r; errors were:\n%s" % (fragments, "\n".join(report["errors"])))


def resolution(report, kind, namespace, name):
    for entry in report["resolutions"]:
        if (entry["kind"], entry["namespace"], entry["name"]) == (kind, namespace, name):
            return entry
    raise AssertionError(f"no resolution for {kind} {namespace}/{name}")


def run_cli(argv, stdin_text=None):
    return subprocess.run([sys.executable, SCRIPT] + argv, input=stdin_text, capture_output=True, text=True)


# ------------------------------------------------------------------------------------------ good ones


def test_good_stream_passes_and_resolves_to_the_registration_bucket():
    report = check(good_docs())
    assert report["ok"], report["errors"]
    assert report["errors"] == []
    assert report["counts"] == {
        "ConfigMap": 3, "ExternalSecret": 4, "Namespace": 2, "Role": 3, "RoleBinding": 4,
        "ServiceAccount": 2, "WorkflowTemplate": 2,
    }
    entry = resolution(report, "WorkflowTemplate", TENANT, REG)
    assert entry["source"] == "ref"
    assert entry["configMapNamespace"] == TENANT
    assert entry["key"] == "artifactRepositories.genomics-pipeline"
    assert entry["bucket"] == "genomics-artifacts"
    assert entry["endpoint"] == "s3.us-west-2.amazonaws.com"
    assert entry["keyFormat"] == "workflows/{{workflow.name}}/{{pod.name}}"
    assert [(s["name"], s["key"], s["producedBy"]) for s in entry["secrets"]] == [
        ("s3-credentials-genomics-pipeline", "AWS_ACCESS_KEY_ID",
         "ExternalSecret research-team/s3-credentials-genomics-pipeline"),
        ("s3-credentials-genomics-pipeline", "AWS_SECRET_ACCESS_KEY",
         "ExternalSecret research-team/s3-credentials-genomics-pipeline"),
    ]
    other = resolution(report, "WorkflowTemplate", "my-tenant-namespace", "my-project")
    assert other["bucket"] == "my-project-artifacts"


@pytest.mark.parametrize("versions", [["--argo-version", "4.1"], ["--argo-version", "3.7", "--argo-version", "4.1"]])
def test_good_stream_passes_for_argo_4(versions):
    report = check(good_docs(), *versions)
    assert report["ok"], report["errors"]


def test_cli_reads_stdin_prints_json_and_exits_0():
    with open(GOOD, encoding="utf-8") as f:
        proc = run_cli(["-"], f.read())
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert set(report) >= {"ok", "errors", "resolutions", "counts"}


def test_ref_falls_through_to_the_controller_namespace_when_the_tenant_configmap_is_absent():
    docs = good_docs()
    remove(docs, "ConfigMap", TENANT, "artifact-repositories")
    report = check(docs)
    assert report["ok"], report["errors"]
    entry = resolution(report, "WorkflowTemplate", TENANT, REG)
    assert entry["source"] == "ref-controller-namespace"
    assert entry["configMapNamespace"] == CENTRAL
    assert entry["bucket"] == "genomics-artifacts"


def test_ref_falls_through_when_the_tenant_configmap_lacks_the_key():
    docs = good_docs()
    del find(docs, "ConfigMap", TENANT, "artifact-repositories")["data"]["artifactRepositories.genomics-pipeline"]
    report = check(docs)
    assert report["ok"], report["errors"]
    assert resolution(report, "WorkflowTemplate", TENANT, REG)["configMapNamespace"] == CENTRAL


def test_without_ref_the_tenant_configmap_annotation_picks_the_key():
    docs = good_docs()
    del find(docs, "WorkflowTemplate", TENANT, REG)["spec"]["artifactRepositoryRef"]
    report = check(docs)
    assert report["ok"], report["errors"]
    entry = resolution(report, "WorkflowTemplate", TENANT, REG)
    assert (entry["source"], entry["configMapNamespace"], entry["key"], entry["bucket"]) == \
        ("default-annotation", TENANT, "default-v1", "default-bucket")


def test_without_ref_the_controller_namespace_configmap_is_not_a_default():
    docs = good_docs()
    del find(docs, "WorkflowTemplate", TENANT, REG)["spec"]["artifactRepositoryRef"]
    remove(docs, "ConfigMap", TENANT, "artifact-repositories")
    report = check(docs)
    entry = resolution(report, "WorkflowTemplate", TENANT, REG)
    assert entry["source"] == "controller-default"
    assert entry["configMapNamespace"] is None and entry["bucket"] is None


def test_workflow_using_a_template_inherits_its_ref():
    docs = good_docs()
    docs.append({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"generateName": "genomics-", "namespace": TENANT},
        "spec": {"workflowTemplateRef": {"name": REG}},
    })
    report = check(docs)
    assert report["ok"], report["errors"]
    entry = resolution(report, "Workflow", TENANT, "genomics-*")
    assert entry["bucket"] == "genomics-artifacts"


def test_secret_produced_by_a_plain_secret_counts():
    docs = good_docs()
    remove(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")
    docs.insert(2, {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s3-credentials-genomics-pipeline", "namespace": TENANT},
        "stringData": {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
    })
    report = check(docs)
    assert report["ok"], report["errors"]
    secrets = resolution(report, "WorkflowTemplate", TENANT, REG)["secrets"]
    assert {s["producedBy"] for s in secrets} == {"Secret research-team/s3-credentials-genomics-pipeline"}


def test_real_chart_streams_pass_through_without_usage_errors():
    path = os.path.join(UPSTREAM, "streams", "argo-workflows.helm4-input.yaml")
    proc = run_cli([path])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["counts"]["ClusterRole"] == 8


# ------------------------------------------------------------------------- d. repository ConfigMaps


def test_unknown_repository_key_pathstyle_is_refused():
    docs = good_docs()
    edit_value(docs, CENTRAL, "artifactRepositories.genomics-pipeline", lambda v: v["s3"].update(pathStyle=False))
    report = check(docs)
    assert_error(report, "ConfigMap argo-workflows/artifact-repositories",
                 "data.artifactRepositories.genomics-pipeline", "s3.pathStyle: unknown field `pathStyle`")


def test_unknown_key_inside_the_nested_index_is_refused():
    docs = good_docs()
    cm = find(docs, "ConfigMap", CENTRAL, "artifact-repositories")
    before = cm["data"]["artifactRepositories"]
    cm["data"]["artifactRepositories"] = before.replace(
        "my-project:\n  archiveLogs: true\n", "my-project:\n  archiveLogs: true\n  pathStyle: true\n")
    assert cm["data"]["artifactRepositories"] != before
    report = check(docs)
    assert_error(report, "data.artifactRepositories: my-project.pathStyle: unknown field `pathStyle`")


def test_repository_value_must_be_one_repository_not_a_map_of_them():
    docs = good_docs()
    cm = find(docs, "ConfigMap", TENANT, "artifact-repositories")
    cm["data"]["artifactRepositories.genomics-pipeline"] = yaml.safe_dump(
        {"genomics-pipeline": yaml.safe_load(cm["data"]["artifactRepositories.genomics-pipeline"])})
    report = check(docs)
    assert_error(report, "ConfigMap research-team/artifact-repositories",
                 "data.artifactRepositories.genomics-pipeline: genomics-pipeline: unknown field")


def test_addressing_style_needs_argo_4_1():
    docs = good_docs()
    edit_value(docs, TENANT, "artifactRepositories.genomics-pipeline",
               lambda v: v["s3"].update(addressingStyle="path"))
    assert_error(check(docs, "--argo-version", "3.7"), "s3.addressingStyle: unknown field `addressingStyle`")
    assert_error(check(docs, "--argo-version", "4.0"), "s3.addressingStyle", "before Argo 4.1")
    assert check(docs, "--argo-version", "4.1")["ok"]


def test_wrong_type_in_repository_is_refused():
    docs = good_docs()
    edit_value(docs, TENANT, "artifactRepositories.genomics-pipeline", lambda v: v["s3"].update(insecure="no"))
    assert_error(check(docs), "data.artifactRepositories.genomics-pipeline", "s3.insecure", "not of type 'boolean'")


def test_endpoint_with_a_scheme_is_refused():
    docs = good_docs()
    edit_value(docs, TENANT, "default-v1", lambda v: v["s3"].update(endpoint="https://s3.amazonaws.com"))
    assert_error(check(docs), "data.default-v1: s3.endpoint", "has a scheme")


def test_invalid_bucket_name_is_refused():
    docs = good_docs()
    edit_value(docs, TENANT, "default-v1", lambda v: v["s3"].update(bucket="Default_Bucket"))
    assert_error(check(docs), "data.default-v1: s3.bucket: `Default_Bucket`")


def test_configmap_over_one_mebibyte_is_refused():
    docs = good_docs()
    cm = find(docs, "ConfigMap", CENTRAL, "artifact-repositories")
    used = sum(len(v.encode()) for v in cm["data"].values())
    cm["data"]["padding"] = "x" * (1024 * 1024 - used + 1)
    report = check(docs, "--configmap-name", "none-such")  # keep the padding from failing as a repository
    assert_error(report, "ConfigMap argo-workflows/artifact-repositories", "data: 1048577 bytes",
                 "more than the 1048576")


def test_configmap_at_exactly_one_mebibyte_is_accepted():
    docs = good_docs()
    cm = find(docs, "ConfigMap", CENTRAL, "artifact-repositories")
    used = sum(len(v.encode()) for v in cm["data"].values())
    cm["data"]["padding"] = "x" * (1024 * 1024 - used)
    report = check(docs, "--configmap-name", "none-such")
    assert report["ok"], report["errors"]


def test_bad_configmap_data_key_is_refused():
    docs = good_docs()
    find(docs, "ConfigMap", TENANT, "artifact-repositories")["data"]["artifactRepositories/x"] = "archiveLogs: true\n"
    assert_error(check(docs), "ConfigMap research-team/artifact-repositories",
                 "key `artifactRepositories/x` is not a valid data key")


def test_default_annotation_must_name_an_existing_key():
    docs = good_docs()
    find(docs, "ConfigMap", TENANT, "artifact-repositories")["metadata"]["annotations"][
        validate_stream.DEFAULT_REPO_ANNOTATION] = "default-v2"
    assert_error(check(docs), "ConfigMap research-team/artifact-repositories",
                 "names key `default-v2` that data does not have")


# --------------------------------------------------------------------------------------- e. resolution


def test_ref_key_missing_everywhere_fails():
    docs = good_docs()
    find(docs, "WorkflowTemplate", TENANT, REG)["spec"]["artifactRepositoryRef"]["key"] = \
        "artifactRepositories.genomics"
    report = check(docs)
    assert_error(report, "WorkflowTemplate research-team/genomics-pipeline: spec.artifactRepositoryRef",
                 "config map missing key research-team/artifact-repositories#artifactRepositories.genomics",
                 "config map missing key argo-workflows/artifact-repositories#artifactRepositories.genomics")
    assert resolution(report, "WorkflowTemplate", TENANT, REG)["source"] == "unresolved"


def test_seed_style_dotted_path_into_the_nested_index_does_not_resolve():
    # `artifactRepositories.X` is a literal data key for Argo; the nested index is never read.
    docs = good_docs()
    for ns in (TENANT, CENTRAL):
        del find(docs, "ConfigMap", ns, "artifact-repositories")["data"]["artifactRepositories.genomics-pipeline"]
    assert_error(check(docs), "WorkflowTemplate research-team/genomics-pipeline", "resolves nowhere")


def test_bad_yaml_in_the_tenant_value_fails_without_falling_through():
    docs = good_docs()
    find(docs, "ConfigMap", TENANT, "artifact-repositories")["data"]["artifactRepositories.genomics-pipeline"] = \
        "s3: {bucket: [unclosed\n"
    report = check(docs)
    assert_error(report, "WorkflowTemplate research-team/genomics-pipeline",
                 "configmap research-team/artifact-repositories key `artifactRepositories.genomics-pipeline`",
                 "Argo fails the workflow")


def test_secret_missing_in_the_workflow_namespace():
    docs = good_docs()
    remove(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")
    assert_error(check(docs), "WorkflowTemplate research-team/genomics-pipeline", "s3.accessKeySecret",
                 "no Secret or ExternalSecret in namespace `research-team` produces secret "
                 "`s3-credentials-genomics-pipeline`")


def test_secret_produced_only_in_another_namespace():
    docs = good_docs()
    es = find(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")
    es["metadata"]["namespace"] = CENTRAL
    assert_error(check(docs), "WorkflowTemplate research-team/genomics-pipeline", "s3.secretKeySecret",
                 "produced only in namespace(s) `argo-workflows`", "workflow's namespace `research-team`")


def test_secret_without_the_referenced_key():
    docs = good_docs()
    es = find(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")
    es["spec"]["data"] = es["spec"]["data"][:1]
    assert_error(check(docs), "s3.secretKeySecret", "has no key `AWS_SECRET_ACCESS_KEY`",
                 "ExternalSecret research-team/s3-credentials-genomics-pipeline has keys AWS_ACCESS_KEY_ID")


def test_external_secret_target_name_defaults_to_its_own_name():
    docs = good_docs()
    es = find(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")
    del es["spec"]["target"]["name"]
    assert check(docs)["ok"]
    es["spec"]["target"]["name"] = "something-else"
    assert_error(check(docs), "produces secret `s3-credentials-genomics-pipeline`")


def test_credential_secret_name_must_be_a_dns_label():
    docs = good_docs()
    long_name = "s3-credentials-" + "g" * 60
    for ns in (TENANT, CENTRAL):
        edit_value(docs, ns, "artifactRepositories.genomics-pipeline",
                   lambda v: v["s3"]["accessKeySecret"].update(name=long_name))
    es = find(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")
    es["spec"]["target"]["name"] = long_name
    assert_error(check(docs), "s3.accessKeySecret.name", f"`{long_name}` is not a DNS-1123 label")


def test_missing_workflowtaskresults_rbac():
    docs = good_docs()
    remove(docs, "RoleBinding", TENANT, "wf-runner-executor")
    assert_error(check(docs), "WorkflowTemplate research-team/genomics-pipeline",
                 "service account `wf-runner` in namespace `research-team` is not granted create, patch on "
                 "workflowtaskresults.argoproj.io")


def test_workflowtaskresults_rbac_needs_patch_too():
    docs = good_docs()
    find(docs, "Role", TENANT, "wf-runner-executor")["rules"][0]["verbs"] = ["create"]
    assert_error(check(docs), "WorkflowTemplate research-team/genomics-pipeline", "is not granted patch")


def test_rbac_bound_to_another_namespace_does_not_count():
    docs = good_docs()
    binding = find(docs, "RoleBinding", TENANT, "wf-runner-executor")
    binding["subjects"][0]["namespace"] = "my-tenant-namespace"
    assert_error(check(docs), "WorkflowTemplate research-team/genomics-pipeline", "is not granted create, patch")


def test_service_account_must_exist():
    docs = good_docs()
    remove(docs, "ServiceAccount", TENANT, "wf-runner")
    assert_error(check(docs), "WorkflowTemplate research-team/genomics-pipeline",
                 "service account `wf-runner` is not created in namespace `research-team`")


# ----------------------------------------------------------------------- b. ExternalSecret, c. Argo


def test_external_secret_v1beta1_is_refused():
    docs = good_docs()
    find(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")["apiVersion"] = \
        "external-secrets.io/v1beta1"
    report = check(docs)
    assert_error(report, "ExternalSecret research-team/s3-credentials-genomics-pipeline",
                 "apiVersion: `external-secrets.io/v1beta1` is not served", "expected external-secrets.io/v1")
    # and a v1beta1 object produces no Secret
    assert_error(report, "WorkflowTemplate research-team/genomics-pipeline", "s3.accessKeySecret")


def test_external_secret_unknown_field_is_refused():
    docs = good_docs()
    find(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")["spec"]["target"]["namespace"] = TENANT
    assert_error(check(docs), "ExternalSecret research-team/s3-credentials-genomics-pipeline",
                 "spec.target.namespace: unknown field `namespace`")


def test_external_secret_schema_violation_is_refused():
    docs = good_docs()
    find(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")["spec"]["secretStoreRef"]["kind"] = \
        "VaultStore"
    assert_error(check(docs), "ExternalSecret research-team/s3-credentials-genomics-pipeline",
                 "spec.secretStoreRef.kind", "is not one of")


def test_external_secret_metadata_is_checked_strictly():
    docs = good_docs()
    find(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")["metadata"]["label"] = {"a": "b"}
    assert_error(check(docs), "ExternalSecret research-team/s3-credentials-genomics-pipeline",
                 "metadata.label: unknown field `label`")


def test_external_secret_name_longer_than_63():
    docs = good_docs()
    find(docs, "ExternalSecret", TENANT, "s3-credentials-default")["metadata"]["name"] = "s3-credentials-" + "d" * 49
    assert_error(check(docs), "ExternalSecret research-team/s3-credentials-ddd", "is 64 characters",
                 "at most 63")


def test_workflow_template_unknown_field_is_refused_by_crd_and_json_schema():
    docs = good_docs()
    find(docs, "WorkflowTemplate", TENANT, REG)["spec"]["artifactRepositoryRef"]["namespace"] = CENTRAL
    report = check(docs)
    crd = assert_error(report, "WorkflowTemplate research-team/genomics-pipeline",
                       "spec.artifactRepositoryRef.namespace: unknown field `namespace`",
                       "argoproj.io_workflowtemplates.v3.7.18.yaml")
    json_schema = assert_error(report, "spec.artifactRepositoryRef.namespace: unknown field `namespace`",
                               "argo-workflows.jsonschema.v3.7.18.json")
    assert crd != json_schema


def test_workflow_template_unknown_nested_field_is_refused():
    docs = good_docs()
    find(docs, "WorkflowTemplate", TENANT, REG)["spec"]["templates"][0]["container"]["imagePullPolcy"] = "Always"
    assert_error(check(docs), "spec.templates[0].container.imagePullPolcy: unknown field `imagePullPolcy`")


def test_workflow_template_schema_violation_is_refused():
    docs = good_docs()
    find(docs, "WorkflowTemplate", TENANT, REG)["spec"]["templates"][0]["container"]["command"] = "sh -c"
    assert_error(check(docs), "WorkflowTemplate research-team/genomics-pipeline",
                 "spec.templates[0].container.command", "not of type 'array'")


def test_workflow_template_against_argo_4_json_schema():
    docs = good_docs()
    find(docs, "WorkflowTemplate", TENANT, REG)["spec"]["bogus"] = 1
    assert_error(check(docs, "--argo-version", "4.1"), "spec.bogus: unknown field `bogus`",
                 "argo-workflows.jsonschema.v4.1.2.json")


def test_argo_object_with_wrong_api_version():
    docs = good_docs()
    find(docs, "WorkflowTemplate", TENANT, REG)["apiVersion"] = "argoproj.io/v1"
    assert_error(check(docs), "WorkflowTemplate research-team/genomics-pipeline",
                 "apiVersion: `argoproj.io/v1` is not served")


# ----------------------------------------------------------------------------- a. core kinds, generic


def test_core_kind_unknown_field_is_refused_by_kubernetes_validate():
    docs = good_docs()
    find(docs, "Role", TENANT, "wf-runner-executor")["rules"][0]["resourceName"] = ["x"]
    assert_error(check(docs), "Role research-team/wf-runner-executor", "rules.0",
                 "'resourceName' was unexpected", "kubernetes-validate --strict, kubernetes 1.33")


def test_core_kind_is_reported_against_the_right_object_among_same_names():
    docs = good_docs()
    find(docs, "ServiceAccount", "my-tenant-namespace", "wf-runner")["automountServiceAccountToken"] = "yes"
    report = check(docs)
    error = assert_error(report, "ServiceAccount my-tenant-namespace/wf-runner", "automountServiceAccountToken")
    assert not any("ServiceAccount research-team/wf-runner" in e for e in report["errors"]), error


def test_core_api_version_the_cluster_does_not_serve():
    docs = good_docs()
    find(docs, "Role", TENANT, "wf-runner-executor")["apiVersion"] = "rbac.authorization.k8s.io/v1beta1"
    assert_error(check(docs), "Role research-team/wf-runner-executor", "Couldn't find schema")


def test_duplicate_object_is_refused():
    docs = good_docs()
    docs.append(copy.deepcopy(find(docs, "ServiceAccount", TENANT, "wf-runner")))
    assert_error(check(docs), "ServiceAccount research-team/wf-runner: duplicate object")


def test_invalid_namespace_name_and_label_value():
    docs = good_docs()
    find(docs, "Namespace", None, TENANT)["metadata"]["labels"]["artifact-repos/tenant"] = "x" * 64
    assert_error(check(docs), "Namespace research-team: metadata.labels.artifact-repos/tenant",
                 "is not a valid label value")


def test_document_without_a_name():
    docs = good_docs()
    del find(docs, "ServiceAccount", TENANT, "wf-runner")["metadata"]["name"]
    assert_error(check(docs), "ServiceAccount (document 4, line", "metadata.name: missing")


def test_unknown_kinds_are_warned_about_not_failed():
    docs = good_docs()
    docs.append({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": TENANT}})
    report = check(docs)
    assert report["ok"], report["errors"]
    assert any("Widget research-team/w: not checked" in w for w in report["warnings"])


def test_duplicate_yaml_keys_are_a_parse_error():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"
    with pytest.raises(validate_stream.UsageError, match="duplicate mapping key `name`"):
        check(text)


# ------------------------------------------------------------------------------------------- the CLI


def test_cli_exits_1_with_a_report_on_problems():
    docs = good_docs()
    remove(docs, "ExternalSecret", TENANT, "s3-credentials-genomics-pipeline")
    proc = run_cli(["-"], to_text(docs))
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is False and report["errors"]


def test_cli_exits_2_on_unparseable_input_with_nothing_on_stdout():
    proc = run_cli(["-"], "kind: [unclosed\n")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "not a YAML stream" in proc.stderr


@pytest.mark.parametrize("argv, message", [
    (["--argo-version", "2.12", "-"], "--argo-version: `2.12` is not supported"),
    (["--argo-version", "latest", "-"], "is not a version"),
    (["--kube-version", "1.12.0", "-"], "--kube-version: `1.12.0` is not known"),
    (["--schemas", "/nonexistent", "-"], "--schemas: `/nonexistent` is not a directory"),
    ([], "the following arguments are required: file"),
])
def test_cli_exits_2_on_usage_errors(argv, message):
    proc = run_cli(argv, "")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert message in proc.stderr


def test_cli_reads_the_schemas_copied_into_the_repository_by_default(tmp_path):
    # No --schemas and no environment: run from another directory so a relative path cannot help.
    proc = subprocess.run([sys.executable, SCRIPT, GOOD], capture_output=True, text=True, cwd=tmp_path,
                          env={k: v for k, v in os.environ.items() if not k.startswith("ARTIFACT_REPOS")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["ok"]


def test_rbac_is_checked_even_when_the_repository_does_not_resolve():
    docs = good_docs()
    find(docs, "WorkflowTemplate", TENANT, REG)["spec"]["artifactRepositoryRef"]["key"] = "nope"
    remove(docs, "RoleBinding", TENANT, "wf-runner-executor")
    report = check(docs)
    assert_error(report, "WorkflowTemplate research-team/genomics-pipeline", "resolves nowhere")
    assert_error(report, "WorkflowTemplate research-team/genomics-pipeline", "workflowtaskresults")


def test_cron_workflow_resolves_through_its_workflow_spec():
    docs = good_docs()
    docs.append({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow",
        "metadata": {"name": "nightly", "namespace": TENANT},
        "spec": {"schedules": ["0 2 * * *"], "workflowSpec": {
            "serviceAccountName": "wf-runner", "workflowTemplateRef": {"name": REG},
            "artifactRepositoryRef": {"key": "artifactRepositories.default"}}},
    })
    report = check(docs)
    assert report["ok"], report["errors"]
    entry = resolution(report, "CronWorkflow", TENANT, "nightly")
    assert (entry["key"], entry["bucket"]) == ("artifactRepositories.default", "default-bucket")
    assert {s["producedBy"] for s in entry["secrets"]} == {"ExternalSecret research-team/s3-credentials-default"}
