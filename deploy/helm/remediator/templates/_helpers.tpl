{{/*
Names. Kubernetes names are at most 63 characters; suffixes are short, so the prefix
is cut at 50.
*/}}
{{- define "remediator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "remediator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Kubernetes recommended labels; "component" is added by the caller. */}}
{{- define "remediator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "remediator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: remediator
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "web"). */}}
{{- define "remediator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "remediator.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "remediator.componentLabels" -}}
{{ include "remediator.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "remediator.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Service names and the DNS names the API server and other pods use. */}}
{{- define "remediator.webService" -}}{{ include "remediator.fullname" . }}{{- end -}}
{{- define "remediator.admissionService" -}}{{ include "remediator.fullname" . }}-admission{{- end -}}
{{- define "remediator.webhookTlsSecret" -}}
{{- if .Values.webhook.tls.certManager.enabled -}}
{{ include "remediator.fullname" . }}-webhook-tls
{{- else -}}
{{ .Values.webhook.tls.existingSecret }}
{{- end -}}
{{- end -}}

{{- define "remediator.serviceDnsNames" -}}
{{- $ns := .root.Release.Namespace -}}
{{- $names := list -}}
{{- range .services -}}
{{- $names = concat $names (list . (printf "%s.%s" . $ns) (printf "%s.%s.svc" . $ns) (printf "%s.%s.svc.cluster.local" . $ns)) -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/*
The settings the chart works out itself; .Values.env wins over each of them.
*/}}
{{- define "remediator.env" -}}
{{- $web := include "remediator.webService" . -}}
{{- $services := list $web (include "remediator.admissionService" .) -}}
{{- $hosts := concat (list "localhost") (include "remediator.serviceDnsNames" (dict "root" . "services" $services) | fromJsonArray) -}}
{{- $tls := false -}}
{{- if .Values.ingress.enabled -}}
{{- $hosts = concat $hosts .Values.ingress.hosts -}}
{{- $tls = gt (len .Values.ingress.tls) 0 -}}
{{- end -}}
{{- $hosts = concat $hosts .Values.allowedHosts | uniq -}}
{{- $base := printf "http://%s.%s.svc" $web .Release.Namespace -}}
{{- if .Values.web.tlsSecret -}}
{{- $base = printf "https://%s.%s.svc" $web .Release.Namespace -}}
{{- end -}}
{{- if and .Values.ingress.enabled .Values.ingress.hosts -}}
{{- $base = printf "%s://%s" (ternary "https" "http" $tls) (first .Values.ingress.hosts) -}}
{{- end -}}
{{- $env := dict
  "PORT" "8000"
  "DATA_DIR" "/var/lib/remediator"
  "ALLOWED_HOSTS" (join "," $hosts)
  "BASE_URL" $base
  "PROMETHEUS_MULTIPROC_DIR" "/tmp/metrics"
  "DJANGO_SUPERUSER_USERNAME" "admin"
-}}
{{- if $tls -}}
{{- $_ := set $env "TRUST_PROXY_HEADERS" "true" -}}
{{- end -}}
{{- if .Values.clusterName -}}
{{- $_ := set $env "ADMISSION_CLUSTER_NAME" .Values.clusterName -}}
{{- end -}}
{{- range $key, $value := .Values.env -}}
{{- $_ := set $env $key (toString $value) -}}
{{- end -}}
{{- toJson $env -}}
{{- end -}}

{{/*
The pods' settings, lowest precedence first: the ConfigMap, existingSecret, the chart's
Secret (only what values set or generated). (dict "root" $ "config" NAME "secret" NAME)
*/}}
{{- define "remediator.envFrom" -}}
- configMapRef:
    name: {{ .config }}
{{- if .root.Values.existingSecret }}
- secretRef:
    name: {{ .root.Values.existingSecret }}
{{- end }}
- secretRef:
    name: {{ .secret }}
{{- end -}}

{{/* A checksum of what the pods read at start, so a change of values restarts them. */}}
{{- define "remediator.configChecksum" -}}
{{- toJson (list (include "remediator.env" .) .Values.existingSecret .Values.secrets .Values.database .Values.broker .Values.cache .Values.postgresql.enabled .Values.redis.enabled) | sha256sum -}}
{{- end -}}

