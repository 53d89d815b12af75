package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExpand(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{"A": "alpha", "EMPTY": "", "B_2": "two"})
	for in, want := range map[string]string{
		"plain":               "plain",
		"${A}":                "alpha",
		"x-${A}-${B_2}-y":     "x-alpha-two-y",
		"${MISSING:-dflt}":    "dflt",
		"${EMPTY:-dflt}":      "dflt",
		"${A:-dflt}":          "alpha",
		"${EMPTY}":            "",
		"${MISSING:-}":        "",
		"${MISSING:-a:-b}":    "a:-b",
		"$A $ $$ $5":          "$A $ $$ $5",
		"$${A}":               "${A}",
		"cost: $$${A}":        "cost: $${A}",
		"${A}${A}":            "alphaalpha",
		"${MISSING:-${A}":     "${A",
		"unicode ✓ ${A} ✓":    "unicode ✓ alpha ✓",
		"trailing $":          "trailing $",
		"${A}}":               "alpha}",
		"${MISSING:-{braces}": "{braces",
	} {
		got, err := Expand(in, env)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for in, want := range map[string]string{
		"${MISSING}":   "${MISSING}: environment variable MISSING is not set",
		"${A":          "unterminated ${ at offset 0",
		"${}":          `"" is not a valid variable name`,
		"${1A}":        `"1A" is not a valid variable name`,
		"${A B}":       `"A B" is not a valid variable name`,
		"${A-default}": `"A-default" is not a valid variable name`,
	} {
		_, err := Expand(in, env)
		require.ErrorContains(t, err, want, in)
	}
}

func TestShieldRefsKeepsFlowMappingsParseable(t *testing.T) {
	t.Parallel()
	data := []byte("a: {x: ${A}, y: \"${B:-q}\"}\n# ${C} in a comment\nb: ${unterminated\n")
	shielded, r := shieldRefs(data)
	require.NotContains(t, string(shielded), "${A}")
	require.Contains(t, string(shielded), "${unterminated", "a reference that does not end on its line is left alone")
	require.Equal(t, strings.Count(string(data), "\n"), strings.Count(string(shielded), "\n"), "line numbers are kept")
	require.Equal(t, string(data), r.restore(string(shielded)))
}
