#!/usr/bin/env python3
"""Independent offline checker of a generated multi-document YAML stream.

Owns: deciding whether a stream of Kubernetes objects (what `artifact-repos render` or the post-renderer
prints) would be accepted by the API server and would make Argo Workflows store artifacts where intended.
It deliberately shares no code, schema copy or rule table with the Rust tool: it reads the upstream
schemas from fixtures/upstream/schemas (copies, see fixtures/upstream/PROVENANCE.md) and encodes the
upstream behaviour written down in docs/upstream.md, so a mistake in the generator is not repeated here
by construction.

Checks, each reported as `Kind namespace/name: field.path: problem`:
  a. core kinds (v1, apps/v1, *.k8s.io/...): one run of `kubernetes-validate -k KUBE --strict` over a
     temporary file holding all of them, results mapped back to objects by document order;
  b. ExternalSecret: external-secrets.io/v1 only; the CRD's v1 openAPIV3Schema (jsonschema) plus a strict
     walk refusing keys the schema does not list; name at most 63 characters;
  c. WorkflowTemplate: the (full) CRD the same way, and the Argo JSON schema definition
     io.argoproj.workflow.v1alpha1.WorkflowTemplate of each target Argo version, strictly
     (Workflow, CronWorkflow, ClusterWorkflowTemplate: the Argo JSON schema only);
  d. the repositories ConfigMap (--configmap-name): each data value one ArtifactRepository document (the
     nested `artifactRepositories` index a map of them), strictly against the Argo JSON schema; size and
     data keys of every ConfigMap and Secret;
  e. Argo's resolution of spec.artifactRepositoryRef (docs/upstream.md, "Argo: how a workflow finds its repository") for every WorkflowTemplate,
     Workflow and CronWorkflow, then the S3 credential Secrets in the workflow's namespace, the service
     account, and its workflowtaskresults RBAC.

Output: a JSON report on stdout; exit 0 ok, 1 problems found, 2 usage or unparseable input (message on
stderr, nothing on stdout).

Why kubernetes-validate runs through `python -c`: its CLI re-reads and re-parses a 1.4 MB definitions
file for every document (about 11 ms each, 9 minutes for 50,000 objects). The subprocess runs the
package's own `main()` with the same argv, only memoising its file loaders and giving it libyaml
(see KUBERNETES_VALIDATE_MAIN; about 0.4 ms a document, output byte-identical).
"""

import argparse
import collections
import functools
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml
from referencing import Registry, Resource

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

DEFAULT_SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "upstream", "schemas")

DEFAULT_REPO_ANNOTATION = "workflows.argoproj.io/default-artifact-repository"
DEFAULT_REPO_CONFIGMAP = "artifact-repositories"
NESTED_INDEX_KEY = "artifactRepositories"
CONFIGMAP_MAX_BYTES = 1024 * 1024

ES_SCHEMA = "external-secrets.io_externalsecrets.v2.9.0.yaml"
WT_CRD_SCHEMA = "argoproj.io_workflowtemplates.v3.7.18.yaml"
ARGO_JSONSCHEMA = {3: "argo-workflows.jsonschema.v3.7.18.json", 4: "argo-workflows.jsonschema.v4.1.2.json"}
DEF = "io.argoproj.workflow.v1alpha1."
OBJECT_META_DEF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# Definitions that are `type: object` without properties in the Argo JSON schema but free-form in
# reality (the CRD marks `plugin` x-kubernetes-preserve-unknown-fields).
FREE_FORM_DEFS = {"io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1", DEF + "Plugin"}

ARGO_KINDS = {
    "WorkflowTemplate": "spec",
    "Workflow": "spec",
    "CronWorkflow": "workflowSpec",
    "ClusterWorkflowTemplate": None,
}
WORKFLOW_LIKE = ("WorkflowTemplate", "Workflow", "CronWorkflow")
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass",
    "StorageClass", "PersistentVolume", "Node", "ClusterWorkflowTemplate", "ClusterSecretStore",
    "ClusterExternalSecret", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "APIService", "IngressClass", "RuntimeClass", "CSIDriver", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
}
S3_SECRET_FIELDS = (
    ("accessKeySecret",),
    ("secretKeySecret",),
    ("sessionTokenSecret",),
    ("caSecret",),
    ("encryptionOptions", "serverSideCustomerKeySecret"),
)

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


class UsageError(Exception):
    """Bad arguments, missing schema files or an unparseable stream: exit 2."""


# ---------------------------------------------------------------------------------------------- YAML


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_BaseLoader):
    """Safe loader that refuses duplicate mapping keys and keeps timestamps as strings (as Go does)."""


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    out = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in out
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping key is not a scalar", key_node.start_mark)
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate mapping key `{key}`", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
StrictLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def load_documents(text):
    """[(line, value)] for every non-empty document; yaml.YAMLError on bad YAML."""
    loader = StrictLoader(text)
    docs = []
    try:
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1
            value = loader.construct_document(node)
            if value is not None:
                docs.append((line, value))
    finally:
        loader.dispose()
    return docs


def load_value(text):
    """One YAML document from a ConfigMap value, with the same strictness."""
    return yaml.load(text, Loader=StrictLoader)


def short(value, limit=80):
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ------------------------------------------------------------------------------------------- schemas


