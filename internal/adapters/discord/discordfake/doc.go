// Package discordfake is a fake Discord for tests: a REST server under
// /api/v10/ that records every call and keeps the messages it is asked to
// create and edit, plus the Discord side of HTTP interactions (signing and
// delivering them to an endpoint with a generated Ed25519 key).
package discordfake
