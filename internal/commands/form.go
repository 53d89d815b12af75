package commands

// FieldKind says how a form field is entered.
type FieldKind string

// Field kinds.
const (
	FieldText      FieldKind = "text"
	FieldNumber    FieldKind = "number"
	FieldSelect    FieldKind = "select"
	FieldBool      FieldKind = "bool"
	FieldMultiline FieldKind = "multiline"
)

// Form is a form (modal) to open. State is opaque to adapters, returned
// unchanged in FormSubmission.State, and at most MaxFormState characters.
type Form struct {
	ID     string  `json:"id"`
	Title  string  `json:"title"` // ≤ MaxFormTitle
	Submit string  `json:"submit"`
	Fields []Field `json:"fields"`
	State  string  `json:"state,omitempty"`
}

// Field is one input of a form.
type Field struct {
	Name        string    `json:"name"`
	Label       string    `json:"label"` // ≤ MaxLabel
	Kind        FieldKind `json:"kind"`
	Required    bool      `json:"required,omitempty"`
	Default     string    `json:"default,omitempty"`
	Placeholder string    `json:"placeholder,omitempty"`
	// Options are the choices of a select field. When DependsOn is set they
	// are refreshed with Router.Options once the parent field has a value.
	Options   []Option `json:"options,omitempty"`
	DependsOn string   `json:"depends_on,omitempty"`
	Help      string   `json:"help,omitempty"`
	Min       *int     `json:"min,omitempty"`
	Max       *int     `json:"max,omitempty"`
}

// FormField returns the field named name, or nil.
func (f *Form) FormField(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	return nil
}
