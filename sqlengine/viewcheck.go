package sqlengine

import (
	"context"
	"regexp"
	"sort"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// viewcheck.go: SQLite checks a view's query only when the view is used,
// so CREATE VIEW over a missing table, or DROP TABLE under a view,
// succeeds and leaves a view that no statement can read — and a schema the
// catalog could not load made every statement fail, on every node, for
// good. PostgreSQL refuses both (42P01 at CREATE VIEW, 2BP01 at DROP).
// pgraft does too: every schema change on the write connection runs inside
// a savepoint of its own, and when any view no longer prepares afterwards
// the change is rolled back and fails, alike on every node (the schema is
// the same everywhere at the same index).

// execDDL runs one schema-changing client statement under its own savepoint
// and checks the views after it: a view it broke fails it (views broken
// before, by an older build, do not). The caller holds the write
// connection, inside a transaction.
func (e *Engine) execDDL(ctx context.Context, q string, args []any, rows bool) (*ExecResult, error) {
	before, err := e.brokenViews()
	if err != nil {
		return nil, err
	}
	if _, err := e.wconn.ExecContext(ctx, "SAVEPOINT pgraft_ddl"); err != nil {
		return nil, err
	}
	var r *ExecResult
	if spec, ok, derr := translate.DecodeAlter(q); ok {
		// ALTER TABLE that SQLite cannot do itself (alter.go).
		if err = derr; err == nil {
			err = e.execAlter(ctx, spec)
		}
		if err == nil {
			r = &ExecResult{}
		}
	} else {
		r, err = execOn(ctx, e.wconn, q, args, rows)
	}
	if err == nil {
		err = e.claimRelations(ctx) // acl.go: owners of new relations, drops forgotten
	}
	if err == nil {
		var after map[string]error
		if after, err = e.brokenViews(); err == nil {
			for _, v := range sortedKeys(after) {
				if _, old := before[v]; !old {
					err = brokenViewError(q, v, after[v])
					break
				}
			}
		}
	}
	if e.wraw.AutoCommit() {
		return r, err // SQLite rolled the transaction back with the statement
	}
	if err != nil {
		if _, rerr := e.wconn.ExecContext(context.Background(), "ROLLBACK TO pgraft_ddl"); rerr != nil {
			return nil, rerr
		}
	}
	if _, rerr := e.wconn.ExecContext(context.Background(), "RELEASE pgraft_ddl"); rerr != nil {
		return nil, rerr
	}
	return r, err
}

// brokenViews prepares every view of the database and returns those that
// do not prepare, with why.
func (e *Engine) brokenViews() (map[string]error, error) {
	leave := e.wauth.enterInternalUncached()
	views, err := stepStrings(e.wraw, `SELECT name FROM sqlite_schema WHERE type = 'view' ORDER BY name`)
	leave()
	if err != nil {
		return nil, err
	}
	broken := map[string]error{}
	for _, v := range views {
		e.wauth.beginClient("")
		if _, perr := prepareInfo(e.wraw, `SELECT * FROM "`+strings.ReplaceAll(v, `"`, `""`)+`"`); perr != nil {
			broken[v] = mapConnError(e.wraw, perr)
		}
	}
	// Foreign keys: SQLite accepts one whose parent table is missing or has
	// no PRIMARY KEY or UNIQUE constraint on the referenced columns, and then
	// refuses every write to the child table ("foreign key mismatch"), on
	// every node. PostgreSQL refuses the DDL (42830, or 2BP01 for a DROP):
	// so does pgraft. Preparing an INSERT into the child (never run) shows it.
	leave = e.wauth.enterInternalUncached()
	children, err := stepStrings(e.wraw, `SELECT DISTINCT m.name FROM sqlite_schema m, pragma_foreign_key_list(m.name) f
		WHERE m.type = 'table' ORDER BY m.name`)
	leave()
	if err != nil {
		return nil, err
	}
	for _, c := range children {
		e.wauth.beginClient("")
		if _, perr := prepareInfo(e.wraw, `INSERT INTO "`+strings.ReplaceAll(c, `"`, `""`)+`" DEFAULT VALUES`); perr != nil {
			broken[fkKey+c] = mapConnError(e.wraw, perr)
		}
	}
	return broken, nil
}

// fkKey prefixes, among brokenViews' keys, a table whose foreign keys no
// longer hold (a view's name never starts with a space).
const fkKey = " fk "

func sortedKeys(m map[string]error) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var reDropObject = regexp.MustCompile(`(?i)^\s*DROP\s+(TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?"?([^"\s;]+)"?`)

// brokenViewError is the error of a schema change that left view broken
// (perr: why it no longer prepares): PostgreSQL's 2BP01 for a DROP that a
// view depends on, else what preparing the view said (42P01, 42703).
func brokenViewError(q, view string, perr error) error {
	if child, ok := strings.CutPrefix(view, fkKey); ok {
		return brokenFKError(q, child, perr)
	}
	if spec, ok, _ := translate.DecodeAlter(q); ok && spec != nil {
		for _, a := range spec.Actions {
			if a.Op == "drop_column" {
				return pgerror.New(pgerror.DependentObjectsStillExist,
					"cannot drop column %s of table %s because other objects depend on it", a.Column, spec.Table).
					WithDetail("view " + view + " depends on column " + a.Column + " of table " + spec.Table).
					WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
			}
		}
	}
	if m := reDropObject.FindStringSubmatch(q); m != nil {
		kind, name := strings.ToLower(m[1]), m[2]
		return pgerror.New(pgerror.DependentObjectsStillExist,
			"cannot drop %s %s because other objects depend on it", kind, name).
			WithDetail("view " + view + " depends on " + kind + " " + name).
			WithHint("Drop the dependent objects first.")
	}
	if pe := pgerror.As(perr); pe != nil && pe.Code != pgerror.InternalError {
		return pe
	}
	return pgerror.New(pgerror.UndefinedTable, "view %s would refer to a relation or column that does not exist: %v", view, perr)
}

var reFKMismatch = regexp.MustCompile(`foreign key mismatch - "[^"]*" referencing "([^"]*)"`)

// brokenFKError is the error of a schema change after which table child's
// foreign keys no longer hold (perr: why an INSERT into it does not
// prepare): 2BP01 for a DROP of what they reference, 42830 for a parent
// key that is not unique, else what preparing said (42P01: the parent is
// missing).
func brokenFKError(q, child string, perr error) error {
	if m := reDropObject.FindStringSubmatch(q); m != nil {
		kind, name := strings.ToLower(m[1]), m[2]
		return pgerror.New(pgerror.DependentObjectsStillExist,
			"cannot drop %s %s because other objects depend on it", kind, name).
			WithDetail("a foreign key of table " + child + " depends on " + kind + " " + name).
			WithHint("Drop the dependent objects first.")
	}
	if m := reFKMismatch.FindStringSubmatch(perr.Error()); m != nil {
		return pgerror.New(pgerror.InvalidForeignKey,
			"there is no unique constraint matching given keys for referenced table %q", m[1])
	}
	if pe := pgerror.As(perr); pe != nil && pe.Code != pgerror.InternalError {
		return pe
	}
	return pgerror.New(pgerror.InvalidForeignKey, "the foreign keys of table %s would not hold: %v", child, perr)
}
