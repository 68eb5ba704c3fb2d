package main

import (
	"context"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v3/workflow/artifacts/common"
	corev1 "k8s.io/api/core/v1"
)

// Argo v3: the driver's Save and ListObjects take no context.
func save(_ context.Context, d common.ArtifactDriver, p string, a *wfv1.Artifact) error { return d.Save(p, a) }
func list(_ context.Context, d common.ArtifactDriver, a *wfv1.Artifact) ([]string, error) {
	return d.ListObjects(a)
}


type corev1Container struct{ env [][2]string }

func toC(cs []corev1.Container) []corev1Container {
	var out []corev1Container
	for _, c := range cs {
		var env [][2]string
		for _, e := range c.Env {
			env = append(env, [2]string{e.Name, e.Value})
		}
		out = append(out, corev1Container{env: env})
	}
	return out
}
