// Package store keeps lxcbot's records in Postgres and is the only package that
// speaks to the database: it maps driver errors onto the domain errors of
// package provision and seals secrets with the keyring before they are stored.
package store
