package main

import (
	"context"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/artifacts/common"
)

// Argo v4: the driver's Save and ListObjects take a context that must carry Argo's logger.
func save(ctx context.Context, d common.ArtifactDriver, p string, a *wfv1.Artifact) error {
	return d.Save(withLogger(ctx), p, a)
}
func list(ctx context.Context, d common.ArtifactDriver, a *wfv1.Artifact) ([]string, error) {
	return d.ListObjects(withLogger(ctx), a)
}

func withLogger(ctx context.Context) context.Context {
	return logging.WithLogger(ctx, logging.NewSlogLogger(logging.Info, logging.Text))
}
