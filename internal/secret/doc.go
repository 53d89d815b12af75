// Package secret holds the two ways lxcbot protects secrets: a string type that
// redacts itself wherever it is printed, marshalled or logged, and a keyring that
// seals secrets at rest with AES-256-GCM under rotatable, identified keys.
package secret
