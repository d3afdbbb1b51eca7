package sqlengine

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// MapError turns an SQLite error into a *pgerror.Error with PostgreSQL's
// SQLSTATE and message shape. Errors that are already *pgerror.Error pass
// through; nil stays nil.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	if pe := pgerror.As(err); pe != nil {
		return pe
	}
	se, ok := asSQLiteError(err)
	if !ok {
		return err
	}
	msg := se.msg
	if code, text, ok := splitFuncError(msg); ok {
		e := &pgerror.Error{Code: code, Message: text}
		e.Message, e.Detail, e.Hint = splitDetail(text)
		return e
	}
	switch se.code {
	case sqlite3.ErrConstraint:
		return constraintError(se)
	case sqlite3.ErrInterrupt:
		return pgerror.New(pgerror.QueryCanceled, "canceling statement due to user request")
	case sqlite3.ErrTooBig:
		return pgerror.New(pgerror.ProgramLimitExceeded, "requested length too large").
			WithDetail(fmt.Sprintf("A value, row or statement would exceed %d bytes.", maxValueSize))
	case sqlite3.ErrMismatch:
		return pgerror.New(pgerror.DatatypeMismatch, "%s", msg)
	case sqlite3.ErrRange:
		return pgerror.New(pgerror.InvalidParameterValue, "%s", msg)
	case sqlite3.ErrReadonly:
		return pgerror.New(pgerror.ReadOnlySQLTransaction, "cannot execute this statement in a read-only transaction")
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return pgerror.New(pgerror.SerializationFailure, "could not serialize access: %s", msg)
	case sqlite3.ErrAuth:
		return authMessageError(msg)
	case sqlite3.ErrError:
		return genericError(msg)
	}
	// Another code with a message genericError knows (a statement
	// re-prepared after a concurrent schema change reports SQLITE_SCHEMA
	// with "no such table: t"): the message says what happened.
	if e := genericError(msg); pgerror.Code(e) != pgerror.SyntaxErrorOrAccessRule {
		return e
	}
	return err
}

var (
	reNoTable     = regexp.MustCompile(`no such table: (?:main\.)?(\S+)`)
	reNoColumn    = regexp.MustCompile(`no such column: (\S+)`)
	reTableExists = regexp.MustCompile(`(?:table|view) "?([^"\s]+)"? already exists`)
	reIndexExists = regexp.MustCompile(`index "?([^"\s]+)"? already exists`)
	reNoFunction  = regexp.MustCompile(`no such function: (\S+)`)
	reNoIndex     = regexp.MustCompile(`no such index: (\S+)`)
	reSyntax      = regexp.MustCompile(`near "([^"]*)": syntax error`)
	reDupColumn   = regexp.MustCompile(`duplicate column name: (\S+)`)
	reUniqueCols  = regexp.MustCompile(`UNIQUE constraint failed: (.+)`)
	// reUniqueExprIndex: SQLite's words for a unique index on expressions.
	reUniqueExprIndex = regexp.MustCompile(`UNIQUE constraint failed: index '(.+)'`)
	reNotNullCol      = regexp.MustCompile(`NOT NULL constraint failed: (\S+)`)
	reCheckName       = regexp.MustCompile(`CHECK constraint failed: (.+)`)
	reAmbiguousCol    = regexp.MustCompile(`ambiguous column name: (\S+)`)
	reNameTaken       = regexp.MustCompile(`there is already another table or index with this name: (\S+)`)
	reNoView          = regexp.MustCompile(`no such view: (?:main\.)?(\S+)`)
	reCircularView    = regexp.MustCompile(`view (\S+) is circularly defined`)
	reViewWrite       = regexp.MustCompile(`cannot modify (\S+) because it is a view`)
	reValueCount      = regexp.MustCompile(`^(\d+) values for (\d+) columns`)
)

var (
	reAuthRead     = regexp.MustCompile(`access to (\S+) is prohibited`)
	reAuthFunction = regexp.MustCompile(`not authorized to use function: (\S+)`)
)

// authMessageError maps an authorizer refusal by SQLite's message alone,
// where the connection's own record of it (mapConnError) is out of reach:
// "access to [db.]table.column is prohibited" for a read, "not authorized to
// use function: name", and "not authorized" for anything else.
func authMessageError(msg string) error {
	if m := reAuthRead.FindStringSubmatch(msg); m != nil {
		parts := strings.Split(m[1], ".")
		table := parts[0]
		if len(parts) > 2 {
			table = parts[1]
		}
		return authError(refusal{kind: refusedRelation, name: table})
	}
	if m := reAuthFunction.FindStringSubmatch(msg); m != nil {
		return authError(refusal{kind: refusedFunction, name: strings.ToLower(m[1])})
	}
	return pgerror.New(pgerror.InsufficientPrivilege, "permission denied")
}

