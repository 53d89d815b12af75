// Package templates bundles lxcbot's example templates and package-bucket
// library, embedded so that the demo can import them without a checkout.
package templates
