{{/* Chart name, possibly overridden. */}}
{{- define "ferrymq-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name of the release's objects, at most 63 characters. */}}
{{- define "ferrymq-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "ferrymq-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ferrymq-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ferrymq
{{- end -}}

{{/* Labels that select the operator pods. */}}
{{- define "ferrymq-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ferrymq-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The operator's ServiceAccount name. */}}
{{- define "ferrymq-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ferrymq-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The operator image reference. */}}
{{- define "ferrymq-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion (toString .Values.image.tag)) -}}
{{- end -}}

{{/* The rules of the namespaced part of the operator's RBAC (the FerryMQ kinds and what a Cluster owns). */}}
{{- define "ferrymq-operator.namespacedRules" -}}
- apiGroups: [ferrymq.io]
  resources: [clusters, topics, consumergroups, users]
  verbs: [get, list, watch, update, patch]
- apiGroups: [ferrymq.io]
  resources: [clusters/status, topics/status, consumergroups/status, users/status]
  verbs: [get, update, patch]
- apiGroups: [ferrymq.io]
  resources: [clusters/finalizers, topics/finalizers, consumergroups/finalizers, users/finalizers]
  verbs: [update]
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [services, configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, delete]
# PVCs are created by the StatefulSets; the operator reads them, patches their size when spec.brokers.storage
# grows (volume expansion) and deletes those of a broker group removed by a scale-in.
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [get, list, watch, patch, delete]
# Secrets: a Cluster's generated credentials and its TLS Secret (read), a User's Secret for applications
# (written) and the Secret spec.secretRef names (read). Read with GETs, never cached.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, create, update, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, update, patch, delete]
{{- end -}}
