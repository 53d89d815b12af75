package discord

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Interaction types.
const (
	itPing         = 1
	itCommand      = 2
	itComponent    = 3
	itAutocomplete = 4
	itModalSubmit  = 5
)

// Interaction response types.
const (
	respPong           = 1
	respMessage        = 4
	respDeferred       = 5
	respDeferredUpdate = 6
	respUpdate         = 7
	respAutocomplete   = 8
	respModal          = 9
)

// Option types of application commands.
const (
	optSubcommand = 1
	optGroup      = 2
	optString     = 3
	optInteger    = 4
	optBoolean    = 5
)

// flagEphemeral makes a message visible to the requester only.
const flagEphemeral = 64

// interaction is an inbound interaction, decoded from the HTTP body or the
// gateway's INTERACTION_CREATE. Only what the adapter reads is declared.
type interaction struct {
	ID            string          `json:"id"`
	ApplicationID string          `json:"application_id"`
	Type          int             `json:"type"`
	Token         string          `json:"token"`
	GuildID       string          `json:"guild_id"`
	ChannelID     string          `json:"channel_id"`
	Member        *member         `json:"member"`
	User          *user           `json:"user"`
	Data          json.RawMessage `json:"data"`
	Message       *wireMessage    `json:"message"`
}

type member struct {
	User  *user    `json:"user"`
	Roles []string `json:"roles"`
	Nick  string   `json:"nick"`
}

type user struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	GlobalName string `json:"global_name"`
}

type wireMessage struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
	Flags     int    `json:"flags"`
}

type commandData struct {
	Name    string          `json:"name"`
	Options []commandOption `json:"options"`
}

type commandOption struct {
	Name    string          `json:"name"`
	Type    int             `json:"type"`
	Value   json.RawMessage `json:"value"`
	Options []commandOption `json:"options"`
	Focused bool            `json:"focused"`
}

type componentData struct {
	CustomID      string   `json:"custom_id"`
	ComponentType int      `json:"component_type"`
	Values        []string `json:"values"`
}

type modalData struct {
	CustomID   string `json:"custom_id"`
	Components []struct {
		Components []struct {
			CustomID string `json:"custom_id"`
			Value    string `json:"value"`
		} `json:"components"`
	} `json:"components"`
}

// who returns the user who acted, whether in a guild or a DM.
func (it *interaction) who() *user {
	if it.Member != nil && it.Member.User != nil {
		return it.Member.User
	}
	return it.User
}

// maxBody is the largest interaction accepted.
const maxBody = 1 << 20

// decodeInteraction parses and checks an interaction payload. It refuses
// anything the adapter could not act on safely, so later code may rely on
// the fields it needs being present.
func decodeInteraction(body []byte) (*interaction, error) {
	if len(body) > maxBody {
		return nil, errors.New("interaction larger than 1 MiB")
	}
	var it interaction
	if err := json.Unmarshal(body, &it); err != nil {
		return nil, fmt.Errorf("decoding interaction: %w", err)
	}
	if !isSnowflake(it.ID) {
		return nil, errors.New("interaction without a valid id")
	}
	if it.Type == itPing {
		return &it, nil
	}
	if it.Type < itCommand || it.Type > itModalSubmit {
		return nil, fmt.Errorf("unknown interaction type %d", it.Type)
	}
	if it.Token == "" || len(it.Token) > 500 {
		return nil, errors.New("interaction without a usable token")
	}
	if u := it.who(); u == nil || !isSnowflake(u.ID) {
		return nil, errors.New("interaction without a user")
	}
	if len(it.Data) == 0 || string(it.Data) == "null" {
		return nil, errors.New("interaction without data")
	}
	return &it, nil
}

func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// optionString renders an option value as command text: strings as they
// are, numbers without a fraction, booleans as true/false.
func optionString(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("decoding option value: %w", err)
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("option value of type %T", v)
}

// Outbound payloads.

type response struct {
	Type int `json:"type"`
	Data any `json:"data,omitempty"`
}

type outMessage struct {
	Content         *string        `json:"content,omitempty"`
	Embeds          []embed        `json:"embeds"`
	Components      []actionRow    `json:"components"`
	Flags           int            `json:"flags,omitempty"`
	AllowedMentions map[string]any `json:"allowed_mentions,omitempty"`
	Attachments     []attachment   `json:"attachments,omitempty"`

	files []fileUpload
}

type attachment struct {
	ID       int    `json:"id"`
	Filename string `json:"filename"`
}

type fileUpload struct {
	name    string
	content []byte
}

type embed struct {
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	Color       int          `json:"color,omitempty"`
	Fields      []embedField `json:"fields,omitempty"`
	Footer      *embedFooter `json:"footer,omitempty"`
}

type embedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

type embedFooter struct {
	Text string `json:"text"`
}

type actionRow struct {
	Type       int         `json:"type"` // 1
	Components []component `json:"components"`
}

type component struct {
	Type        int            `json:"type"` // 2 button, 3 select, 4 text input
	CustomID    string         `json:"custom_id,omitempty"`
	Label       string         `json:"label,omitempty"`
	Style       int            `json:"style,omitempty"`
	URL         string         `json:"url,omitempty"`
	Placeholder string         `json:"placeholder,omitempty"`
	Options     []selectOption `json:"options,omitempty"`
	Value       string         `json:"value,omitempty"`
	Required    *bool          `json:"required,omitempty"`
	MinLength   int            `json:"min_length,omitempty"`
	MaxLength   int            `json:"max_length,omitempty"`
}

type selectOption struct {
	Label       string `json:"label"`
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
	Default     bool   `json:"default,omitempty"`
}

type modal struct {
	CustomID   string      `json:"custom_id"`
	Title      string      `json:"title"`
	Components []actionRow `json:"components"`
}

type choice struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// sentMessage is the part of a message object the adapter reads back.
type sentMessage struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
}
