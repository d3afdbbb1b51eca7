package sqlengine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// alter_rebuild.go: carrying out an alterPlan (alter.go): ADD COLUMN in
// place where SQLite can, else the table rebuild, with the checks of new
// keys and constraints against the rows.

// run carries the plan out.
func (p *alterPlan) run(ctx context.Context) error {
	if err := p.runChanges(ctx); err != nil {
		return err
	}
	if p.renameTo != "" {
		return p.exec(ctx, "ALTER TABLE "+sqlQuote(p.table)+" RENAME TO "+sqlQuote(p.renameTo))
	}
	return nil
}

// runChanges carries out everything but RENAME TO.
func (p *alterPlan) runChanges(ctx context.Context) error {
	for _, c := range p.children {
		child := &translate.AlterSpec{Table: c.table, Actions: []translate.AlterAction{{Op: "drop_constraint", Name: c.name}}}
		cp, err := p.e.newAlterPlan(ctx, c.table)
		if err != nil {
			return err
		}
		for _, a := range child.Actions {
			if err := cp.apply(ctx, a); err != nil {
				return err
			}
		}
		if err := cp.run(ctx); err != nil {
			return err
		}
	}
	if p.edit.sql == p.old.sql && !p.converts && len(p.dropIndexes) == 0 && len(p.renames) == 0 {
		p.rebuild = false // the definition comes out as it was (ORMs restate columns): nothing to copy
	}
	if !p.rebuild {
		for _, ix := range p.indexDrops {
			if err := p.exec(ctx, "DROP INDEX "+sqlQuote(ix)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, ix := range p.indexDrops {
		p.dropIndexes[ix] = true // it goes with the old table
	}
	if len(p.native) > 0 && !p.otherThanAdd {
		done, err := p.addNative(ctx)
		if done || err != nil {
			return err
		}
	}
	if err := p.authorizeCopy(); err != nil {
		return err
	}
	for _, c := range p.uniqueNew {
		if err := p.checkUnique(ctx, c); err != nil {
			return err
		}
	}
	if err := p.rebuildTable(ctx); err != nil {
		return err
	}
	for _, c := range p.edit.constraints() {
		// A new column's REFERENCES holds for its default in every row.
		if c.kind == 'f' && len(c.cols) == 1 && containsFold(p.added, c.cols[0]) {
			p.fkChecks = append(p.fkChecks, fkCheck{name: c.pgName, refTable: c.refTable, cols: c.cols, refCols: c.refCols})
		}
	}
	for _, fk := range p.fkChecks {
		if err := p.checkForeignKey(ctx, fk); err != nil {
			return err
		}
	}
	return nil
}

func (p *alterPlan) exec(ctx context.Context, stmts ...string) error {
	for _, q := range stmts {
		if _, err := p.e.wconn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// addNative runs ADD COLUMNs as SQLite's own ALTER TABLE when SQLite can
// (no PRIMARY KEY or UNIQUE, a constant default, …): no rows are copied.
// done is false when SQLite cannot, and nothing changed.
func (p *alterPlan) addNative(ctx context.Context) (done bool, err error) {
	if _, err := p.e.wconn.ExecContext(ctx, "SAVEPOINT pgraft_alter_add"); err != nil {
		return false, err
	}
	for _, q := range p.native {
		if _, err = p.e.wconn.ExecContext(ctx, q); err != nil {
			break
		}
	}
	if err == nil {
		_, err = p.e.wconn.ExecContext(ctx, "RELEASE pgraft_alter_add")
		return true, err
	}
	if p.e.wraw.AutoCommit() {
		return true, err
	}
	if _, rerr := p.e.wconn.ExecContext(ctx, "ROLLBACK TO pgraft_alter_add"); rerr != nil {
		return true, rerr
	}
	if _, rerr := p.e.wconn.ExecContext(ctx, "RELEASE pgraft_alter_add"); rerr != nil {
		return true, rerr
	}
	if se, ok := asSQLiteError(err); ok && strings.HasPrefix(strings.ToLower(se.msg), "cannot add a") {
		return false, nil // a column SQLite cannot add in place: rebuild
	}
	return true, err
}

// copyColumns returns the new table's columns that get a value from the
// old rows, and those values.
func (p *alterPlan) copyColumns() (cols, vals []string) {
	for i, c := range p.edit.d.columns {
		if _, gen := p.edit.clause(i, "generated"); gen {
			continue
		}
		if v, ok := p.copy[strings.ToLower(c)]; ok {
			cols, vals = append(cols, sqlQuote(c)), append(vals, v)
		}
	}
	return cols, vals
}

// authorizeCopy prepares the copy's query as a client statement, so that
// the client's expressions in it (USING) reach only what a client may.
func (p *alterPlan) authorizeCopy() error {
	_, vals := p.copyColumns()
	if len(vals) == 0 {
		return nil
	}
	a := p.e.wauth
	a.leaveInternal()
	defer a.enterInternal()
	a.beginClient("")
	if _, err := prepareInfo(p.e.wraw, "SELECT "+strings.Join(vals, ", ")+" FROM "+sqlQuote(p.table)); err != nil {
		return mapConnError(p.e.wraw, err)
	}
	return nil
}

// checkUnique fails a new PRIMARY KEY or UNIQUE whose key the existing
// rows repeat, as PostgreSQL does when it builds the index (23505).
func (p *alterPlan) checkUnique(ctx context.Context, c named) error {
	var vals []string
	for _, col := range c.cols {
		v, ok := p.copy[strings.ToLower(col)]
		if !ok {
			return nil // a new column: the copy checks it
		}
		vals = append(vals, v)
	}
	q := "SELECT " + strings.Join(keyTexts(vals), " || ', ' || ") + " FROM " + sqlQuote(p.table) +
		" WHERE " + strings.Join(notNull(vals), " AND ") + " GROUP BY " + strings.Join(vals, ", ") + " HAVING count(*) > 1 LIMIT 1"
	var key string
	err := p.e.wconn.QueryRowContext(ctx, q).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return on(pgerror.New(pgerror.UniqueViolation, "could not create unique index \"%s\"", c.pgName), p.table, "", c.pgName).
		WithDetail(fmt.Sprintf("Key (%s)=(%s) is duplicated.", strings.Join(c.cols, ", "), key))
}

// on names the table, column and constraint of a data error, as
// PostgreSQL's error fields do.
func on(e *pgerror.Error, table, column, constraint string) *pgerror.Error {
	e.Table, e.Column, e.Constraint = table, column, constraint
	return e
}

func keyTexts(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = "coalesce(CAST(" + v + " AS TEXT), 'null')"
	}
	return out
}

func notNull(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = "(" + v + ") IS NOT NULL"
	}
	return out
}

// checkForeignKey fails a new FOREIGN KEY that existing rows violate, as
// PostgreSQL does when it validates the constraint (23503).
func (p *alterPlan) checkForeignKey(ctx context.Context, fk fkCheck) error {
	if isReservedName(fk.refTable) {
		return authError(refusal{kind: refusedRelation, name: fk.refTable})
	}
	refCols := fk.refCols
	if refCols == nil {
		typ, text, err := p.e.schemaObject(ctx, fk.refTable)
		if err != nil {
			return err
		}
		if typ != "table" {
			return pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", fk.refTable)
		}
		ref := newTableEdit(fk.refTable, text)
		if refCols = ref.primaryKey(); refCols == nil {
			return pgerror.New("42830", "there is no primary key for referenced table \"%s\"", fk.refTable)
		}
	}
	if len(refCols) != len(fk.cols) {
		return pgerror.New("42830", "number of referencing and referenced columns for foreign key disagree")
	}
	if err := p.e.checkReferencedKey(ctx, fk.refTable, refCols); err != nil {
		return err
	}
	var conds, keys []string
	for i, c := range fk.cols {
		conds = append(conds, "r."+sqlQuote(refCols[i])+" = c."+sqlQuote(c))
		keys = append(keys, "c."+sqlQuote(c))
	}
	q := "SELECT " + strings.Join(keyTexts(keys), " || ', ' || ") + " FROM " + sqlQuote(p.table) + " AS c WHERE " +
		strings.Join(notNull(keys), " AND ") + " AND NOT EXISTS (SELECT 1 FROM " + sqlQuote(fk.refTable) + " AS r WHERE " +
		strings.Join(conds, " AND ") + ") LIMIT 1"
	var key string
	err := p.e.wconn.QueryRowContext(ctx, q).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return on(pgerror.New(pgerror.ForeignKeyViolation, "insert or update on table \"%s\" violates foreign key constraint \"%s\"", p.table, fk.name), p.table, "", fk.name).
		WithDetail(fmt.Sprintf("Key (%s)=(%s) is not present in table \"%s\".", strings.Join(fk.cols, ", "), key, fk.refTable))
}

// checkReferencedKey fails unless cols are the primary key or a unique key
// of table (42830), as a FOREIGN KEY needs.
func (e *Engine) checkReferencedKey(ctx context.Context, table string, cols []string) error {
	typ, text, err := e.schemaObject(ctx, table)
	if err != nil {
		return err
	}
	if typ != "table" {
		return pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", table)
	}
	ref := newTableEdit(table, text)
	for _, c := range ref.d.constraints {
		if (c.kind == 'p' || c.kind == 'u') && sameColumns(c.cols, cols) {
			return nil
		}
	}
	idx, err := e.tableIndexes(ctx, table)
	if err != nil {
		return err
	}
	for _, ix := range idx {
		m := &modelTable{ddl: ref.d}
		if d := parseCreateIndex(ix.sql, m); d.unique && d.where == "" {
			var names []string
			for _, k := range d.cols {
				names = append(names, k.name)
			}
			if sameColumns(names, cols) {
				return nil
			}
		}
	}
	return pgerror.New("42830", "there is no unique constraint matching given keys for referenced table \"%s\"", table)
}

// rebuildTable replaces the table by one created from the edited text,
// copies the rows, and creates its indexes again.
func (p *alterPlan) rebuildTable(ctx context.Context) error {
	idx, err := p.e.tableIndexes(ctx, p.table)
	if err != nil {
		return err
	}
	seq, hasSeq, err := p.e.sequenceOf(ctx, p.table)
	if err != nil {
		return err
	}
	return withDBFlag(p.e.wraw, dbConfigForeignKeys, false, func() error {
		return withDBFlag(p.e.wraw, dbConfigLegacyAlter, true, func() error {
			return p.swapTable(ctx, idx, seq, hasSeq)
		})
	})
}

// swapTable is the rebuild proper: the new table under a temporary name,
// the rows, the old table dropped, the new one renamed, the indexes.
func (p *alterPlan) swapTable(ctx context.Context, idx []indexText, seq int64, hasSeq bool) error {
	if _, err := p.e.wconn.ExecContext(ctx, p.edit.createAs(rebuildName)); err != nil {
		return p.mapRebuildError(err)
	}
	cols, vals := p.copyColumns()
	rowid := !p.edit.d.withoutRowid && !p.old.d.withoutRowid && !p.edit.hasRowidAlias()
	if rowid {
		cols, vals = append([]string{"rowid"}, cols...), append([]string{"rowid"}, vals...)
	}
	if len(cols) > 0 {
		q := "INSERT INTO " + sqlQuote(rebuildName) + " (" + strings.Join(cols, ", ") + ") SELECT " +
			strings.Join(vals, ", ") + " FROM " + sqlQuote(p.table)
		if !rowid && !p.old.d.withoutRowid {
			q += " ORDER BY rowid"
		}
		if _, err := p.e.wconn.ExecContext(ctx, q); err != nil {
			return p.mapRebuildError(err)
		}
	}
	if err := p.exec(ctx, "DROP TABLE "+sqlQuote(p.table),
		"ALTER TABLE "+sqlQuote(rebuildName)+" RENAME TO "+sqlQuote(p.table)); err != nil {
		return err
	}
	for _, ix := range idx {
		if p.dropIndexes[ix.name] {
			continue
		}
		q := ix.sql
		if n, ok := p.renames[ix.name]; ok {
			q = renameIndexSQL(q, n)
		}
		if _, err := p.e.wconn.ExecContext(ctx, q); err != nil {
			return p.mapRebuildError(err)
		}
	}
	if hasSeq {
		if _, err := p.e.wconn.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = max(seq, ?2) WHERE name = ?1`, p.table, seq); err != nil {
			return err
		}
		if _, err := p.e.wconn.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) SELECT ?1, ?2
			WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?1)`, p.table, seq); err != nil {
			return err
		}
	}
	return nil
}

// sequenceOf returns an AUTOINCREMENT table's counter, which the rebuild
// keeps (a value handed out is never handed out again).
func (e *Engine) sequenceOf(ctx context.Context, table string) (seq int64, ok bool, err error) {
	if typ, _, err := e.schemaObject(ctx, "sqlite_sequence"); err != nil || typ == "" {
		return 0, false, err
	}
	err = e.wconn.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = ?1`, table).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return seq, err == nil, err
}

// mapRebuildError words a failure of the copy as PostgreSQL words the
// same failure of its ALTER TABLE (the temporary table never shows).
func (p *alterPlan) mapRebuildError(err error) error {
	se, ok := asSQLiteError(err)
	if !ok || se.code != sqlite3.ErrConstraint {
		return err
	}
	switch se.ext {
	case sqlite3.ErrConstraintNotNull:
		if m := reNotNullCol.FindStringSubmatch(se.msg); m != nil {
			_, cols := splitColumns(m[1])
			return on(pgerror.New(pgerror.NotNullViolation, "column \"%s\" of relation \"%s\" contains null values", cols[0], p.table), p.table, cols[0], "")
		}
	case sqlite3.ErrConstraintCheck:
		if m := reCheckName.FindStringSubmatch(se.msg); m != nil && !strings.HasPrefix(m[1], translate.RangeCheckPrefix) {
			return on(pgerror.New(pgerror.CheckViolation, "check constraint \"%s\" of relation \"%s\" is violated by some row", m[1], p.table), p.table, "", m[1])
		}
	case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
		if m := reUniqueCols.FindStringSubmatch(se.msg); m != nil {
			_, cols := splitColumns(m[1])
			for _, c := range p.edit.constraints() {
				if (c.kind == 'p' || c.kind == 'u') && sameColumns(c.cols, cols) {
					return on(pgerror.New(pgerror.UniqueViolation, "could not create unique index \"%s\"", c.pgName), p.table, "", c.pgName)
				}
			}
		}
		return pgerror.New(pgerror.UniqueViolation, "could not create unique index")
	}
	return err
}
