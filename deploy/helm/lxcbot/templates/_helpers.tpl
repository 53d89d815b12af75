{{/* Chart name, truncated to the 63 characters Kubernetes names allow. */}}
{{- define "lxcbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; the serve and worker objects append a suffix. */}}
{{- define "lxcbot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "lxcbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lxcbot.labels" -}}
helm.sh/chart: {{ include "lxcbot.chart" . }}
{{ include "lxcbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "lxcbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lxcbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lxcbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lxcbot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "lxcbot.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The Secret every pod reads: the operator's, or the chart's. */}}
{{- define "lxcbot.secretName" -}}
{{- .Values.existingSecret | default (include "lxcbot.fullname" .) }}
{{- end }}

{{/* Whether Socket Mode is on as far as the chart can tell. */}}
{{- define "lxcbot.socketMode" -}}
{{- if or .Values.slackSocketMode .Values.secrets.values.SLACK_APP_TOKEN }}true{{ end }}
{{- end }}

{{/* Whether a templates directory is mounted. */}}
{{- define "lxcbot.hasTemplates" -}}
{{- if or .Values.templates.files .Values.templates.existingConfigMap .Values.templates.existingClaim }}true{{ end }}
{{- end }}

{{/* ConfigMap key for a template file: paths hold "/", keys may not. */}}
{{- define "lxcbot.templateKey" -}}
{{- printf "t-%s" (sha256sum . | trunc 24) }}
{{- end }}

{{/* Annotations that restart pods when their configuration changes. */}}
{{- define "lxcbot.checksums" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/* Environment shared by serve and worker pods. */}}
{{- define "lxcbot.env" -}}
{{- if .Values.config }}
- name: LXCBOT_CONFIG
  value: /etc/lxcbot/config.yaml
{{- end }}
{{- if include "lxcbot.hasTemplates" . }}
- name: LXCBOT_TEMPLATES_DIR
  value: /etc/lxcbot/templates
{{- end }}
- name: LXCBOT_HTTP_ADDR
  value: {{ printf ":%d" (int .Values.service.port) | quote }}
{{- range $k, $v := .Values.env }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volumes shared by serve and worker pods. */}}
{{- define "lxcbot.volumes" -}}
- name: tmp
  emptyDir: {}
- name: secrets
  secret:
    secretName: {{ include "lxcbot.secretName" . }}
    defaultMode: 0440
{{- if .Values.config }}
- name: config
  configMap:
    name: {{ include "lxcbot.fullname" . }}
    items:
      - key: config.yaml
        path: config.yaml
{{- end }}
{{- if .Values.templates.existingClaim }}
- name: templates
  persistentVolumeClaim:
    claimName: {{ .Values.templates.existingClaim }}
    readOnly: true
{{- else if .Values.templates.existingConfigMap }}
- name: templates
  configMap:
    name: {{ .Values.templates.existingConfigMap }}
{{- else if .Values.templates.files }}
- name: templates
  configMap:
    name: {{ include "lxcbot.fullname" . }}-templates
    items:
    {{- range $path, $_ := .Values.templates.files }}
      - key: {{ include "lxcbot.templateKey" $path }}
        path: {{ $path }}
    {{- end }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "lxcbot.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: secrets
  mountPath: /run/secrets/lxcbot
  readOnly: true
{{- if .Values.config }}
- name: config
  mountPath: /etc/lxcbot/config.yaml
  subPath: config.yaml
  readOnly: true
{{- end }}
{{- if include "lxcbot.hasTemplates" . }}
- name: templates
  mountPath: /etc/lxcbot/templates
  readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}