class StrictWalker:
    """Refuses every mapping key that the schema node does not list in `properties`.

    A node stays open when it has `additionalProperties` (true or a schema, which then checks the
    values), `x-kubernetes-preserve-unknown-fields`, or neither a type nor properties (any value).
    `type: object` with no properties is an empty struct: every key is unknown (the API server would
    prune it, Argo would ignore it). anyOf/oneOf/allOf branches contribute their properties.
    """

    def __init__(self, definitions=None, skip_root_keys=()):
        self.definitions = definitions or {}
        self.skip_root_keys = set(skip_root_keys)

    def deref(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name in FREE_FORM_DEFS:
                return {}
            node = self.definitions.get(name, {})
            seen += 1
            if seen > 50:
                return {}
        return node if isinstance(node, dict) else {}

    def branches(self, node):
        out = [node]
        for keyword in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(keyword, ()) or ():
                out.extend(self.branches(self.deref(sub)))
        return out

    def walk(self, value, schema, path=""):
        problems = []
        self._walk(value, schema, path, problems, root=True)
        return problems

    def _walk(self, value, node, path, problems, root=False):
        node = self.deref(node)
        if isinstance(value, dict):
            props, additional, preserve, typed = {}, None, False, False
            for branch in self.branches(node):
                props.update(branch.get("properties") or {})
                if "additionalProperties" in branch and additional is None:
                    additional = branch["additionalProperties"]
                preserve = preserve or bool(branch.get("x-kubernetes-preserve-unknown-fields"))
                typed = typed or "properties" in branch or branch.get("type") == "object"
            open_any = preserve or additional is True or (isinstance(additional, dict) and not additional)
            if not typed and additional is None and not preserve:
                return  # no type and no properties: any value
            for key, sub in value.items():
                sub_path = f"{path}.{key}" if path else str(key)
                if root and key in self.skip_root_keys:
                    continue
                if key in props:
                    self._walk(sub, props[key], sub_path, problems)
                elif isinstance(additional, dict) and additional:
                    self._walk(sub, additional, sub_path, problems)
                elif not open_any:
                    known = sorted(props)
                    listed = ", ".join(known[:15]) + (", ..." if len(known) > 15 else "")
                    problems.append(
                        f"{sub_path}: unknown field `{key}`, known here: {listed or '(none)'}")
        elif isinstance(value, list):
            items = node.get("items")
            if isinstance(items, dict):
                for index, item in enumerate(value):
                    self._walk(item, items, f"{path}[{index}]", problems)


def _json_path(error):
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def schema_problems(validator, value, prefix=""):
    problems = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        path = _json_path(error)
        if prefix:
            path = prefix if path == "(root)" else f"{prefix}.{path}"
        problems.append(f"{path}: {short(error.message, 240)}")
    return problems


class ArgoSchema:
    """One Argo JSON schema file: compiled validators per definition and a strict walker."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.document = json.load(f)
        self.definitions = self.document["definitions"]
        self.base = self.document.get("$id") or "urn:argo-workflows-schema"
        self.registry = Registry().with_resource(self.base, Resource.from_contents(self.document))
        self.walker = StrictWalker(self.definitions)
        self.name = os.path.basename(path)
        self._validators = {}

    def validator(self, definition):
        if definition not in self._validators:
            if definition not in self.definitions:
                raise UsageError(f"{self.name}: no definition `{definition}`")
            schema = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": f"{self.base}#/definitions/{definition}",
            }
            self._validators[definition] = jsonschema.Draft202012Validator(schema, registry=self.registry)
        return self._validators[definition]

    def check(self, definition, value, prefix=""):
        problems = schema_problems(self.validator(definition), value, prefix)
        problems += self.walker.walk(value, {"$ref": f"#/definitions/{definition}"}, prefix)
        return problems


class CrdSchema:
    """The openAPIV3Schema of one served version of a CRD file."""

    def __init__(self, path, version):
        with open(path, encoding="utf-8") as f:
            crd = yaml.load(f, Loader=StrictLoader)
        self.name = os.path.basename(path)
        self.group = crd["spec"]["group"]
        self.kind = crd["spec"]["names"]["kind"]
        self.versions = {v["name"]: v for v in crd["spec"]["versions"]}
        if version not in self.versions:
            raise UsageError(f"{self.name}: no version `{version}`")
        self.schema = self.versions[version]["schema"]["openAPIV3Schema"]
        # OpenAPI 3.0 schemas follow draft 4 semantics; `format` is not asserted, as in the API server
        # (which only knows a few formats) it would add false alarms rather than catch real problems.
        self.validator = jsonschema.Draft4Validator(self.schema)
        # metadata is `type: object` here: the API server checks it as ObjectMeta, and so do we.
        self.walker = StrictWalker(skip_root_keys=("metadata",))

    def check(self, value):
        return schema_problems(self.validator, value) + self.walker.walk(value, self.schema)


def parse_argo_version(text):
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text.strip())
    if not match:
        raise UsageError(f"--argo-version: `{text}` is not a version, expected MAJOR.MINOR such as 3.7 or 4.1")
    major, minor = int(match.group(1)), int(match.group(2))
    if major not in ARGO_JSONSCHEMA:
        raise UsageError(f"--argo-version: `{text}` is not supported, expected 3.x or 4.x")
    return (major, minor)


# ---------------------------------------------------------------------------------------- the checker


def group_of(api_version):
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def is_core_group(group):
    return group == "" or "." not in group or group.endswith(".k8s.io")


def dig(value, *keys):
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


class Obj:
    __slots__ = ("index", "line", "body", "api_version", "group", "kind", "namespace", "name", "ident")

    def __init__(self, index, line, body, default_namespace):
        self.index = index
        self.line = line
        self.body = body
        self.api_version = body.get("apiVersion")
        self.kind = body.get("kind")
        self.group = group_of(self.api_version) if isinstance(self.api_version, str) else None
        meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        name = meta.get("name")
        self.name = name if isinstance(name, str) and name else None
        if self.name is None and isinstance(meta.get("generateName"), str):
            self.name = meta["generateName"] + "*"
        ns = meta.get("namespace")
        if self.kind in CLUSTER_SCOPED:
            self.namespace = None
        else:
            self.namespace = ns if isinstance(ns, str) and ns else default_namespace
        kind = self.kind if isinstance(self.kind, str) else "document"
        if self.name is None:
            self.ident = f"{kind} (document {index + 1}, line {line})"
        elif self.namespace is None:
            self.ident = f"{kind} {self.name}"
        else:
            self.ident = f"{kind} {self.namespace}/{self.name}"

    @property
    def meta(self):
        meta = self.body.get("metadata")
        return meta if isinstance(meta, dict) else {}


class Checker:
    def __init__(self, args):
        self.args = args
        schemas = args.schemas
        for needed in [ES_SCHEMA, WT_CRD_SCHEMA] + sorted({ARGO_JSONSCHEMA[v[0]] for v in args.argo_versions}):
            if not os.path.isfile(os.path.join(schemas, needed)):
                raise UsageError(f"--schemas: `{os.path.join(schemas, needed)}` does not exist")
        self.argo = {}  # (major, minor) -> ArgoSchema
        loaded = {}
        for version in args.argo_versions:
            fname = ARGO_JSONSCHEMA[version[0]]
            if fname not in loaded:
                loaded[fname] = ArgoSchema(os.path.join(schemas, fname))
            self.argo[version] = loaded[fname]
        self.es_crd = CrdSchema(os.path.join(schemas, ES_SCHEMA), "v1")
        self.wt_crd = CrdSchema(os.path.join(schemas, WT_CRD_SCHEMA), "v1alpha1")
        self.errors = []
        self.warnings = []
        self.resolutions = []
        self._repo_cache = {}

    # -- reporting

    def error(self, obj, message, index=None):
        """Records a problem of `obj` (or of document `index` when there is no object)."""
        text = f"{obj.ident}: {message}" if obj is not None else message
        position = obj.index if obj is not None else (index if index is not None else -1)
        self.errors.append((position, len(self.errors), text))

    def version_label(self, version):
        return f" (argo {version[0]}.{version[1]})" if len(self.argo) > 1 else ""

    # -- entry point

    def run(self, documents):
        objs = []
        counts = collections.Counter()
        for index, (line, body) in enumerate(documents):
            if not isinstance(body, dict):
                self.error(None, f"document {index + 1} (line {line}): not a mapping but `{short(body, 40)}`",
                           index)
                continue
            obj = Obj(index, line, body, self.args.default_namespace)
            counts[obj.kind if isinstance(obj.kind, str) else "(no kind)"] += 1
            if self.check_basics(obj):
                objs.append(obj)
        self.check_duplicates(objs)
        core, custom = [], []
        for obj in objs:
            if not is_core_group(obj.group):
                custom.append(obj)
            elif obj.meta.get("name"):
                core.append(obj)
            else:
                self.warnings.append(f"{obj.ident}: not checked by kubernetes-validate (no metadata.name)")
        running = self.start_kubernetes_validate(core)
        try:
            for obj in objs:
                self.check_metadata(obj)
            for obj in custom:
                if obj.group == "external-secrets.io" and obj.kind == "ExternalSecret":
                    self.check_external_secret(obj)
                elif obj.group == "argoproj.io" and obj.kind in ARGO_KINDS:
                    self.check_argo_object(obj)
                else:
                    self.warnings.append(
                        f"{obj.ident}: not checked: no schema for `{obj.kind}` in `{obj.api_version}`")
            index = Index(objs)
            for obj in index.configmaps.values():
                self.check_data_map(obj, "data")
                if obj.name == self.args.configmap_name:
                    self.check_repositories_configmap(obj)
            for obj in index.secrets.values():
                self.check_data_map(obj, "data")
                self.check_data_map(obj, "stringData")
            for obj in objs:
                if obj.group == "argoproj.io" and obj.kind in WORKFLOW_LIKE:
                    self.resolve(obj, index)
        except BaseException:
            if running is not None:
                running[2].kill()
            raise
        self.finish_kubernetes_validate(running)
        # Problems are listed in document order, whichever check found them.
        errors = [message for _, _, message in sorted(self.errors, key=lambda e: (e[0], e[1]))]
        return {
            "ok": not errors,
            "errors": errors,
            "warnings": self.warnings,
            "resolutions": self.resolutions,
            "counts": dict(sorted(counts.items())),
        }

    # -- every object

    def check_basics(self, obj):
        ok = True
        for field in ("apiVersion", "kind"):
            if not isinstance(obj.body.get(field), str) or not obj.body.get(field):
                self.error(obj, f"{field}: missing or not a string")
                ok = False
        if not isinstance(obj.body.get("metadata"), dict):
            self.error(obj, "metadata: missing or not a mapping")
            ok = False
        elif obj.name is None:
            self.error(obj, "metadata.name: missing")
            ok = False
        return ok

    def check_duplicates(self, objs):
        seen = {}
        for obj in objs:
            key = (obj.group, obj.kind, obj.namespace, obj.name)
            if obj.name.endswith("*"):
                continue
            if key in seen:
                self.error(obj, f"duplicate object (also document {seen[key].index + 1}, line {seen[key].line})")
            else:
                seen[key] = obj

    def check_metadata(self, obj):
        meta = obj.meta
        name = meta.get("name")
        ns = meta.get("namespace")
        if isinstance(ns, str) and ns and not (len(ns) <= 63 and DNS1123_LABEL.match(ns)):
            self.error(obj, f"metadata.namespace: `{ns}` is not a DNS-1123 label "
                            "(lowercase alphanumerics and `-`, at most 63)")
        if isinstance(name, str) and name:
            if obj.kind == "Namespace":
                if not (len(name) <= 63 and DNS1123_LABEL.match(name)):
                    self.error(obj, f"metadata.name: `{name}` is not a DNS-1123 label "
                                    "(lowercase alphanumerics and `-`, at most 63)")
            elif obj.group == "rbac.authorization.k8s.io":
                if name in (".", "..") or "/" in name or "%" in name:
                    self.error(obj, f"metadata.name: `{name}` must not contain `/` or `%` nor be `.` or `..`")
            elif obj.kind in ("ConfigMap", "Secret", "ServiceAccount") or not is_core_group(obj.group):
                if not (len(name) <= 253 and DNS1123_SUBDOMAIN.match(name)):
                    self.error(obj, f"metadata.name: `{short(name)}` is not a DNS-1123 subdomain "
                                    "(lowercase alphanumerics, `-` and `.`, at most 253)")
        labels = meta.get("labels")
        if isinstance(labels, dict):
            for key, value in labels.items():
                self.check_qualified_name(obj, f"metadata.labels", key)
                if not isinstance(value, str):
                    continue  # kubernetes-validate / the schemas report the type
                if value and not (len(value) <= 63 and LABEL_NAME.match(value)):
                    self.error(obj, f"metadata.labels.{key}: value `{short(value)}` is not a valid label value "
                                    "(at most 63 of `A-Za-z0-9-_.`, alphanumeric at both ends)")
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            total = 0
            for key, value in annotations.items():
                self.check_qualified_name(obj, "metadata.annotations", key)
                total += len(str(key).encode()) + len(str(value).encode())
            if total > 256 * 1024:
                self.error(obj, f"metadata.annotations: {total} bytes, more than the 262144 allowed")

    def check_qualified_name(self, obj, where, key):
        key = str(key)
        prefix, _, name = key.rpartition("/")
        problem = None
        if not (len(name) <= 63 and LABEL_NAME.match(name)):
            problem = "name part must be at most 63 of `A-Za-z0-9-_.`, alphanumeric at both ends"
        elif "/" in key and not (prefix and len(prefix) <= 253 and DNS1123_SUBDOMAIN.match(prefix)):
            problem = "prefix must be a DNS-1123 subdomain"
        if problem:
            self.error(obj, f"{where}: key `{short(key)}` is not a qualified name ({problem})")

    # -- a. core kinds

    def start_kubernetes_validate(self, core):
        """Starts the one kubernetes-validate run in the background; finish_kubernetes_validate reads it.

        Output goes to temporary files rather than pipes so the run overlaps with the other checks
        without blocking on a full pipe.
        """
        if not core:
            return None
        fd, path = tempfile.mkstemp(prefix="validate-stream-", suffix=".yaml")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for obj in core:
                f.write("---\n")
                f.write(json.dumps(obj.body, default=str))
                f.write("\n")
        out, err = tempfile.TemporaryFile("w+", encoding="utf-8"), tempfile.TemporaryFile("w+", encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-c", KUBERNETES_VALIDATE_MAIN, "-k", self.args.kube_version, "--strict", path],
            stdin=subprocess.DEVNULL, stdout=out, stderr=err, text=True)
        return (core, path, proc, out, err)

    def finish_kubernetes_validate(self, running):
        if running is None:
            return
        core, path, proc, out, err = running
        try:
            returncode = proc.wait()
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        finally:
            out.close()
            err.close()
            os.unlink(path)
        # One record per document, in order: `LEVEL <file> ...`; a line that does not start so continues
        # the record before it (a message with a newline in a value).
        starts = tuple(f"{level} {path} " for level in ("INFO", "ERROR", "WARN")) + ("FATAL ",)
        results = []
        for line in stdout.splitlines():
            if line.startswith(starts):
                results.append(line)
            elif results:
                results[-1] += "\n" + line
        if returncode not in (0, 1) or len(results) != len(core):
            raise UsageError(
                f"kubernetes-validate exited {returncode} with {len(results)} results for "
                f"{len(core)} documents: {short(stderr.strip() or stdout.strip(), 2000)}")
        for obj, line in zip(core, results):
            level, _, rest = line.partition(" ")
            if rest.startswith(path + " "):
                rest = rest[len(path) + 1:]
            if level == "INFO":
                continue
            if level == "ERROR" and " against version " in rest:
                detail = rest.split(" against version ", 1)[1]
                version, _, detail = detail.partition(": ")
                self.error(obj, f"{detail} (kubernetes-validate --strict, kubernetes {version})")
            elif level == "WARN":
                self.error(obj, f"{rest} (kubernetes-validate; an API the cluster does not serve?)")
            else:
                self.error(obj, f"kubernetes-validate: {rest}")

    # -- b. ExternalSecret

    def check_external_secret(self, obj):
        if obj.api_version != "external-secrets.io/v1":
            served = [v for v, spec in self.es_crd.versions.items() if spec.get("served")]
            self.error(obj, f"apiVersion: `{obj.api_version}` is not served by external-secrets v2.9.0, "
                            f"expected external-secrets.io/{served[0]}")
            return
        for problem in self.es_crd.check(obj.body):
            self.error(obj, f"{problem} ({self.es_crd.name})")
        self.check_object_meta(obj)
        if obj.name and len(obj.name) > 63:
            self.error(obj, f"metadata.name: `{obj.name}` is {len(obj.name)} characters, "
                            "ExternalSecret names must be at most 63")

    def check_object_meta(self, obj):
        schema = next(iter(self.argo.values()))
        for problem in schema.check(OBJECT_META_DEF, obj.meta, "metadata"):
            self.error(obj, problem)

    # -- c. Argo objects

    def check_argo_object(self, obj):
        if obj.api_version != "argoproj.io/v1alpha1":
            self.error(obj, f"apiVersion: `{obj.api_version}` is not served, expected argoproj.io/v1alpha1")
            return
        if obj.kind == "WorkflowTemplate":
            for problem in self.wt_crd.check(obj.body):
                self.error(obj, f"{problem} ({self.wt_crd.name})")
        for version, schema in self.argo.items():
            for problem in schema.check(DEF + obj.kind, obj.body):
                self.error(obj, f"{problem} ({schema.name}{self.version_label(version)})")

    # -- d. ConfigMaps and Secrets

    def check_data_map(self, obj, field):
        data = obj.body.get(field)
        if data is None:
            return
        if not isinstance(data, dict):
            self.error(obj, f"{field}: not a mapping")
            return
        for key in data:
            key = str(key)
            if len(key) > 253 or not CONFIGMAP_KEY.match(key) or key in (".", "..") or key.startswith(".."):
                self.error(obj, f"{field}: key `{short(key)}` is not a valid data key "
                                "(`[-._a-zA-Z0-9]+`, at most 253, not `.`, `..` or starting with `..`)")
        if obj.kind == "ConfigMap" and field == "data":
            total = sum(len(v.encode("utf-8")) for v in data.values() if isinstance(v, str))
            binary = obj.body.get("binaryData")
            if isinstance(binary, dict):
                total += sum(len(v) * 3 // 4 for v in binary.values() if isinstance(v, str))
            if total > CONFIGMAP_MAX_BYTES:
                self.error(obj, f"data: {total} bytes in all values, more than the {CONFIGMAP_MAX_BYTES} "
                                "(1 MiB) a ConfigMap may hold")

    def check_repositories_configmap(self, obj):
        data = obj.body.get("data")
        if not isinstance(data, dict):
            data = {}
        for key, value in data.items():
            if not isinstance(value, str):
                continue
            if key == NESTED_INDEX_KEY:
                try:
                    index = load_value(value)
                except yaml.YAMLError as e:
                    self.error(obj, f"data.{key}: not valid YAML: {short(str(e), 200)}")
                    continue
                if not isinstance(index, dict):
                    self.error(obj, f"data.{key}: expected a map of repository name to ArtifactRepository, "
                                    f"got `{short(index, 40)}`")
                    continue
                for name, repo in index.items():
                    for problem in self.repository_problems(repo):
                        self.error(obj, f"data.{key}: {name}.{problem}")
            else:
                for problem in self.repository_value_problems(value):
                    self.error(obj, f"data.{key}: {problem}")
        default_key = obj.meta.get("annotations", {}).get(DEFAULT_REPO_ANNOTATION) \
            if isinstance(obj.meta.get("annotations"), dict) else None
        if default_key is not None and default_key not in data:
            self.error(obj, f"metadata.annotations.{DEFAULT_REPO_ANNOTATION}: names key `{default_key}` "
                            "that data does not have")

    def repository_value_problems(self, text):
        """Problems of one ConfigMap value as ONE ArtifactRepository document (cached by text)."""
        if text in self._repo_cache:
            return self._repo_cache[text]
        try:
            repo = load_value(text)
        except yaml.YAMLError as e:
            problems = [f"not valid YAML: {short(str(e), 200)}"]
        else:
            if not isinstance(repo, dict):
                problems = [f"expected one ArtifactRepository mapping, got `{short(repo, 40)}`"]
            else:
                problems = self.repository_problems(repo)
        self._repo_cache[text] = problems
        return problems

    def repository_problems(self, repo):
        if not isinstance(repo, dict):
            return [f"(root): expected an ArtifactRepository mapping, got `{short(repo, 40)}`"]
        problems = []
        for version, schema in self.argo.items():
            label = self.version_label(version)
            for problem in schema.check(DEF + "ArtifactRepository", repo):
                if "unknown field `pathStyle`" in problem:
                    problem += "; Argo has no pathStyle (from 4.1: addressingStyle: path)"
                problems.append(f"{problem} (ArtifactRepository, {schema.name}{label})")
            s3 = repo.get("s3")
            if isinstance(s3, dict) and "addressingStyle" in s3 and version < (4, 1):
                problems.append(f"s3.addressingStyle: unknown field `addressingStyle` before Argo 4.1 "
                                f"(target {version[0]}.{version[1]})")
        s3 = repo.get("s3")
        if isinstance(s3, dict):
            endpoint = s3.get("endpoint")
            if isinstance(endpoint, str) and "://" in endpoint:
                problems.append(f"s3.endpoint: `{endpoint}` has a scheme, expected host[:port] "
                                "(use `insecure: true` for plain HTTP)")
            bucket = s3.get("bucket")
            if isinstance(bucket, str):
                problem = bucket_problem(bucket)
                if problem:
                    problems.append(f"s3.bucket: `{bucket}` {problem}")
        return problems

    # -- e. resolution

    def resolve(self, obj, index):
        spec = effective_spec(obj, index)
        if spec is None:
            self.error(obj, f"{'spec.workflowSpec' if obj.kind == 'CronWorkflow' else 'spec'}: missing")
            return
        ns = obj.namespace
        self.check_service_account(obj, spec, index)
        ref = spec.get("artifactRepositoryRef")
        entry = {
            "kind": obj.kind, "namespace": ns, "name": obj.name, "source": None,
            "configMap": None, "configMapNamespace": None, "key": None, "storage": None,
            "bucket": None, "endpoint": None, "keyFormat": None, "secrets": [],
        }
        self.resolutions.append(entry)
        if ref is not None and not isinstance(ref, dict):
            self.error(obj, "spec.artifactRepositoryRef: not a mapping")
            return
        tried = []
        found = None
        if ref is not None:
            cm_name = ref.get("configMap") or DEFAULT_REPO_CONFIGMAP
            for where in (ns, self.args.controller_namespace):
                result = lookup(index, where, cm_name, ref.get("key") or None)
                if result[0] == "found":
                    found = result
                    break
                tried.append(result[1])
            if found is None:
                entry["source"] = "unresolved"
                self.error(obj, f"spec.artifactRepositoryRef: {json.dumps(ref, sort_keys=True)} resolves nowhere: "
                                + "; ".join(tried)
                                + " (Argo looks in the workflow's namespace, then the controller's, and fails)")
                return
            entry["source"] = "ref" if found[1] == ns else "ref-controller-namespace"
        else:
            result = lookup(index, ns, DEFAULT_REPO_CONFIGMAP, None)
            if result[0] != "found":
                entry["source"] = "controller-default"
                return
            found = result
            entry["source"] = "default-annotation"
        _, cm_ns, cm_name, key, text = found
        entry.update(configMap=cm_name, configMapNamespace=cm_ns, key=key)
        where = f"configmap {cm_ns}/{cm_name} key `{key}`"
        if not isinstance(text, str):
            self.error(obj, f"spec.artifactRepositoryRef: {where} is not a string")
            return
        try:
            repo = load_value(text)
        except yaml.YAMLError as e:
            self.error(obj, f"spec.artifactRepositoryRef: {where} is not valid YAML, Argo fails the workflow: "
                            f"{short(str(e), 200)}")
            return
        if not isinstance(repo, dict):
            self.error(obj, f"spec.artifactRepositoryRef: {where} is not one ArtifactRepository mapping")
            return
        if cm_name != self.args.configmap_name:  # the repositories ConfigMap was checked in full already
            for problem in self.repository_value_problems(text):
                self.error(obj, f"spec.artifactRepositoryRef: {where}: {problem}")
        storages = [k for k in repo if k != "archiveLogs"]
        entry["storage"] = storages[0] if len(storages) == 1 else (storages or None)
        s3 = repo.get("s3")
        if isinstance(s3, dict):
            entry.update(bucket=s3.get("bucket"), endpoint=s3.get("endpoint"), keyFormat=s3.get("keyFormat"))
            self.check_s3_secrets(obj, s3, where, entry, index)
        elif not storages:
            self.error(obj, f"spec.artifactRepositoryRef: {where} names no storage (s3, gcs, ...)")

    def check_s3_secrets(self, obj, s3, where, entry, index):
        ns = obj.namespace
        for path in S3_SECRET_FIELDS:
            selector = dig(s3, *path)
            field = "s3." + ".".join(path)
            if selector is None:
                continue
            if not isinstance(selector, dict) or not isinstance(selector.get("name"), str) \
                    or not selector.get("name") or not isinstance(selector.get("key"), str) or not selector["key"]:
                self.error(obj, f"{where}: {field}: needs a non-empty `name` and `key`")
                continue
            name, key = selector["name"], selector["key"]
            if not (len(name) <= 63 and DNS1123_LABEL.match(name)):
                self.error(obj, f"{where}: {field}.name: `{name}` is not a DNS-1123 label (at most 63, no dots); "
                                "Argo mounts it as a pod volume named after the Secret")
            producer, problem = index.secret_producer(ns, name, key)
            entry["secrets"].append({"field": field, "name": name, "key": key, "producedBy": producer})
            if problem:
                self.error(obj, f"{where}: {field}: {problem}")

    def check_service_account(self, obj, spec, index):
        ns = obj.namespace
        account = spec.get("serviceAccountName") or "default"
        executor = dig(spec, "executor", "serviceAccountName") or None
        for name in dict.fromkeys([account] + ([executor] if executor else [])):
            if name != "default" and (ns, name) not in index.service_accounts:
                self.error(obj, f"spec.serviceAccountName: service account `{name}` is not created in "
                                f"namespace `{ns}`")
        if self.min_argo_version() < (3, 4):
            return
        runner = executor or account  # the executor's token writes the task results
        missing = {"create", "patch"} - index.granted_verbs(ns, runner)
        if missing:
            self.error(obj, f"spec.serviceAccountName: service account `{runner}` in namespace `{ns}` is not "
                            f"granted {', '.join(sorted(missing))} on workflowtaskresults.argoproj.io "
                            "by any Role/RoleBinding in the stream (Argo >= 3.4 executors need create and patch)")

    def min_argo_version(self):
        return min(self.argo)


def bucket_problem(bucket):
    if not 3 <= len(bucket) <= 63:
        return "must be 3 to 63 characters"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", bucket):
        return "must be lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit"
    if ".." in bucket:
        return "must not contain `..`"
    if IPV4.match(bucket):
        return "must not be an IP address"
    for prefix in BUCKET_BAD_PREFIXES:
        if bucket.startswith(prefix):
            return f"must not start with `{prefix}`"
    for suffix in BUCKET_BAD_SUFFIXES:
        if bucket.endswith(suffix):
            return f"must not end with `{suffix}`"
    return None


def lookup(index, namespace, cm_name, ref_key):
    """Argo's get(): ("found", ns, cm, key, value) or ("missing", reason) for not-found / missing key."""
    cm = index.configmaps.get((namespace, cm_name))
    if cm is None:
        return ("missing", f"configmap {namespace}/{cm_name} not found")
    annotations = cm.meta.get("annotations") if isinstance(cm.meta.get("annotations"), dict) else {}
    key = ref_key or annotations.get(DEFAULT_REPO_ANNOTATION) or ""
    data = cm.body.get("data") if isinstance(cm.body.get("data"), dict) else {}
    if key not in data:
        return ("missing", f"config map missing key {namespace}/{cm_name}#{key}")
    return ("found", namespace, cm_name, key, data[key])


def effective_spec(obj, index):
    """The workflow spec Argo would run: own spec, with ref and service account merged from a
    workflowTemplateRef when the template is in the stream (the workflow's own fields win)."""
    spec = obj.body.get("spec")
    if obj.kind == "CronWorkflow":
        spec = dig(spec, "workflowSpec")
    if not isinstance(spec, dict):
        return None
    template_ref = spec.get("workflowTemplateRef")
    if obj.kind == "WorkflowTemplate" or not isinstance(template_ref, dict):
        return spec
    name = template_ref.get("name")
    if template_ref.get("clusterScope"):
        template = index.cluster_templates.get(name)
    else:
        template = index.templates.get((obj.namespace, name))
    template_spec = dig(template.body, "spec") if template is not None else None
    if not isinstance(template_spec, dict):
        return spec
    merged = dict(spec)
    for field in ("artifactRepositoryRef", "serviceAccountName", "executor"):
        if field not in merged and field in template_spec:
            merged[field] = template_spec[field]
    return merged


class Index:
    """Lookups by (namespace, name), built once, so that resolution stays linear in the stream."""

    def __init__(self, objs):
        self.configmaps = {}
        self.secrets = {}
        self.service_accounts = set()
        self.templates = {}
        self.cluster_templates = {}
        self.roles = {}
        self.cluster_roles = {}
        self.role_bindings = collections.defaultdict(list)
        self.cluster_role_bindings = []
        self.secret_keys = {}  # (ns, secret) -> (producer, set of keys or None for any)
        self.producers = collections.defaultdict(list)  # (ns, secret) -> [(producer, keys or None)]
        self.namespaces_by_secret = collections.defaultdict(set)
        self._verbs = {}
        for obj in objs:
            key = (obj.namespace, obj.name)
            if obj.group == "" and obj.kind == "ConfigMap":
                self.configmaps.setdefault(key, obj)
            elif obj.group == "" and obj.kind == "Secret":
                self.secrets.setdefault(key, obj)
                keys = set()
                for field in ("data", "stringData"):
                    if isinstance(obj.body.get(field), dict):
                        keys.update(map(str, obj.body[field]))
                self.add_producer(obj.namespace, obj.name, f"Secret {obj.namespace}/{obj.name}", keys)
            elif obj.group == "" and obj.kind == "ServiceAccount":
                self.service_accounts.add(key)
            elif obj.group == "argoproj.io" and obj.kind == "WorkflowTemplate":
                self.templates.setdefault(key, obj)
            elif obj.group == "argoproj.io" and obj.kind == "ClusterWorkflowTemplate":
                self.cluster_templates.setdefault(obj.name, obj)
            elif obj.group == "rbac.authorization.k8s.io":
                if obj.kind == "Role":
                    self.roles.setdefault(key, obj)
                elif obj.kind == "ClusterRole":
                    self.cluster_roles.setdefault(obj.name, obj)
                elif obj.kind == "RoleBinding":
                    self.role_bindings[obj.namespace].append(obj)
                elif obj.kind == "ClusterRoleBinding":
                    self.cluster_role_bindings.append(obj)
            elif obj.group == "external-secrets.io" and obj.kind == "ExternalSecret" \
                    and obj.api_version == "external-secrets.io/v1":
                self.add_external_secret(obj)

    def add_producer(self, ns, name, producer, keys):
        self.producers[(ns, name)].append((producer, keys))
        self.namespaces_by_secret[name].add(ns)

    def add_external_secret(self, es):
        spec = es.body.get("spec") if isinstance(es.body.get("spec"), dict) else {}
        target = spec.get("target") if isinstance(spec.get("target"), dict) else {}
        if target.get("creationPolicy") == "None":
            return  # ESO only updates an existing Secret; it produces nothing itself
        name = target.get("name") or es.name
        keys = set()
        for item in spec.get("data") or []:
            if isinstance(item, dict) and isinstance(item.get("secretKey"), str):
                keys.add(item["secretKey"])
        any_key = bool(spec.get("dataFrom"))
        template = target.get("template") if isinstance(target.get("template"), dict) else None
        if template is not None:
            if template.get("templateFrom"):
                any_key = True
            template_keys = set(map(str, template.get("data") or {}))
            keys = template_keys | keys if template.get("mergePolicy") == "Merge" else template_keys
        self.add_producer(es.namespace, name, f"ExternalSecret {es.namespace}/{es.name}", None if any_key else keys)

    def secret_producer(self, ns, name, key):
        """(producer, None) when something in `ns` produces Secret `name` with `key`, else (None, problem)."""
        candidates = self.producers.get((ns, name), [])
        for producer, keys in candidates:
            if keys is None or key in keys:
                return producer, None
        if candidates:
            described = "; ".join(
                f"{producer} has keys {', '.join(sorted(keys)) or '(none)'}" for producer, keys in candidates)
            return None, f"secret `{name}` in namespace `{ns}` has no key `{key}` ({described})"
        elsewhere = sorted(self.namespaces_by_secret.get(name, set()) - {ns}, key=str)
        if elsewhere:
            return None, (f"secret `{name}` is produced only in namespace(s) "
                          f"{', '.join(f'`{n}`' for n in elsewhere)}, but Argo mounts it from the "
                          f"workflow's namespace `{ns}`")
        return None, f"no Secret or ExternalSecret in namespace `{ns}` produces secret `{name}`"

    def granted_verbs(self, ns, account):
        key = (ns, account)
        if key not in self._verbs:
            verbs = set()
            for binding in self.role_bindings.get(ns, ()):
                if subject_matches(binding, ns, account, binding.namespace):
                    verbs |= self.role_verbs(binding, ns)
            for binding in self.cluster_role_bindings:
                if subject_matches(binding, ns, account, None):
                    verbs |= self.role_verbs(binding, None)
            self._verbs[key] = verbs
        return self._verbs[key]

    def role_verbs(self, binding, ns):
        ref = binding.body.get("roleRef") if isinstance(binding.body.get("roleRef"), dict) else {}
        if ref.get("kind") == "Role" and ns is not None:
            role = self.roles.get((ns, ref.get("name")))
        elif ref.get("kind") == "ClusterRole":
            role = self.cluster_roles.get(ref.get("name"))
        else:
            role = None
        verbs = set()
        rules = role.body.get("rules") if role is not None else None
        for rule in rules if isinstance(rules, list) else ():
            if not isinstance(rule, dict) or rule.get("resourceNames"):
                continue  # create cannot be limited to names: such a rule does not grant it
            groups = rule.get("apiGroups") or []
            resources = rule.get("resources") or []
            if ("argoproj.io" in groups or "*" in groups) and \
                    ("workflowtaskresults" in resources or "*" in resources):
                rule_verbs = set(rule.get("verbs") or [])
                verbs |= {"create", "patch"} if "*" in rule_verbs else rule_verbs
        return verbs


def subject_matches(binding, ns, account, binding_namespace):
    for subject in binding.body.get("subjects") or []:
        if not isinstance(subject, dict):
            continue
        kind, name = subject.get("kind"), subject.get("name")
        if kind == "ServiceAccount" and name == account and (subject.get("namespace") or binding_namespace) == ns:
            return True
        if kind == "Group" and name in ("system:serviceaccounts", f"system:serviceaccounts:{ns}",
                                        "system:authenticated"):
            return True
        if kind == "User" and name == f"system:serviceaccount:{ns}:{account}":
            return True
    return False


# kubernetes-validate's own CLI main(), run with the argv we pass. Its per-document work re-reads the
# schema files and lists the schema directory each time and parses with the pure-Python YAML loader; the
# three patches below memoise the first two (pure functions of the installed package) and give it the
# libyaml-backed loader (same YAML 1.1 results; our temp file is JSON anyway). Output is byte-identical
# and about 15 times faster (0.4 ms instead of 11 ms a document).
KUBERNETES_VALIDATE_MAIN = r"""
import functools, sys
import yaml
import kubernetes_validate.utils as utils
for name in ("schema_contents", "all_versions"):
    if hasattr(utils, name):
        setattr(utils, name, functools.lru_cache(maxsize=None)(getattr(utils, name)))
yaml.SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
from kubernetes_validate.__main__ import main
sys.argv[0] = "kubernetes-validate"
sys.exit(main())
"""


def supported_kube_version(version):
    import kubernetes_validate.utils as utils
    wanted = utils.major_minor(version.lstrip("v"))
    known = {utils.major_minor(v) for v in utils.all_versions()}
    if wanted not in known:
        raise UsageError(f"--kube-version: `{version}` is not known to kubernetes-validate, "
                         f"expected one of {', '.join(sorted(known, key=lambda v: tuple(map(int, v.split('.')))))}")


# ------------------------------------------------------------------------------------------------ CLI


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="validate_stream.py",
        description="Check a generated multi-document YAML stream offline; print a JSON report. "
                    "Exit 0 ok, 1 problems found, 2 usage or unparseable input.")
    parser.add_argument("--argo-version", action="append", dest="argo_versions", metavar="X.Y",
                        help="target Argo Workflows version, repeatable (default 3.7): 3.x checks against "
                             "the v3.7.18 JSON schema, 4.x against v4.1.2")
    parser.add_argument("--controller-namespace", default="argo-workflows")
    parser.add_argument("--configmap-name", default=DEFAULT_REPO_CONFIGMAP,
                        help="name of the repositories ConfigMap (default artifact-repositories)")
    parser.add_argument("--kube-version", default="1.33.0")
    parser.add_argument("--default-namespace", default="default",
                        help="namespace of namespaced objects that name none (default: default)")
    parser.add_argument("--schemas", default=None,
                        help="directory of upstream schemas (default fixtures/upstream/schemas)")
    parser.add_argument("file", help="the stream, or - for stdin")
    args = parser.parse_args(argv)  # argparse itself exits 2 on bad usage
    args.argo_versions = sorted({parse_argo_version(v) for v in (args.argo_versions or ["3.7"])})
    if args.schemas is None:
        args.schemas = DEFAULT_SCHEMAS
    if not os.path.isdir(args.schemas):
        raise UsageError(f"--schemas: `{args.schemas}` is not a directory")
    if not DNS1123_LABEL.match(args.controller_namespace):
        raise UsageError(f"--controller-namespace: `{args.controller_namespace}` is not a namespace name")
    supported_kube_version(args.kube_version)
    return args


def read_stream(path):
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read: {e}")


def validate_text(text, args):
    """The report for a stream's text; UsageError when it is not YAML."""
    try:
        documents = load_documents(text)
    except yaml.YAMLError as e:
        raise UsageError(f"not a YAML stream: {short(str(e), 400)}")
    return Checker(args).run(documents)


def main(argv=None):
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        report = validate_text(read_stream(args.file), args)
    except UsageError as e:
        print(f"validate_stream.py: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader that stopped early (`| head`) is not a failure of the check.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK if report["ok"] else EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
