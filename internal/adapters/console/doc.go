// Package console is the terminal chat adapter: it reads /lxc lines, runs
// them through the command router as the console user, and renders the
// neutral responses as plain text, with buttons as numbered choices, forms
// asked field by field and job progress printed live. With Script set it
// echoes its input so a session read from a file is a readable transcript.
package console
