// Package chattest drives a command router in tests the way a chat user
// does: commands, button presses and form submissions, with helpers to find
// a button in a reply, read all of its text and require it to succeed.
package chattest
