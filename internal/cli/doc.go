// Package cli is the lxcbot binary: it parses the command line, loads the
// configuration, runs one command and turns its outcome into output and an
// exit status. main only wires it to the process.
package cli
