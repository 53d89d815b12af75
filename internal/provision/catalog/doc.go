// Package catalog reads and writes lxcbot's template catalog in its on-disk
// directory format, and imports it into the store.
//
// A templates directory holds one directory per template plus an optional
// package-bucket library:
//
//	<templates-dir>/
//	  _buckets/<bucket>.<apt|npm|pip|custom>       library buckets, shared by templates
//	  <template>/
//	    template.conf                              bash-style KEY=VALUE settings
//	    container-configs/scripts/NN-name.sh       setup scripts, run in ascending NN
//	    container-configs/scripts/NN-name.sh.disabled   a disabled script
//	    container-configs/files/<f>                a managed file's content
//	    container-configs/files/<f>.path           the directory <f> is written into
//	    container-configs/files/<f>.policy         replace, default (if missing) or backup
//	    container-configs/files/<f>.mode           optional octal permissions, e.g. 0755
//	    container-configs/packages/<bucket>.<apt|npm|pip|custom>
//
// Directory entries whose names start with "_" or "." are not templates.
// Files named .gitkeep are ignored everywhere.
//
// # template.conf
//
// Keys: TEMPLATE_APP, TEMPLATE_DESCRIPTION, TEMPLATE_TAGS (";"-separated),
// TEMPLATE_CPU (1), TEMPLATE_RAM (MiB, 512), TEMPLATE_SWAP (MiB, 512),
// TEMPLATE_DISK (GiB, 8), TEMPLATE_OS (debian) and TEMPLATE_VERSION (12),
// which give the OS template "<os>-<version>-standard", or TEMPLATE_OSTEMPLATE
// (a vztmpl volume or short name, overriding OS and version),
// TEMPLATE_STORAGE, TEMPLATE_BRIDGE, TEMPLATE_UNPRIVILEGED (1),
// TEMPLATE_NESTING, TEMPLATE_KEYCTL, TEMPLATE_FUSE, TEMPLATE_PACKAGES_STRICT
// (all 0), and TEMPLATE_BUCKETS (";"-separated names of library buckets the
// template installs besides its own). Booleans are 0/1, yes/no, true/false or
// on/off. Values follow bash word rules: single and double quotes, backslash
// escapes, ${NAME:-default} (NAME is looked up among the keys set earlier in
// the same file, never in the process environment), "export KEY=VALUE", and a
// "#" that starts a word begins a comment, so "TEMPLATE_UNPRIVILEGED=1 # keep"
// is 1. Command substitution and unquoted whitespace inside a value are
// errors. Unknown keys are kept in Template.Extra with a warning.
//
// # Scripts
//
// Every script is enabled unless its file name carries the suffix
// ".disabled" (10-setup.sh.disabled is the disabled script 10-setup.sh);
// Export writes disabled scripts back the same way. Scripts are ordered by
// their number, compared numerically, then by name. Other files in the
// scripts directory are ignored with a warning.
//
// # Packages and buckets
//
// A package file holds one package per line; blank lines and "#" comments
// (whole-line, or after whitespace at the end of a line) are skipped. The
// comment lines at the very top of a file are the bucket's description.
// Names are checked per manager and keep version pins in the manager's own
// syntax (nginx=1.22*, requests==2.31, express@4); anything else, shell
// metacharacters included, is an error. Custom lines are
// "name|check command|install command[|timeout seconds]" (timeout 300 by
// default). A "|" with a space on both sides, or a "||", belongs to the
// command, so "curl -fsSL URL | sh" is one install command.
//
// A template's own package file <bucket>.<manager> becomes the bucket
// "<template>.<bucket>": two templates may both have a base.apt with different
// content, so own buckets are scoped by template name. Library bucket names
// contain no dot, so the two kinds never collide. Bucket names are unique
// across managers: base.apt and base.pip in the same template (or in
// _buckets) are an error.
package catalog
