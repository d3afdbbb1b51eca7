package sqlengine

import (
	"context"
	"slices"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// alter_deps.go: what depends on a table's columns and keys (FOREIGN KEYs
// of other tables and of its own), and its indexes, for alter.go.

// dependents lists the FOREIGN KEYs that reference this table on columns
// that match: other tables' (children, which CASCADE drops by rebuilding
// them) and this table's own (self, by name), except those on column
// skip, which go with it.
func (p *alterPlan) dependents(ctx context.Context, match func(refCols []string) bool, skip string) (children []childFK, self []string, err error) {
	children, err = p.e.referencingFKs(ctx, p.table, match, p.edit)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range p.edit.constraints() {
		if c.kind != 'f' || !strings.EqualFold(c.refTable, p.table) || skip != "" && containsFold(c.cols, skip) {
			continue
		}
		ref := c.refCols
		if ref == nil {
			ref = p.edit.primaryKey()
		}
		if match(ref) {
			self = append(self, c.pgName)
		}
	}
	return children, self, nil
}

// dropSelf drops this table's own constraints by name.
func (p *alterPlan) dropSelf(names []string) {
	for _, n := range names {
		if c, ok := p.edit.constraint(n); ok {
			p.edit.removeConstraint(c.ddlConstraint)
		}
	}
}

// dependError is PostgreSQL's refusal to drop what something depends on.
func dependError(what, detail string) error {
	return pgerror.New(pgerror.DependentObjectsStillExist, "cannot drop %s because other objects depend on it", what).
		WithDetail(detail).WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
}

// referencingFKs lists the FOREIGN KEYs of other tables that reference
// table on columns that match (ed: the table's key as it is being edited).
func (e *Engine) referencingFKs(ctx context.Context, table string, match func(refCols []string) bool, ed *tableEdit) ([]childFK, error) {
	rows, err := e.wconn.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_pgraft%' ESCAPE '\' ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []childFK
	for rows.Next() {
		var name, text string
		if err := rows.Scan(&name, &text); err != nil {
			return nil, err
		}
		if name == table {
			continue // the table's own references go with its own constraints
		}
		d := parseCreateTable(text)
		if d == nil {
			continue
		}
		names := constraintNames(name, d)
		for i, c := range d.constraints {
			if c.kind != 'f' || !strings.EqualFold(c.refTable, table) {
				continue
			}
			ref := c.refCols
			if ref == nil {
				ref = ed.primaryKey()
			}
			if match(ref) {
				out = append(out, childFK{table: name, name: names[i]})
			}
		}
	}
	return out, rows.Err()
}

// indexText is one index of a table as sqlite_schema keeps it.
type indexText struct{ name, sql string }

// tableIndexes lists the indexes created on table by CREATE INDEX (not
// SQLite's automatic ones), in creation order.
func (e *Engine) tableIndexes(ctx context.Context, table string) ([]indexText, error) {
	rows, err := e.wconn.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1
		AND sql IS NOT NULL ORDER BY rowid`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []indexText
	for rows.Next() {
		var ix indexText
		if err := rows.Scan(&ix.name, &ix.sql); err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	return out, rows.Err()
}

// indexUses reports whether an index's keys or predicate name column col.
func indexUses(createIndex, col string) bool {
	toks := tokenizeSQL(createIndex)
	for i, t := range toks {
		if t.word("ON") {
			for _, k := range toks[i+2:] {
				if (k.kind == 'i' || k.kind == 'q') && strings.EqualFold(k.val, col) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// renameIndexSQL returns CREATE INDEX text with the index named newName.
func renameIndexSQL(createIndex, newName string) string {
	toks := tokenizeSQL(createIndex)
	for i, t := range toks {
		if t.word("ON") && i > 0 {
			n := toks[i-1]
			return createIndex[:n.start] + sqlQuote(newName) + createIndex[n.end:]
		}
	}
	return createIndex
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func sameColumns(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !containsFold(b, x) {
			return false
		}
	}
	return true
}

// dropDependents is the CASCADE of DROP TABLE/VIEW rel (the statement that
// follows it in the entry): it drops the views that would be left
// unreadable without rel, views over those views included, and the FOREIGN
// KEYs of other tables that reference rel (those tables are rebuilt without
// them), as PostgreSQL's CASCADE does. Which views depend on rel is found
// exactly, not by reading their text: rel is dropped under a savepoint, the
// views that no longer prepare are noted, and the savepoint is rolled back.
// It runs with internal access (execAlterInternal).
func (e *Engine) dropDependents(ctx context.Context, rel string) error {
	typ, _, err := e.schemaObject(ctx, rel)
	if err != nil || typ != "table" && typ != "view" {
		return err // nothing to drop: DROP itself says so (or IF EXISTS is quiet)
	}
	before, err := e.brokenViews()
	if err != nil {
		return err
	}
	if _, err := e.wconn.ExecContext(ctx, "SAVEPOINT pgraft_cascade"); err != nil {
		return err
	}
	var after map[string]error
	probeErr := withDBFlag(e.wraw, dbConfigForeignKeys, false, func() error {
		if _, err := e.wconn.ExecContext(ctx, "DROP "+strings.ToUpper(typ)+" "+sqlQuote(rel)); err != nil {
			return err
		}
		after, err = e.brokenViews()
		return err
	})
	if _, err := e.wconn.ExecContext(ctx, "ROLLBACK TO pgraft_cascade"); err != nil {
		return err
	}
	if _, err := e.wconn.ExecContext(ctx, "RELEASE pgraft_cascade"); err != nil {
		return err
	}
	if probeErr != nil {
		return probeErr
	}
	for _, v := range sortedKeys(after) {
		if _, old := before[v]; old || strings.HasPrefix(v, fkKey) || strings.EqualFold(v, rel) {
			continue
		}
		if _, err := e.wconn.ExecContext(ctx, "DROP VIEW "+sqlQuote(v)); err != nil {
			return err
		}
	}
	if typ != "table" {
		return nil
	}
	parent, err := e.newAlterPlan(ctx, rel)
	if err != nil {
		return err
	}
	children, err := e.referencingFKs(ctx, rel, func([]string) bool { return true }, parent.edit)
	if err != nil {
		return err
	}
	for _, c := range children {
		cp, err := e.newAlterPlan(ctx, c.table)
		if err != nil {
			return err
		}
		if err := cp.apply(ctx, translate.AlterAction{Op: "drop_constraint", Name: c.name}); err != nil {
			return err
		}
		if err := cp.run(ctx); err != nil {
			return err
		}
	}
	return nil
}
