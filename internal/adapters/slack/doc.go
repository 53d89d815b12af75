// Package slack is lxcbot's Slack adapter: it verifies and acknowledges
// slash commands, interactions and events (over HTTPS or Socket Mode),
// hands them to the platform-neutral command router, and renders the
// router's responses as Block Kit messages, modals, file uploads and job
// cards edited in place.
package slack
