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
	return broken, nil
}

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
