package main

import (
	"context"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v3/workflow/artifacts/common"
)

// Argo v3: the driver's Save and ListObjects take no context.
func save(_ context.Context, d common.ArtifactDriver, p string, a *wfv1.Artifact) error {
	return d.Save(p, a)
}
func list(_ context.Context, d common.ArtifactDriver, a *wfv1.Artifact) ([]string, error) {
	return d.ListObjects(a)
}
