// Package commands is lxcbot's platform-neutral chat layer: it parses /lxc
// commands, button presses and form submissions into calls on the provisioning
// backend, authorises and audits each one in one place, and answers with
// neutral responses (blocks, buttons, forms, files) that every chat adapter
// renders natively.
package commands