{{/*
One Remediator pod spec.
(dict "root" $ "component" "web" "args" (list "web") "env" (list ...) "resources" {...}
      "dataVolume" true "tls" SECRET "http" true "restartPolicy" "Never" "hook" true
      "serviceAccountName" NAME "automountToken" false)
*/}}
{{- define "remediator.podSpec" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $fullname := include "remediator.fullname" $root -}}
{{- $sa := .serviceAccountName | default $values.serviceAccountName -}}
{{- with $values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- if $sa }}
serviceAccountName: {{ $sa }}
{{- end }}
automountServiceAccountToken: {{ .automountToken | default false }}
enableServiceLinks: false
securityContext:
  {{- toYaml $values.podSecurityContext | nindent 2 }}
{{- if .restartPolicy }}
restartPolicy: {{ .restartPolicy }}
{{- end }}
containers:
  - name: {{ .component }}
    image: {{ include "remediator.image" $root | quote }}
    imagePullPolicy: {{ $values.image.pullPolicy }}
    args:
      {{- toYaml .args | nindent 6 }}
    envFrom:
      {{- include "remediator.envFrom" (dict "root" $root "config" (ternary (printf "%s-migrate" $fullname) $fullname (.hook | default false)) "secret" (ternary (printf "%s-migrate" $fullname) $fullname (.hook | default false))) | nindent 6 }}
    {{- $env := .env | default list }}
    {{- if .tls }}
    {{- $env = concat $env (list (dict "name" "TLS_CERT_FILE" "value" "/etc/remediator/tls/tls.crt") (dict "name" "TLS_KEY_FILE" "value" "/etc/remediator/tls/tls.key")) }}
    {{- end }}
    {{- with $env }}
    env:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- if .http }}
    {{- $scheme := ternary "HTTPS" "HTTP" (not (empty .tls)) }}
    ports:
      - name: http
        containerPort: 8000
        protocol: TCP
    startupProbe:
      {{- include "remediator.probe" (dict "path" .startupPath "scheme" $scheme) | nindent 6 }}
      periodSeconds: 5
      timeoutSeconds: 3
      failureThreshold: 60
    readinessProbe:
      {{- include "remediator.probe" (dict "path" .readinessPath "scheme" $scheme) | nindent 6 }}
      periodSeconds: 5
      timeoutSeconds: 3
      failureThreshold: 3
    livenessProbe:
      {{- include "remediator.probe" (dict "path" "/healthz" "scheme" $scheme) | nindent 6 }}
      periodSeconds: 20
      timeoutSeconds: 5
      failureThreshold: 3
    {{- end }}
    resources:
      {{- toYaml .resources | nindent 6 }}
    securityContext:
      {{- toYaml $values.securityContext | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
      - name: data
        mountPath: /var/lib/remediator
      {{- if .tls }}
      - name: tls
        mountPath: /etc/remediator/tls
        readOnly: true
      {{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ $values.tmpSizeLimit }}
  {{- if and .dataVolume $values.dataVolume.existingClaim }}
  - name: data
    persistentVolumeClaim:
      claimName: {{ $values.dataVolume.existingClaim }}
  {{- else }}
  - name: data
    emptyDir:
      sizeLimit: {{ $values.dataVolume.sizeLimit }}
  {{- end }}
  {{- if .tls }}
  - name: tls
    secret:
      secretName: {{ .tls }}
  {{- end }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
An HTTP probe. The kubelet sends the pod's IP as Host, which Django's ALLOWED_HOSTS
refuses (400): the probes name localhost, which the chart always allows.
*/}}
{{- define "remediator.probe" -}}
httpGet:
  path: {{ .path }}
  port: http
  scheme: {{ .scheme }}
  httpHeaders:
    - name: Host
      value: localhost
{{- end -}}

{{/* Pod template metadata: labels and the config checksum. (dict "root" $ "component" c) */}}
{{- define "remediator.podMetadata" -}}
labels:
  {{- include "remediator.componentLabels" . | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include "remediator.configChecksum" .root }}
  {{- with .root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/*
Annotations of the migrate Job and its hook-scoped settings: before the release's
resources on install (after them when the bundled PostgreSQL must start first), before
the new pods on upgrade. (dict "root" $ "weight" "-10")
*/}}
{{- define "remediator.migrateHook" -}}
helm.sh/hook: {{ ternary "post-install,pre-upgrade" "pre-install,pre-upgrade" .root.Values.postgresql.enabled }}
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}
