// Package config loads lxcbot's settings from the environment, from files
// named by <NAME>_FILE, and from the optional YAML file named by LXCBOT_CONFIG,
// and validates them with errors that name the offending setting.
package config