func genericError(msg string) error {
	if m := reAuthFunction.FindStringSubmatch(msg); m != nil {
		// SQLite reports a refused function as SQLITE_ERROR, not SQLITE_AUTH.
		return authError(refusal{kind: refusedFunction, name: strings.ToLower(m[1])})
	}
	if e := limitError(msg); e != nil {
		return e
	}
	if m := reNoTable.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", m[1])
	}
	if m := reNoColumn.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.UndefinedColumn, "column %q does not exist", lastPart(m[1]))
	}
	if m := reTableExists.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.DuplicateTable, "relation %q already exists", m[1])
	}
	if m := reIndexExists.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.DuplicateTable, "relation %q already exists", m[1])
	}
	if m := reNoIndex.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.UndefinedObject, "index %q does not exist", m[1])
	}
	if m := reNoFunction.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.UndefinedFunction, "function %s does not exist", m[1])
	}
	if m := reDupColumn.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.DuplicateColumn, "column %q specified more than once", m[1])
	}
	if m := reNameTaken.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.DuplicateTable, "relation %q already exists", m[1])
	}
	if m := reNoView.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.UndefinedTable, "view %q does not exist", m[1])
	}
	if m := reCircularView.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.InvalidObjectDefinition, "infinite recursion detected in rules for relation %q", m[1])
	}
	if m := reValueCount.FindStringSubmatch(msg); m != nil {
		more := "more expressions than target columns"
		if len(m[1]) < len(m[2]) || len(m[1]) == len(m[2]) && m[1] < m[2] {
			more = "more target columns than expressions"
		}
		return pgerror.New(pgerror.SyntaxError, "INSERT has %s", more)
	}
	if m := reViewWrite.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.FeatureNotSupported, "cannot change view %q: writing through a view is not supported by pgraft", m[1])
	}
	if m := reAmbiguousCol.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.AmbiguousColumn, "column reference %q is ambiguous", lastPart(m[1]))
	}
	if m := reSyntax.FindStringSubmatch(msg); m != nil {
		return pgerror.New(pgerror.SyntaxError, "syntax error at or near %q", m[1])
	}
	if strings.Contains(msg, "no such savepoint") {
		return pgerror.New(pgerror.InvalidSavepointSpecification, "savepoint does not exist")
	}
	if strings.Contains(msg, "misuse of aggregate") || strings.Contains(msg, "must appear in the GROUP BY") {
		return pgerror.New(pgerror.GroupingError, "%s", msg)
	}
	if strings.Contains(msg, "integer overflow") {
		return pgerror.New(pgerror.NumericValueOutOfRange, "bigint out of range")
	}
	return pgerror.New(pgerror.SyntaxErrorOrAccessRule, "%s", msg)
}

// limitError maps SQLite's complaints about its run-time limits
// (sqliteLimits) to PostgreSQL's program-limit class; nil for any other
// message. PostgreSQL has the depth limit; the others are SQLite's own, and
// 54000 says so without pretending to be a syntax error.
func limitError(msg string) *pgerror.Error {
	switch {
	case strings.Contains(msg, "Expression tree is too large"), strings.Contains(msg, "parser stack overflow"):
		return translate.StackDepthError()
	case strings.Contains(msg, "too many arguments on function"):
		return pgerror.New(pgerror.TooManyArguments, "cannot pass more than %d arguments to a function", 1000)
	case strings.Contains(msg, "too many columns"):
		return pgerror.New(pgerror.TooManyColumns, "%s", msg)
	case strings.Contains(msg, "variable number must be between"), strings.Contains(msg, "too many SQL variables"):
		return pgerror.New(pgerror.ProgramLimitExceeded, "too many parameters: at most 32766 are supported")
	case strings.Contains(msg, "too many terms in compound SELECT"),
		strings.Contains(msg, "tables in a join"),
		strings.Contains(msg, "too many levels of trigger recursion"),
		strings.Contains(msg, "pattern too complex"),
		strings.Contains(msg, "too many FROM clause terms"):
		return pgerror.New(pgerror.ProgramLimitExceeded, "%s", msg)
	}
	return nil
}

