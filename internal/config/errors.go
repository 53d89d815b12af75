package config

import "errors"

// Error is a configuration problem: a missing, malformed or contradictory
// setting. Setting names the environment variable or YAML path at fault
// ("LXCBOT_ENCRYPTION_KEY", "nodes[1].api_url"); Reason says what is wrong
// without repeating the value, which may be secret.
type Error struct {
	Setting string
	Reason  string
}

func (e *Error) Error() string { return e.Setting + ": " + e.Reason }

// IsConfigError reports whether err is, or wraps, a configuration *Error.
func IsConfigError(err error) bool {
	var ce *Error
	return errors.As(err, &ce)
}

func errorf(setting, reason string) *Error { return &Error{Setting: setting, Reason: reason} }
