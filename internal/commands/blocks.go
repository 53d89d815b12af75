package commands

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// HeaderBlock is a one-line title.
func HeaderBlock(text string) Block { return Block{Kind: BlockHeader, Text: clip(text, 150)} }

// TextBlock is markdown-lite text. Callers with long text use TextBlocks.
func TextBlock(text string) Block { return Block{Kind: BlockText, Text: text} }

// TextBlocks splits text at line breaks into blocks of at most
// MaxSectionText characters each, so nothing is dropped.
func TextBlocks(text string) []Block {
	var out []Block
	for _, part := range splitText(text, MaxSectionText) {
		out = append(out, TextBlock(part))
	}
	return out
}

// ContextBlock is small grey text.
func ContextBlock(text string) Block { return Block{Kind: BlockContext, Text: text} }

// DividerBlock is a horizontal rule.
func DividerBlock() Block { return Block{Kind: BlockDivider} }

// FieldsBlock shows label/value pairs (at most MaxFields per block).
func FieldsBlock(pairs ...Pair) Block { return Block{Kind: BlockFields, Fields: pairs} }

// SectionBlock is text with a button beside it.
func SectionBlock(text string, accessory *Button) Block {
	return Block{Kind: BlockSection, Text: text, Accessory: accessory}
}

// ProgressBlock is a progress bar with a label.
func ProgressBlock(percent int, label string) Block {
	return Block{Kind: BlockProgress, Percent: max(0, min(100, percent)), Text: label}
}

// CodeBlock is preformatted text; content longer than MaxCodeText belongs
// in a File (see codeOrFile).
func CodeBlock(text string) Block { return Block{Kind: BlockCode, Text: text} }

// ButtonBlocks lays buttons out in rows of at most MaxButtonsPerBlock.
func ButtonBlocks(buttons ...Button) []Block {
	var out []Block
	for len(buttons) > 0 {
		n := min(len(buttons), MaxButtonsPerBlock)
		out = append(out, Block{Kind: BlockButtons, Buttons: buttons[:n:n]})
		buttons = buttons[n:]
	}
	return out
}

// SelectBlock is a drop-down.
func SelectBlock(s Select) Block { return Block{Kind: BlockSelect, Select: &s} }

// ProgressBar draws a text bar: ▓▓▓▓░░░░ 45%.
func ProgressBar(percent, width int) string {
	percent = max(0, min(100, percent))
	filled := percent * width / 100
	return strings.Repeat("▓", filled) + strings.Repeat("░", width-filled) + fmt.Sprintf(" %d%%", percent)
}

// codeOrFile shows short output inline and attaches long output as a file,
// never truncating it.
func codeOrFile(resp *Response, name, content string) {
	if content == "" {
		resp.Blocks = append(resp.Blocks, ContextBlock("(no output)"))
		return
	}
	if utf8.RuneCountInString(content) <= MaxCodeText && strings.Count(content, "\n") < 60 {
		resp.Blocks = append(resp.Blocks, CodeBlock(content))
		return
	}
	resp.Files = append(resp.Files, File{Name: name, Content: []byte(content)})
	resp.Blocks = append(resp.Blocks, ContextBlock(fmt.Sprintf("%d lines attached as %s", strings.Count(content, "\n")+1, name)))
}

// splitText cuts text into parts of at most n runes, at line breaks where
// possible.
func splitText(text string, n int) []string {
	var parts []string
	for utf8.RuneCountInString(text) > n {
		cut := runeOffset(text, n)
		if i := strings.LastIndexByte(text[:cut], '\n'); i > 0 {
			cut = i
		}
		parts = append(parts, text[:cut])
		text = strings.TrimPrefix(text[cut:], "\n")
	}
	return append(parts, text)
}

func runeOffset(s string, n int) int {
	i := 0
	for n > 0 && i < len(s) {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n--
	}
	return i
}

// clip shortens a label to n runes with an ellipsis (labels only; content
// is never clipped).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Validate reports the first way resp would break a platform limit; tests
// run it on every response the router produces.
func Validate(resp Response) error {
	if len(resp.Blocks) > MaxBlocks {
		return fmt.Errorf("%d blocks, more than %d", len(resp.Blocks), MaxBlocks)
	}
	checkButton := func(b Button) error {
		if n := utf8.RuneCountInString(b.Label); n == 0 || n > MaxButtonLabel {
			return fmt.Errorf("button label %q has %d characters", b.Label, n)
		}
		if len(b.Value) > MaxButtonValue {
			return fmt.Errorf("button %q value has %d bytes", b.Label, len(b.Value))
		}
		if b.ActionID == "" && b.URL == "" {
			return fmt.Errorf("button %q has neither action nor URL", b.Label)
		}
		if c := b.Confirm; c != nil && (utf8.RuneCountInString(c.Text) > MaxConfirmText || c.ConfirmLabel == "" || c.DenyLabel == "") {
			return fmt.Errorf("button %q confirm is incomplete or too long", b.Label)
		}
		return nil
	}
	for i, b := range resp.Blocks {
		switch b.Kind {
		case BlockText, BlockSection, BlockContext:
			if utf8.RuneCountInString(b.Text) > MaxSectionText {
				return fmt.Errorf("block %d: text has %d characters", i, utf8.RuneCountInString(b.Text))
			}
		case BlockCode:
			if utf8.RuneCountInString(b.Text) > MaxCodeText {
				return fmt.Errorf("block %d: code has %d characters", i, utf8.RuneCountInString(b.Text))
			}
		case BlockFields:
			if len(b.Fields) > MaxFields {
				return fmt.Errorf("block %d: %d fields", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				if utf8.RuneCountInString(f.Value) > MaxFieldText {
					return fmt.Errorf("block %d: field %s too long", i, f.Label)
				}
			}
		case BlockButtons:
			if len(b.Buttons) == 0 || len(b.Buttons) > MaxButtonsPerBlock {
				return fmt.Errorf("block %d: %d buttons", i, len(b.Buttons))
			}
			for _, btn := range b.Buttons {
				if err := checkButton(btn); err != nil {
					return fmt.Errorf("block %d: %w", i, err)
				}
			}
		case BlockSelect:
			if b.Select == nil || len(b.Select.Options) == 0 || len(b.Select.Options) > MaxOptions {
				return fmt.Errorf("block %d: select needs 1..%d options", i, MaxOptions)
			}
		}
		if b.Accessory != nil {
			if err := checkButton(*b.Accessory); err != nil {
				return fmt.Errorf("block %d: %w", i, err)
			}
		}
	}
	if f := resp.Form; f != nil {
		if n := utf8.RuneCountInString(f.Title); n == 0 || n > MaxFormTitle {
			return fmt.Errorf("form title %q has %d characters", f.Title, n)
		}
		if len(f.State) > MaxFormState {
			return fmt.Errorf("form state has %d bytes", len(f.State))
		}
		for _, fd := range f.Fields {
			if utf8.RuneCountInString(fd.Label) > MaxLabel || len(fd.Options) > MaxOptions {
				return fmt.Errorf("form field %s breaks a limit", fd.Name)
			}
		}
	}
	for _, f := range resp.Followups {
		if err := Validate(f); err != nil {
			return fmt.Errorf("followup: %w", err)
		}
	}
	return nil
}
