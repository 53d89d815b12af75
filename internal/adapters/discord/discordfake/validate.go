package discordfake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"unicode/utf8"
)

var commandName = regexp.MustCompile(`^[-_\p{Ll}\p{N}]{1,32}$`)

type commandJSON struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Type        int           `json:"type"`
	Options     []commandJSON `json:"options"`
	Required    bool          `json:"required"`
	Choices     []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	} `json:"choices"`
	Autocomplete bool     `json:"autocomplete"`
	MinValue     *float64 `json:"min_value"`
	MaxValue     *float64 `json:"max_value"`
}

// ValidateCommands checks a bulk-overwrite body the way Discord does and
// returns the first problem, or "".
func ValidateCommands(body []byte) string {
	var cmds []commandJSON
	if err := json.Unmarshal(body, &cmds); err != nil {
		return "not a list of commands: " + err.Error()
	}
	if len(cmds) > 100 {
		return "more than 100 commands"
	}
	seen := map[string]bool{}
	for _, c := range cmds {
		if seen[c.Name] {
			return "duplicate command " + c.Name
		}
		seen[c.Name] = true
		if msg := checkCommand(c, 0); msg != "" {
			return c.Name + ": " + msg
		}
	}
	return ""
}

func checkCommand(c commandJSON, depth int) string {
	if !commandName.MatchString(c.Name) {
		return fmt.Sprintf("name %q is not 1-32 lower-case letters, digits, - or _", c.Name)
	}
	if n := utf8.RuneCountInString(c.Description); n < 1 || n > 100 {
		return fmt.Sprintf("%s: description has %d characters", c.Name, n)
	}
	if len(c.Options) > 25 {
		return fmt.Sprintf("%s: %d options, more than 25", c.Name, len(c.Options))
	}
	if len(c.Choices) > 25 {
		return fmt.Sprintf("%s: %d choices, more than 25", c.Name, len(c.Choices))
	}
	if c.Autocomplete && len(c.Choices) > 0 {
		return c.Name + ": autocomplete and choices together"
	}
	names := map[string]bool{}
	optional := false
	subs, values := 0, 0
	for _, o := range c.Options {
		if names[o.Name] {
			return c.Name + ": duplicate option " + o.Name
		}
		names[o.Name] = true
		switch o.Type {
		case 1, 2:
			subs++
			if o.Type == 2 && depth >= 1 || o.Type == 1 && depth >= 2 {
				return c.Name + ": nested too deep: " + o.Name
			}
		default:
			values++
			if o.Required && optional {
				return c.Name + ": required option " + o.Name + " after an optional one"
			}
			optional = optional || !o.Required
		}
		if msg := checkCommand(o, depth+1); msg != "" {
			return c.Name + " " + msg
		}
	}
	if subs > 0 && values > 0 {
		return c.Name + ": mixes subcommands and value options"
	}
	return ""
}

type component struct {
	Type       int         `json:"type"`
	CustomID   string      `json:"custom_id"`
	Label      string      `json:"label"`
	Style      int         `json:"style"`
	URL        string      `json:"url"`
	Options    []any       `json:"options"`
	Components []component `json:"components"`
	Value      string      `json:"value"`
}

func checkComponents(raw json.RawMessage) string {
	var rows []component
	if err := json.Unmarshal(raw, &rows); err != nil {
		return "invalid"
	}
	if len(rows) > 5 {
		return fmt.Sprintf("%d action rows, more than 5", len(rows))
	}
	for _, r := range rows {
		if r.Type != 1 || len(r.Components) == 0 || len(r.Components) > 5 {
			return "an action row holds 1 to 5 components"
		}
		for _, c := range r.Components {
			switch c.Type {
			case 2:
				if n := utf8.RuneCountInString(c.Label); n > 80 {
					return "button label longer than 80"
				}
				if c.Style == 5 {
					if c.URL == "" || c.CustomID != "" {
						return "a link button has a url and no custom_id"
					}
					continue
				}
			case 3:
				if len(r.Components) != 1 {
					return "a select must be alone in its row"
				}
				if len(c.Options) == 0 || len(c.Options) > 25 {
					return "a select has 1 to 25 options"
				}
			default:
				return fmt.Sprintf("component type %d not allowed in a message", c.Type)
			}
			if n := len(c.CustomID); n < 1 || n > 100 {
				return fmt.Sprintf("custom_id %q has %d characters", c.CustomID, n)
			}
		}
	}
	return ""
}

func checkModal(raw json.RawMessage) string {
	var m struct {
		Title      string      `json:"title"`
		CustomID   string      `json:"custom_id"`
		Components []component `json:"components"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return "modal: invalid"
	}
	if n := utf8.RuneCountInString(m.Title); n < 1 || n > 45 {
		return fmt.Sprintf("modal title has %d characters", n)
	}
	if n := len(m.CustomID); n < 1 || n > 100 {
		return "modal custom_id length"
	}
	if len(m.Components) < 1 || len(m.Components) > 5 {
		return fmt.Sprintf("modal has %d rows", len(m.Components))
	}
	for _, r := range m.Components {
		if r.Type != 1 || len(r.Components) != 1 || r.Components[0].Type != 4 {
			return "a modal row holds one text input"
		}
		in := r.Components[0]
		if n := utf8.RuneCountInString(in.Label); n < 1 || n > 45 {
			return fmt.Sprintf("text input label %q has %d characters", in.Label, n)
		}
		if utf8.RuneCountInString(in.Value) > 4000 || len(in.CustomID) < 1 || len(in.CustomID) > 100 {
			return "text input breaks a limit"
		}
	}
	return ""
}

// Modal is a modal as the adapter opened it.
type Modal struct {
	Title    string
	CustomID string
	Inputs   []ModalInput
}

// ModalInput is one text input of a modal.
type ModalInput struct {
	CustomID string
	Label    string
	Value    string
	Style    int
	Required bool
}

// ParseModal reads the data of a type 9 response.
func ParseModal(raw json.RawMessage) (Modal, error) {
	var m struct {
		Title      string `json:"title"`
		CustomID   string `json:"custom_id"`
		Components []struct {
			Components []struct {
				CustomID string `json:"custom_id"`
				Label    string `json:"label"`
				Value    string `json:"value"`
				Style    int    `json:"style"`
				Required bool   `json:"required"`
			} `json:"components"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return Modal{}, err
	}
	out := Modal{Title: m.Title, CustomID: m.CustomID}
	for _, r := range m.Components {
		for _, c := range r.Components {
			out.Inputs = append(out.Inputs, ModalInput(c))
		}
	}
	return out, nil
}

func customIDs(raw json.RawMessage) []string {
	var rows []component
	_ = json.Unmarshal(raw, &rows)
	var out []string
	for _, r := range rows {
		for _, c := range r.Components {
			if c.CustomID != "" {
				out = append(out, c.CustomID)
			}
		}
	}
	return out
}

// Button finds the custom id of the button labelled label in m's
// components, or "".
func (m Message) Button(label string) string {
	var rows []component
	_ = json.Unmarshal(m.Components, &rows)
	for _, r := range rows {
		for _, c := range r.Components {
			if c.Type == 2 && c.Label == label {
				return c.CustomID
			}
		}
	}
	return ""
}

// Buttons lists the labels of m's buttons.
func (m Message) Buttons() []string {
	var rows []component
	_ = json.Unmarshal(m.Components, &rows)
	var out []string
	for _, r := range rows {
		for _, c := range r.Components {
			if c.Type == 2 {
				out = append(out, c.Label)
			}
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
