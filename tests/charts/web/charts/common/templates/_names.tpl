{{- define "common.name" -}}
{{ .Chart.Name }}-common
{{- end }}
