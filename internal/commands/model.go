package commands

import (
	"time"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// RequestKind says what a user did.
type RequestKind int

// Request kinds.
const (
	KindCommand      RequestKind = iota + 1 // typed /lxc ...
	KindAction                              // pressed a button or picked from a select
	KindFormSubmit                          // submitted a form (modal)
	KindAutocomplete                        // is typing an option that offers choices
)

// Request is one inbound interaction, already verified and translated by an
// adapter. Nothing in it is trusted for authorisation except Principal and
// Groups, which the adapter took from the platform's signed envelope.
type Request struct {
	Principal provision.Principal
	Groups    []string // Slack user groups or Discord role ids of the principal
	Workspace string   // Slack team id, Discord guild id, "console"
	Channel   string
	Thread    string
	Platform  provision.Platform
	Kind      RequestKind
	// Text is everything after "/lxc" for KindCommand.
	Text string
	// Action is the pressed button or chosen option for KindAction.
	Action ActionPayload
	// Form is the submitted form for KindFormSubmit.
	Form FormSubmission
	// Focus is the option being typed for KindAutocomplete.
	Focus AutocompleteQuery
	// DeliveryID identifies the platform delivery (trigger, interaction or
	// event id) so a retried delivery does not act twice.
	DeliveryID string
	ReceivedAt time.Time
}

// ActionPayload is a button press or select choice. Value names the target
// and is never trusted: the router looks the target up again and authorises
// the presser, not the person who asked for the message.
type ActionPayload struct {
	ID    string
	Value string
}

// FormSubmission is a submitted form. State is the Form.State the form was
// opened with, returned unchanged by the adapter; it is not trusted either.
type FormSubmission struct {
	FormID string
	Values map[string]string
	State  string
}

// AutocompleteQuery is an option a user is typing. Command is the command
// name ("show", "template show"), Option the argument or option name ("ct",
// "template", "node") and Value what has been typed so far.
type AutocompleteQuery struct {
	Command string
	Option  string
	Value   string
}

// Visibility says who sees a response.
type Visibility int

// Visibilities.
const (
	Ephemeral Visibility = iota // only the requester (the default: safe)
	InChannel                   // everyone in the channel
)

// MarshalText names the visibility in golden files and logs.
func (v Visibility) MarshalText() ([]byte, error) {
	if v == InChannel {
		return []byte("in_channel"), nil
	}
	return []byte("ephemeral"), nil
}

// Response is what the core answers with. Adapters render it natively and
// never add behaviour of their own.
type Response struct {
	Visibility Visibility `json:"visibility"`
	// Replace asks the adapter to update the message the action came from
	// instead of posting a new one.
	Replace bool `json:"replace,omitempty"`
	// Thread asks the adapter to post into the job's thread.
	Thread bool    `json:"thread,omitempty"`
	Blocks []Block `json:"blocks,omitempty"`
	// Form, when set, asks the adapter to open a form (modal).
	Form *Form `json:"form,omitempty"`
	// FormErrors answers a form submission with per-field messages; the
	// adapter keeps the form open and shows them next to the fields.
	FormErrors map[string]string `json:"form_errors,omitempty"`
	// Files are attachments (long logs, exports). Content may be large.
	Files []File `json:"files,omitempty"`
	// Page describes pagination when the response is one page of many.
	Page *Page `json:"page,omitempty"`
	// Followups are further messages to post after this one, in order.
	Followups []Response `json:"followups,omitempty"`
	// Choices answer an autocomplete request.
	Choices []Option `json:"choices,omitempty"`
	// Outcome is how the request ended (for metrics and tests); the router
	// sets it, adapters do not render it.
	Outcome Outcome `json:"outcome,omitempty"`
	// Watch, when set, names a job whose progress the adapter should follow
	// with Router.Watch, editing this message and posting into its thread.
	Watch *Watch `json:"watch,omitempty"`
}

// Outcome is how a request ended; the audit log records the same value.
type Outcome string

// Outcomes.
const (
	OutcomeOK        Outcome = "ok"
	OutcomeDenied    Outcome = "denied"
	OutcomeUserError Outcome = "user_error"
	OutcomeError     Outcome = "error"
)

// Page is the position of a paginated response; the navigation buttons are
// part of the blocks.
type Page struct {
	Number int `json:"number"` // 1-based
	Total  int `json:"total"`
}

// Watch names a container job to follow.
type Watch struct {
	ContainerID string `json:"container_id"`
}

// File is an attachment.
type File struct {
	Name    string `json:"name"`
	Content []byte `json:"content"`
}

// BlockKind says what a block is.
type BlockKind string

// Block kinds.
const (
	BlockHeader   BlockKind = "header"   // Text: plain, one line
	BlockText     BlockKind = "text"     // Text: markdown-lite (*bold*, `code`, <url|label>)
	BlockFields   BlockKind = "fields"   // Fields: label/value pairs
	BlockSection  BlockKind = "section"  // Text with an Accessory button
	BlockDivider  BlockKind = "divider"  //
	BlockContext  BlockKind = "context"  // Text: small grey text
	BlockProgress BlockKind = "progress" // Percent and Text (label)
	BlockButtons  BlockKind = "buttons"  // Buttons (≤ MaxButtonsPerBlock)
	BlockSelect   BlockKind = "select"   // Select
	BlockCode     BlockKind = "code"     // Text: preformatted (≤ MaxCodeText)
)

// Block is one element of a message. Only the fields of its Kind are set.
type Block struct {
	Kind      BlockKind `json:"kind"`
	Text      string    `json:"text,omitempty"`
	Fields    []Pair    `json:"fields,omitempty"`
	Accessory *Button   `json:"accessory,omitempty"`
	Percent   int       `json:"percent,omitempty"`
	Buttons   []Button  `json:"buttons,omitempty"`
	Select    *Select   `json:"select,omitempty"`
}

// Pair is a label/value field.
type Pair struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// ButtonStyle colours a button.
type ButtonStyle string

// Button styles.
const (
	StyleDefault ButtonStyle = ""
	StylePrimary ButtonStyle = "primary"
	StyleDanger  ButtonStyle = "danger"
)

// Button is a clickable action. A button with URL set is a plain link and
// sends no action.
type Button struct {
	Label    string      `json:"label"`
	ActionID string      `json:"action_id,omitempty"`
	Value    string      `json:"value,omitempty"`
	URL      string      `json:"url,omitempty"`
	Style    ButtonStyle `json:"style,omitempty"`
	Confirm  *Confirm    `json:"confirm,omitempty"`
}

// Confirm is a yes/no question the adapter asks before sending the action
// (Slack's native confirm dialog, a Discord confirm step, y/N on the console).
type Confirm struct {
	Title        string `json:"title"`
	Text         string `json:"text"`
	ConfirmLabel string `json:"confirm_label"`
	DenyLabel    string `json:"deny_label"`
}

// Select is a drop-down; choosing sends ActionID with the option's Value.
type Select struct {
	ActionID    string   `json:"action_id"`
	Placeholder string   `json:"placeholder"`
	Options     []Option `json:"options"`
}

// Option is one choice of a select or an autocomplete answer.
type Option struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Limits every response respects so that it renders on both Slack and
// Discord; see Validate.
const (
	MaxButtonLabel     = 75   // Slack 75, Discord 80
	MaxButtonValue     = 2000 // Slack; Discord adapters map longer values to a stored key
	MaxOptions         = 25   // both
	MaxButtonsPerBlock = 5    // a Discord action row
	MaxSectionText     = 3000 // Slack section text
	MaxCodeText        = 2900 // code block text, leaving room for the fences
	MaxFields          = 10   // Slack fields per section
	MaxFieldText       = 1000 // Discord embed field value 1024; Slack 2000
	MaxBlocks          = 45   // Slack 50, leaving room for adapter chrome
	MaxFormTitle       = 24   // Slack modal title
	MaxFormFields      = 5    // Discord modal components
	MaxFormState       = 3000 // Slack private_metadata
	MaxConfirmText     = 300  // Slack confirm text
	MaxLabel           = 45   // Discord modal label
)
