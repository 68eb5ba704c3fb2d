{{/* Labels every object carries. Args: dict root component tenant registration. */}}
{{- define "ar.labels" -}}
labels:
  app.kubernetes.io/component: {{ .component }}
  app.kubernetes.io/instance: {{ .root.Release.Name }}
  app.kubernetes.io/managed-by: artifact-repos
  app.kubernetes.io/name: artifact-repos
  app.kubernetes.io/part-of: argo-workflows
{{- if .registration }}
  artifact-repos/registration: {{ .registration }}
{{- end }}
{{- if .tenant }}
  artifact-repos/tenant: {{ .tenant }}
{{- end }}
{{- end }}

{{/* One ArtifactRepository document. Args: dict b (bucket) endpoint secret. */}}
{{- define "ar.repository" -}}
archiveLogs: {{ if hasKey .b "archiveLogs" }}{{ .b.archiveLogs }}{{ else }}true{{ end }}
s3:
  endpoint: {{ .endpoint | default "s3.amazonaws.com" }}
  bucket: {{ .b.bucket }}
{{- if .b.region }}
  region: {{ .b.region }}
{{- end }}
  insecure: {{ .b.insecure | default false }}
{{- if .b.keyPrefix }}
  keyFormat: {{ trimSuffix "/" .b.keyPrefix }}/{{ "{{workflow.name}}/{{pod.name}}" }}
{{- end }}
  accessKeySecret:
    name: {{ .secret }}
    key: AWS_ACCESS_KEY_ID
  secretKeySecret:
    name: {{ .secret }}
    key: AWS_SECRET_ACCESS_KEY
{{- end }}

{{/* Registrations grouped by tenant, as a dict tenant -> list, in input order. */}}
{{- define "ar.byTenant" -}}
{{- $by := dict -}}
{{- range .Values.repoRegistrations -}}
{{- $_ := set $by .tenant (append (get $by .tenant | default list) .) -}}
{{- end -}}
{{- toJson $by -}}
{{- end }}
