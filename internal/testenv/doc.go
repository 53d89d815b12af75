// Package testenv starts throwaway Postgres and redis-server processes from the
// system binaries for tests, and makes sure they die with the test binary.
package testenv
