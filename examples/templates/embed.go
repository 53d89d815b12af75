package templates

import "embed"

// FS is this templates directory: one directory per template plus the
// _buckets library (the Go files in it are not templates and are skipped by
// the importer). Use it with catalog.SyncFS.
//
//go:embed all:*
var FS embed.FS
