// argo-upload: the last leg of an Argo workflow, run with Argo's own code because no pod can run here.
//
// It reads the Pod the real workflow-controller created, takes the template the controller handed to
// the executor (env ARGO_TEMPLATE: the archive location it resolved from status.artifactRepositoryRef,
// keyFormat already substituted), and saves one output artifact exactly as the executor's
// saveArtifactFromFile and newDriverArt do (workflow/executor/executor.go): key = archive key +
// "/<artifact>.tgz", the artifact relocated into the archive location,
// driver from workflow/artifacts.NewDriver, credentials read from the Secrets the repository names in
// the workflow's namespace (the executor reads the same Secrets from volumes the controller mounts).
// Then it lists the key's directory with the same driver, and prints one JSON line.
//
//	argo-upload --kubeconfig K --namespace NS --pod POD [--artifact NAME] [--wrong-secret-key]
//
// Argo v4 builds this same file: scripts/e2e overlays it into e2e/go/argo4/upload with the import paths
// rewritten to /v4/ (go build -overlay); only compat.go differs (Save/ListObjects take a context).
package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	artifacts "github.com/argoproj/argo-workflows/v3/workflow/artifacts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// secrets implements workflow/artifacts/resource.Interface from the API server.
type secrets struct {
	c     kubernetes.Interface
	ns    string
	wrong string // a key whose value is corrupted (the wrong-credential control)
}

func (s secrets) GetSecret(ctx context.Context, name, key string) (string, error) {
	sec, err := s.c.CoreV1().Secrets(s.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	v, ok := sec.Data[key]
	if !ok {
		return "", fmt.Errorf("secret %s/%s has no key %q", s.ns, name, key)
	}
	if key == s.wrong {
		return string(v) + "-wrong", nil
	}
	return string(v), nil
}

func (s secrets) GetConfigMapKey(ctx context.Context, name, key string) (string, error) {
	cm, err := s.c.CoreV1().ConfigMaps(s.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return cm.Data[key], nil
}

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "argo-upload: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig")
	ns := flag.String("namespace", "", "the workflow's namespace")
	podName := flag.String("pod", "", "the pod the controller created")
	artName := flag.String("artifact", "", "output artifact (default: the template's first)")
	wrong := flag.Bool("wrong-secret-key", false, "corrupt the secret key (must fail the signature check)")
	flag.Parse()
	ctx := context.Background()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		die("%v", err)
	}
	c := kubernetes.NewForConfigOrDie(cfg)
	pod, err := c.CoreV1().Pods(*ns).Get(ctx, *podName, metav1.GetOptions{})
	if err != nil {
		die("%v", err)
	}
	var tmplJSON string
	for _, ctr := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, e := range ctr.Env {
			if e.Name == "ARGO_TEMPLATE" && e.Value != "" {
				tmplJSON = e.Value
			}
		}
	}
	if tmplJSON == "" {
		die("pod %s/%s has no ARGO_TEMPLATE env", *ns, *podName)
	}
	var tmpl wfv1.Template
	if err := json.Unmarshal([]byte(tmplJSON), &tmpl); err != nil {
		die("ARGO_TEMPLATE: %v", err)
	}
	if tmpl.ArchiveLocation == nil {
		die("the template has no archiveLocation")
	}
	var art *wfv1.Artifact
	for i := range tmpl.Outputs.Artifacts {
		if *artName == "" || tmpl.Outputs.Artifacts[i].Name == *artName {
			art = tmpl.Outputs.Artifacts[i].DeepCopy()
			break
		}
	}
	if art == nil {
		die("the template has no output artifact %q", *artName)
	}

	// The file the step would have produced, archived as the executor archives it (<name>.tgz).
	tmp, err := os.MkdirTemp("", "argo-upload-")
	if err != nil {
		die("%v", err)
	}
	defer os.RemoveAll(tmp)
	fileName := art.Name + ".tgz"
	local := filepath.Join(tmp, fileName)
	if err := writeTgz(local, path.Base(art.Path), []byte("artifact-repos e2e "+*ns+"/"+*podName+"\n")); err != nil {
		die("%v", err)
	}

	// executor.go saveArtifactFromFile.
	if !art.HasKey() {
		key, err := tmpl.ArchiveLocation.GetKey()
		if err != nil {
			die("archive key: %v", err)
		}
		loc, err := tmpl.ArchiveLocation.Get()
		if err != nil {
			die("archive location: %v", err)
		}
		if err := art.SetType(loc); err != nil {
			die("%v", err)
		}
		if err := art.SetKey(path.Join(key, fileName)); err != nil {
			die("%v", err)
		}
	}
	// executor.go newDriverArt: the artifact relocated into the template's archive location (endpoint,
	// bucket, credentials of the repository the controller resolved).
	art = art.DeepCopy()
	if err := art.Relocate(tmpl.ArchiveLocation); err != nil {
		die("relocate: %v", err)
	}
	if art.S3 == nil {
		die("the archive location is not S3")
	}
	ri := secrets{c: c, ns: *ns}
	if *wrong && art.S3.SecretKeySecret != nil {
		ri.wrong = art.S3.SecretKeySecret.Key
	}
	drv, err := artifacts.NewDriver(ctx, art, ri)
	if err != nil {
		die("driver: %v", err)
	}
	out := map[string]any{"endpoint": art.S3.Endpoint, "bucket": art.S3.Bucket, "key": art.S3.Key}
	if err := save(ctx, drv, local, art); err != nil {
		out["error"] = err.Error()
		json.NewEncoder(os.Stdout).Encode(out)
		os.Exit(3)
	}
	dir := art.DeepCopy()
	_ = dir.SetKey(path.Dir(art.S3.Key))
	listed, err := list(ctx, drv, dir)
	if err != nil {
		die("list: %v", err)
	}
	out["listed"] = listed
	json.NewEncoder(os.Stdout).Encode(out)
}

func writeTgz(dest, name string, body []byte) error {
	f, err := os.Create(dest)
	if err != nil {
		return err
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
		return err
	}
	if _, err := tw.Write(body); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}
