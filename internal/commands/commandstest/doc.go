// Package commandstest holds test helpers for the chat command layer: a
// behaving in-memory Backend and the authorisation matrix, which any
// Backend (the real provisioning service included) can be run against.
package commandstest