func lastPart(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func constraintError(se *prepareError) error {
	msg := se.msg
	switch se.ext {
	case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
		e := pgerror.New(pgerror.UniqueViolation, "duplicate key value violates unique constraint")
		if m := reUniqueExprIndex.FindStringSubmatch(msg); m != nil {
			// A unique index on expressions: SQLite names the index, not
			// columns (PostgreSQL's DETAIL shows the expressions' values,
			// which pgraft does not compute here).
			e.Constraint = m[1]
			e.Message = "duplicate key value violates unique constraint \"" + m[1] + "\""
			return e
		}
		if m := reUniqueCols.FindStringSubmatch(msg); m != nil {
			table, cols := splitColumns(m[1])
			e.Table = table
			e.Constraint = table + "_" + strings.Join(cols, "_") + "_key"
			e.Message = "duplicate key value violates unique constraint \"" + e.Constraint + "\""
			e.Detail = "Key (" + strings.Join(cols, ", ") + ") already exists."
		}
		return e
	case sqlite3.ErrConstraintNotNull:
		e := pgerror.New(pgerror.NotNullViolation, "null value violates not-null constraint")
		if m := reNotNullCol.FindStringSubmatch(msg); m != nil {
			table, cols := splitColumns(m[1])
			e.Table, e.Column = table, cols[0]
			e.Message = "null value in column \"" + cols[0] + "\" of relation \"" + table + "\" violates not-null constraint"
		}
		return e
	case sqlite3.ErrConstraintForeignKey:
		return pgerror.New(pgerror.ForeignKeyViolation, "insert or update violates foreign key constraint")
	case sqlite3.ErrConstraintCheck:
		e := pgerror.New(pgerror.CheckViolation, "new row violates check constraint")
		if m := reCheckName.FindStringSubmatch(msg); m != nil && strings.HasPrefix(m[1], translate.RangeCheckPrefix) {
			typ := strings.TrimPrefix(m[1], translate.RangeCheckPrefix)
			if strings.HasPrefix(typ, "int2_") {
				return pgerror.New(pgerror.NumericValueOutOfRange, "smallint out of range")
			}
			return pgerror.New(pgerror.NumericValueOutOfRange, "integer out of range")
		}
		if m := reCheckName.FindStringSubmatch(msg); m != nil {
			e.Constraint = m[1]
			e.Message = "new row violates check constraint \"" + m[1] + "\""
		}
		return e
	}
	if strings.Contains(msg, "FOREIGN KEY constraint failed") {
		// ON DELETE/UPDATE RESTRICT: SQLite raises it from the action's
		// trigger, without the foreign-key extended code.
		return pgerror.New(pgerror.ForeignKeyViolation, "update or delete violates foreign key constraint")
	}
	return pgerror.New(pgerror.IntegrityConstraintViolation, "%s", msg)
}

// splitColumns splits "t.a, t.b" into "t" and ["a", "b"].
func splitColumns(s string) (string, []string) {
	var table string
	var cols []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if i := strings.IndexByte(part, '.'); i >= 0 {
			table = part[:i]
			part = part[i+1:]
		}
		cols = append(cols, part)
	}
	if len(cols) == 0 {
		cols = []string{""}
	}
	return table, cols
}

// isDataError reports whether err is a result of the statement (the same on
// every node) rather than a failure of this node to apply it. Only data
// errors are entry results; anything else is a fault of this node
// (fault.go) and stops apply until it clears.
func isDataError(err error) bool {
	se, ok := asSQLiteError(err)
	if !ok {
		return pgerror.As(err) != nil
	}
	if _, _, ok := splitFuncError(se.msg); ok {
		return true
	}
	switch se.code {
	case sqlite3.ErrError, sqlite3.ErrConstraint, sqlite3.ErrMismatch, sqlite3.ErrRange, sqlite3.ErrTooBig,
		sqlite3.ErrAuth: // the authorizer decides from the statement alone
		return true
	case sqlite3.ErrAuth:
		return true // the sandbox refused the statement, as it does on every node (authorizer.go)
	}
	return false
}

// asSQLiteError extracts an SQLite error, from go-sqlite3 or prepareInfo.
func asSQLiteError(err error) (*prepareError, bool) {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return &prepareError{code: se.Code, ext: se.ExtendedCode, msg: se.Error()}, true
	}
	var pe *prepareError
	if errors.As(err, &pe) {
		return pe, true
	}
	return nil, false
}
