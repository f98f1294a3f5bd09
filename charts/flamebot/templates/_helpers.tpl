{{/*
The chart name, or nameOverride.
*/}}
{{- define "flamebot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The fully qualified app name (63 characters at most: some Kubernetes name fields are
limited to this by the DNS naming spec). A release name that already contains the chart
name is used as it is.
*/}}
{{- define "flamebot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "flamebot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "flamebot.labels" -}}
helm.sh/chart: {{ include "flamebot.chart" . }}
{{ include "flamebot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels.
*/}}
{{- define "flamebot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flamebot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The name of the ServiceAccount to use.
*/}}
{{- define "flamebot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "flamebot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Where the Secret's keys are mounted as files.
*/}}
{{- define "flamebot.secretsDir" -}}
/etc/flamebot/secrets
{{- end }}

{{/*
The Secret key holding the webhook credential of auth.type.
*/}}
{{- define "flamebot.authSecretKey" -}}
{{- if eq .Values.auth.type "basic" }}webhook-password{{ else }}webhook-bearer-token{{ end }}
{{- end }}

{{/*
The name of the Secret mounted under flamebot.secretsDir.
*/}}
{{- define "flamebot.secretName" -}}
{{- default (include "flamebot.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
The data of the chart's Secret, as YAML (key: plain value). Empty when there is nothing to
store or when secrets.existingSecret is used. A webhook credential left empty is generated
once and then read back from the release's Secret on upgrades.
*/}}
{{- define "flamebot.secretData" -}}
{{- if not .Values.secrets.existingSecret }}
{{- $data := dict }}
{{- with .Values.secrets.slackToken }}{{ $_ := set $data "slack-token" . }}{{ end }}
{{- with .Values.secrets.pagerdutyRoutingKey }}{{ $_ := set $data "pagerduty-routing-key" . }}{{ end }}
{{- with .Values.secrets.pagerdutyApiToken }}{{ $_ := set $data "pagerduty-api-token" . }}{{ end }}
{{- with .Values.secrets.slackSigningSecret }}{{ $_ := set $data "slack-signing-secret" . }}{{ end }}
{{- if ne .Values.auth.type "none" }}
{{- $key := include "flamebot.authSecretKey" . }}
{{- $given := ternary .Values.secrets.webhookPassword .Values.secrets.webhookBearerToken (eq .Values.auth.type "basic") }}
{{- $current := (lookup "v1" "Secret" .Release.Namespace (include "flamebot.fullname" .)).data | default dict }}
{{- $credential := $given | default (get $current $key | b64dec) | default (randAlphaNum 32) }}
{{- $_ := set $data $key $credential }}
{{- end }}
{{- if $data }}
{{- toYaml $data }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The flamebot config file: .Values.config over the chart's defaults (listen on all
interfaces, store on the volume), with server.auth from .Values.auth.
*/}}
{{- define "flamebot.config" -}}
{{- $defaults := dict
      "server" (dict "host" "0.0.0.0" "port" 8080)
      "store" (dict "path" "/var/lib/flamebot/flamebot.db") }}
{{- $config := mergeOverwrite $defaults (deepCopy .Values.config) }}
{{- $secretsDir := include "flamebot.secretsDir" . }}
{{- if eq .Values.auth.type "bearer" }}
{{- $_ := set $config.server "auth" (dict "bearer_token_file" (printf "%s/webhook-bearer-token" $secretsDir)) }}
{{- else if eq .Values.auth.type "basic" }}
{{- $basic := dict "username" .Values.auth.username "password_file" (printf "%s/webhook-password" $secretsDir) }}
{{- $_ := set $config.server "auth" (dict "basic" $basic) }}
{{- end }}
{{- if not (isAbs (toString $config.store.path)) }}
{{- fail (printf "config.store.path must be an absolute path (the volume is mounted at its folder), got %q" (toString $config.store.path)) }}
{{- end }}
{{- toYaml $config }}
{{- end }}
