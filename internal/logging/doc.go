// Package logging builds the process's structured logger from the configured
// level and format; every other package receives a *slog.Logger and never
// builds its own.
package logging
