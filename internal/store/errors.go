package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lxcbot/lxcbot/internal/provision"
)

// dbError is a database failure translated into a domain error. It keeps no
// driver value, so nothing above the store can depend on pgx, and its text
// names a constraint or SQLSTATE but never the row's values.
type dbError struct {
	kind  error // one of provision.Err*, or nil for an unclassified failure
	text  string
	cause error // a non-driver cause worth matching, such as a context error
}

func (e *dbError) Error() string {
	switch {
	case e.kind == nil:
		return e.text
	case e.text == "":
		return e.kind.Error()
	}
	return e.text + ": " + e.kind.Error()
}

func (e *dbError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// wrapf maps err and says what was happening. A foreign key violation means a
// referenced row is missing (ErrNotFound).
func wrapf(err error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, mapErr(err, provision.ErrNotFound))...)
}

// wrapDeletef is wrapf for deletes, where a foreign key violation means the row
// is still referenced (ErrConflict).
func wrapDeletef(err error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, mapErr(err, provision.ErrConflict))...)
}

// mapErr is the one place where driver errors become domain errors.
func mapErr(err error, fkKind error) error {
	if err == nil {
		return nil
	}
	var de *dbError
	if errors.As(err, &de) {
		return err
	}
	for _, kind := range []error{provision.ErrNotFound, provision.ErrConflict, provision.ErrInvalid, provision.ErrUnavailable, provision.ErrForbidden} {
		if errors.Is(err, kind) {
			return err // already a domain error, e.g. from an InTx callback
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return provision.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return mapPgError(pgErr, fkKind)
	}
	for _, ctxErr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, ctxErr) {
			return &dbError{kind: provision.ErrUnavailable, text: "database call interrupted", cause: ctxErr}
		}
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return &dbError{kind: provision.ErrUnavailable, text: "database unreachable: " + err.Error()}
	}
	// Anything else (encoding or scanning failures, errors of an InTx
	// callback) keeps its text and identity. Values reaching the driver are
	// never plaintext secrets: those are sealed first.
	return &dbError{text: err.Error(), cause: err}
}

func mapPgError(e *pgconn.PgError, fkKind error) error {
	where := e.ConstraintName
	switch e.Code {
	case "23505": // unique_violation
		return &dbError{kind: provision.ErrConflict, text: "already exists (" + where + ")"}
	case "23503": // foreign_key_violation
		if fkKind == provision.ErrConflict {
			return &dbError{kind: provision.ErrConflict, text: "still in use (" + where + ")"}
		}
		return &dbError{kind: fkKind, text: "referenced row does not exist (" + where + ")"}
	case "23514": // check_violation
		return &dbError{kind: provision.ErrInvalid, text: "value not allowed (" + where + ")"}
	case "23502": // not_null_violation
		return &dbError{kind: provision.ErrInvalid, text: "missing value for " + e.ColumnName}
	case "22P02", "22023", "22003", "22001", "22007", "22008": // bad text representation, value, range, length, datetime
		// The server's message may quote the offending value; never echo it.
		return &dbError{kind: provision.ErrInvalid, text: "malformed value (SQLSTATE " + e.Code + ")"}
	case "40001", "40P01", "55P03": // serialization failure, deadlock, lock not available
		return &dbError{kind: provision.ErrUnavailable, text: "concurrent update, try again (SQLSTATE " + e.Code + ")"}
	case "57014": // query_canceled
		return &dbError{kind: provision.ErrUnavailable, text: "query cancelled (SQLSTATE 57014)"}
	}
	switch e.Code[:2] {
	case "08", "53", "57": // connection exception, insufficient resources, operator intervention
		return &dbError{kind: provision.ErrUnavailable, text: "database unavailable (SQLSTATE " + e.Code + ")"}
	}
	return &dbError{text: fmt.Sprintf("database error (SQLSTATE %s): %s", e.Code, e.Message)}
}
