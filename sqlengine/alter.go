package sqlengine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// alter.go carries out ALTER TABLE (translate.AlterSpec) at apply time,
// against the table as the database holds it at the entry's index: every
// node reads the same sqlite_schema there, so every node derives the same
// rebuild (docs/design.md, "ALTER TABLE").
//
// What SQLite cannot change in place it rebuilds, as its documentation
// says (lang_altertable.html, "Making Other Kinds Of Table Schema
// Changes"): create the new table under a temporary name, copy the rows,
// drop the old table, rename the new one, create the indexes again. It all
// runs inside the entry's transaction, under the statement's savepoint and
// work budget (execDDL, execBudgeted), so a failure anywhere leaves the
// schema as it was, on every node. Two of SQLite's connection flags change
// for the rebuild's duration:
//
//   - foreign keys are off: DROP TABLE of the old table would otherwise
//     delete its rows first and fire the ON DELETE actions of the tables
//     that reference it (PRAGMA foreign_keys cannot change inside a
//     transaction; sqlite3_db_config can). The tables referencing the
//     rebuilt one name it, so they reference the new table afterwards; a
//     new FOREIGN KEY is checked by a query of its own (23503).
//   - legacy_alter_table is on: with it, RENAME neither rewrites nor checks
//     views and triggers, which name the old table and would fail to
//     resolve while it is gone; they resolve again once the new table has
//     its name. (execDDL then checks every view, as after any DDL.)

// rebuildName is the temporary name of a table being rebuilt.
const rebuildName = "_pgraft_rebuild"

// execAlter runs one AlterSpec on the write connection with internal
// access. Client expressions in it (USING, DEFAULT, CHECK) come from
// translation; the rows they read are authorized as the client's first
// (authorizeCopy).
func (e *Engine) execAlter(ctx context.Context, spec *translate.AlterSpec) (err error) {
	if dropsViews(spec) {
		// DROP COLUMN … CASCADE drops the views that read the column, as
		// PostgreSQL does: those the ALTER leaves broken.
		before, err := e.brokenViews()
		if err != nil {
			return err
		}
		if err := e.execAlterInternal(ctx, spec); err != nil {
			return err
		}
		after, err := e.brokenViews()
		if err != nil {
			return err
		}
		for _, v := range sortedKeys(after) {
			if _, old := before[v]; !old {
				if _, err := e.wconn.ExecContext(ctx, "DROP VIEW "+sqlQuote(v)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return e.execAlterInternal(ctx, spec)
}

func dropsViews(spec *translate.AlterSpec) bool {
	for _, a := range spec.Actions {
		if a.Op == "drop_column" && a.Cascade {
			return true
		}
	}
	return false
}

func (e *Engine) execAlterInternal(ctx context.Context, spec *translate.AlterSpec) (err error) {
	e.wauth.enterInternal()
	defer e.wauth.leaveInternal()
	defer func() {
		// Apply must never panic on what a client sent: a table text this
		// code misreads fails the statement, alike on every node.
		if r := recover(); r != nil {
			err = pgerror.New(pgerror.InternalError, "ALTER TABLE %s: %v", spec.Table, r)
		}
	}()
	if err := checkAlterNames(spec); err != nil {
		return err
	}
	if spec.Table == "" {
		return e.alterObjects(ctx, spec)
	}
	p, err := e.newAlterPlan(ctx, spec.Table)
	if err != nil {
		return err
	}
	for _, a := range spec.Actions {
		if err := p.apply(ctx, a); err != nil {
			return err
		}
	}
	return p.run(ctx)
}

// checkAlterNames keeps the sandbox's names (authorizer.go) out of reach of
// an ALTER, which runs with internal access: pgraft's and SQLite's own
// relations are not there to alter, reference or rename (42P01), and no
// relation may take such a name (42501).
func checkAlterNames(spec *translate.AlterSpec) error {
	for _, n := range []string{spec.Table} {
		if isReservedName(n) {
			return authError(refusal{kind: refusedRelation, name: n})
		}
	}
	for _, a := range spec.Actions {
		for _, n := range []string{a.RefTable, a.Index} {
			if isReservedName(n) {
				return authError(refusal{kind: refusedRelation, name: n})
			}
		}
		if (a.Op == "rename_index" || a.Op == "drop_dependents") && isReservedName(a.Name) {
			return authError(refusal{kind: refusedRelation, name: a.Name})
		}
		if (a.Op == "rename_index" || a.Op == "rename_table") && isReservedName(a.NewName) {
			return authError(refusal{kind: refusedReserved, name: a.NewName})
		}
	}
	return nil
}

// alterPlan is what one ALTER TABLE does to one table.
type alterPlan struct {
	e     *Engine
	table string
	old   *tableEdit        // the table as it is
	edit  *tableEdit        // the table as it will be
	copy  map[string]string // lower-case new column name → its value, an expression over the old table's row
	// Indexes: those to drop with the old table and not create again, and
	// those that get another name.
	dropIndexes  map[string]bool
	renames      map[string]string
	native       []string          // ADD COLUMNs SQLite may do itself, when they are all the plan does
	converts     bool              // a column's values change (ALTER COLUMN TYPE … USING)
	added        []string          // columns ADD COLUMN adds
	addedDefault map[string]string // lower-case added column → its ADD COLUMN default ("NULL" for none)
	rebuild      bool              // the table must be rebuilt
	otherThanAdd bool              // an action other than ADD COLUMN
	fkChecks     []fkCheck
	uniqueNew    []named   // new PRIMARY KEY and UNIQUE constraints, checked before the copy
	children     []childFK // FOREIGN KEYs of other tables that CASCADE drops
	indexDrops   []string  // unique indexes DROP CONSTRAINT drops (older builds' ADD CONSTRAINT … UNIQUE)
	renameTo     string    // RENAME TO: the table's new name, once rebuilt
}

// fkCheck is a new FOREIGN KEY whose rows are checked after the rebuild.
type fkCheck struct {
	name, refTable string
	cols, refCols  []string
}

// childFK is a FOREIGN KEY of another table.
type childFK struct{ table, name string }

func (e *Engine) newAlterPlan(ctx context.Context, table string) (*alterPlan, error) {
	typ, text, err := e.schemaObject(ctx, table)
	if err != nil {
		return nil, err
	}
	switch {
	case typ == "":
		return nil, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", table)
	case typ != "table":
		return nil, pgerror.New(pgerror.WrongObjectType, "\"%s\" is not a table", table)
	}
	old := newTableEdit(table, text)
	if old.d == nil {
		return nil, pgerror.Unsupported("ALTER TABLE of a table created as CREATE TABLE … AS")
	}
	p := &alterPlan{e: e, table: table, old: old, edit: newTableEdit(table, text), copy: map[string]string{},
		dropIndexes: map[string]bool{}, renames: map[string]string{}, addedDefault: map[string]string{}}
	for _, c := range old.d.columns {
		p.copy[strings.ToLower(c)] = sqlQuote(c)
	}
	return p, nil
}

// schemaObject returns the type and SQL of the schema object named name
// ("" when there is none).
func (e *Engine) schemaObject(ctx context.Context, name string) (typ, text string, err error) {
	err = e.wconn.QueryRowContext(ctx, `SELECT type, coalesce(sql, '') FROM sqlite_schema WHERE name = ?1`, name).Scan(&typ, &text)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return typ, text, err
}

// apply adds one action to the plan.
func (p *alterPlan) apply(ctx context.Context, a translate.AlterAction) error {
	if a.Op != "add_column" {
		p.otherThanAdd = true
	}
	ed := p.edit
	switch a.Op {
	case "owner":
		if err := p.e.checkRole(ctx, a.Name); err != nil {
			return err
		}
		return p.e.setRelationOwner(ctx, p.table, a.Name)
	case "validate_constraint":
		if _, ok := ed.constraint(a.Name); !ok {
			return p.noConstraint(a.Name)
		}
		return nil
	case "add_column":
		if ed.column(a.Column) >= 0 {
			return pgerror.New(pgerror.DuplicateColumn, "column \"%s\" of relation \"%s\" already exists", a.Column, p.table)
		}
		hadKey := ed.primaryKey() != nil
		ed.appendColumn(a.SQL)
		if _, key := ed.clause(ed.column(a.Column), "p"); key && hadKey {
			return pgerror.New("42P16", "multiple primary keys for table \"%s\" are not allowed", p.table)
		}
		p.native = append(p.native, "ALTER TABLE "+sqlQuote(p.table)+" ADD COLUMN "+a.SQL)
		p.added = append(p.added, a.Column)
		p.addedDefault[strings.ToLower(a.Column)] = "NULL"
		if d, ok := ed.clause(ed.column(a.Column), "default"); ok {
			text := ed.sql[d.text.start:d.text.end]
			p.addedDefault[strings.ToLower(a.Column)] = strings.TrimSpace(text[strings.Index(strings.ToUpper(text), "DEFAULT")+len("DEFAULT"):])
		}
		p.rebuild = true
		return nil
	case "drop_column":
		return p.dropColumn(ctx, a)
	case "set_type":
		return p.setType(a)
	case "set_default", "drop_default":
		i, err := p.needColumn(a.Column)
		if err != nil {
			return err
		}
		col := strings.ToLower(ed.d.columns[i])
		if d, added := p.addedDefault[col]; added {
			if _, ok := p.copy[col]; !ok {
				// The rows an ADD COLUMN of this statement fills get that
				// clause's default, not one set after it (as in PostgreSQL).
				p.copy[col] = d
			}
		}
		ed.removeClauses(i, func(c columnClause) bool { return c.kind == "default" })
		if a.Op == "set_default" {
			ed.appendToColumn(i, "DEFAULT "+a.SQL)
		}
		p.rebuild = true
		return nil
	case "set_not_null", "drop_not_null":
		return p.notNull(a)
	case "add_constraint":
		return p.addConstraint(ctx, a)
	case "drop_constraint":
		return p.dropConstraint(ctx, a)
	case "rename_constraint":
		return p.renameConstraint(ctx, a.Name, a.NewName)
	case "rename_table":
		if err := p.renameTable(ctx, a.NewName); err != nil {
			return err
		}
		return p.e.renameRelationACL(ctx, p.table, a.NewName)
	}
	return pgerror.Unsupported("ALTER TABLE action " + a.Op)
}

func (p *alterPlan) needColumn(name string) (int, error) {
	i := p.edit.column(name)
	if i < 0 {
		return -1, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, p.table)
	}
	return i, nil
}

func (p *alterPlan) noConstraint(name string) error {
	return pgerror.New(pgerror.UndefinedObject, "constraint \"%s\" of relation \"%s\" does not exist", name, p.table)
}

// checkRole fails with 42704 unless role exists (OWNER TO).
func (e *Engine) checkRole(ctx context.Context, role string) error {
	var n int
	err := e.wconn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM _pgraft_roles WHERE name = ?1) +
		(?1 = 'postgres' AND NOT EXISTS (SELECT 1 FROM _pgraft_roles WHERE oid = 10))`, role).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		return pgerror.New(pgerror.UndefinedObject, "role \"%s\" does not exist", role)
	}
	return nil
}

// dropColumn drops a column with the constraints and indexes that use it,
// as PostgreSQL does; FOREIGN KEYs of other tables on it need CASCADE.
func (p *alterPlan) dropColumn(ctx context.Context, a translate.AlterAction) error {
	ed := p.edit
	i := ed.column(a.Column)
	if i < 0 {
		if a.MissingOK {
			return nil
		}
		return pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", a.Column, p.table)
	}
	if len(ed.d.columns) == 1 {
		return pgerror.Unsupported("dropping the last column of a table")
	}
	col := ed.d.columns[i]
	on := func(refCols []string) bool { return containsFold(refCols, col) }
	deps, self, err := p.dependents(ctx, on, col)
	if err != nil {
		return err
	}
	gen := ed.generatedUsing(col)
	if !a.Cascade {
		what := "column " + col + " of table " + pgQuoteIdent(p.table)
		switch {
		case len(gen) > 0:
			return dependError(what, "column "+gen[0]+" of table "+pgQuoteIdent(p.table)+" depends on "+what)
		case len(self) > 0:
			return dependError(what, "constraint "+self[0]+" on table "+pgQuoteIdent(p.table)+" depends on "+what)
		case len(deps) > 0:
			return dependError(what, "constraint "+deps[0].name+" on table "+pgQuoteIdent(deps[0].table)+" depends on "+what)
		}
	}
	p.children = append(p.children, deps...)
	p.dropSelf(self)
	for _, g := range gen {
		if err := p.dropColumn(ctx, translate.AlterAction{Column: g, MissingOK: true, Cascade: true}); err != nil {
			return err
		}
	}
	i = ed.column(col)
	// This table's constraints on the column go with it (the column's own
	// clauses go with its definition).
	for {
		var hit *named
		for _, c := range ed.constraints() {
			if !c.tableLevel && ed.itemOf(c.text.start) == ed.itemOf(ed.columnItem(i).start) {
				continue
			}
			uses := containsFold(c.cols, col)
			if c.kind == 'c' {
				uses = containsFold(checkColumnsAll(c.expr, ed.d.columns), col)
			}
			if uses {
				hit = &c
				break
			}
		}
		if hit == nil {
			break
		}
		ed.removeConstraint(hit.ddlConstraint)
		i = ed.column(col)
	}
	ed.removeItem(ed.itemOf(ed.columnItem(i).start))
	delete(p.copy, strings.ToLower(col))
	idx, err := p.e.tableIndexes(ctx, p.table)
	if err != nil {
		return err
	}
	for _, ix := range idx {
		if indexUses(ix.sql, col) {
			p.dropIndexes[ix.name] = true
		}
	}
	p.rebuild = true
	return nil
}

// setType gives a column another type; its rows are converted with the
// spec's USING expression.
func (p *alterPlan) setType(a translate.AlterAction) error {
	ed := p.edit
	i, err := p.needColumn(a.Column)
	if err != nil {
		return err
	}
	if gen := ed.generatedUsing(ed.d.columns[i]); len(gen) > 0 {
		return pgerror.New(pgerror.FeatureNotSupported, "cannot alter type of a column used by a generated column").
			WithDetail(fmt.Sprintf("Column %q is used by generated column %q.", ed.d.columns[i], gen[0]))
	}
	typ := translate.TypeByName(a.Type)
	if ed.isRowidAlias(i) && typ != nil && isIntegerType(typ) {
		m, _ := ed.clause(i, "marker")
		ed.replace(m.text, translate.RowidMarker+typ.Name+"*/")
	} else {
		ed.setDecl(i, a.SQL)
	}
	ed.removeClauses(i, func(c columnClause) bool {
		return c.kind == "c" && strings.HasPrefix(c.name, translate.RangeCheckPrefix)
	})
	if a.Check != "" {
		ed.appendToColumn(i, a.Check)
	}
	col := ed.d.columns[i]
	if _, ok := p.copy[strings.ToLower(col)]; ok && strings.Trim(a.Using, `"`) != col {
		p.copy[strings.ToLower(col)] = a.Using
		p.converts = true
	}
	p.rebuild = true
	return nil
}

func isIntegerType(t *translate.PGType) bool {
	switch t.Name {
	case "int2", "int4", "int8":
		return true
	}
	return false
}

// notNull sets or drops a column's NOT NULL.
func (p *alterPlan) notNull(a translate.AlterAction) error {
	ed := p.edit
	i, err := p.needColumn(a.Column)
	if err != nil {
		return err
	}
	_, has := ed.clause(i, "notnull")
	if a.Op == "set_not_null" {
		if !has && !containsFold(ed.primaryKey(), ed.d.columns[i]) { // a key column is NOT NULL already
			ed.appendToColumn(i, "NOT NULL")
			p.rebuild = true
		}
		return nil
	}
	if containsFold(ed.primaryKey(), ed.d.columns[i]) {
		return pgerror.New("42P16", "column \"%s\" is in a primary key", ed.d.columns[i])
	}
	if has {
		ed.removeClauses(i, func(c columnClause) bool { return c.kind == "notnull" })
		p.rebuild = true
	}
	return nil
}

// addConstraint adds a table constraint, named as PostgreSQL names it.
func (p *alterPlan) addConstraint(ctx context.Context, a translate.AlterAction) error {
	ed := p.edit
	kind := a.Kind[0]
	cols := a.Cols
	for k, c := range cols {
		i, err := p.needColumn(c)
		if err != nil {
			return err
		}
		cols[k] = ed.d.columns[i]
	}
	if kind == 'p' && ed.primaryKey() != nil {
		return pgerror.New("42P16", "multiple primary keys for table \"%s\" are not allowed", p.table)
	}
	used := map[string]bool{}
	for _, c := range ed.constraints() {
		used[c.pgName] = true
	}
	name := a.Name
	if name == "" {
		nameCols := cols
		if kind == 'c' {
			nameCols = checkColumns(a.Check, ed.d.columns)
		}
		name = uniqueName(defaultConstraintName(p.table, kind, nameCols), used)
	} else if used[name] {
		return pgerror.New(pgerror.DuplicateObject, "constraint \"%s\" for relation \"%s\" already exists", name, p.table)
	}
	if a.Index != "" {
		idx, err := p.e.tableIndexes(ctx, p.table)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(idx, func(ix indexText) bool { return ix.name == a.Index }) {
			return pgerror.New(pgerror.UndefinedObject, "index \"%s\" for table \"%s\" does not exist", a.Index, p.table)
		}
		p.dropIndexes[a.Index] = true
	} else if kind == 'p' || kind == 'u' {
		if typ, _, err := p.e.schemaObject(ctx, name); err != nil {
			return err
		} else if typ != "" {
			return pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", name)
		}
	}
	if kind == 'p' {
		for _, c := range cols {
			i := ed.column(c)
			if _, ok := ed.clause(i, "notnull"); !ok {
				ed.appendToColumn(i, "NOT NULL")
			}
		}
		if len(cols) == 1 && !ed.d.withoutRowid {
			i := ed.column(cols[0])
			if t := ed.pgType(i); t != nil && isIntegerType(t) && !ed.isRowidAlias(i) {
				ed.makeRowidAlias(i, t)
			}
		}
	}
	ed.appendConstraint("CONSTRAINT " + sqlQuote(name) + " " + a.SQL)
	switch kind {
	case 'p', 'u':
		c, _ := ed.constraint(name)
		p.uniqueNew = append(p.uniqueNew, c)
	case 'f':
		if !a.NoValidate {
			p.fkChecks = append(p.fkChecks, fkCheck{name: name, refTable: a.RefTable, cols: cols, refCols: a.RefCols})
		}
	}
	p.rebuild = true
	return nil
}

// dropConstraint drops a constraint by its PostgreSQL name. A PRIMARY KEY
// or UNIQUE that FOREIGN KEYs of other tables use needs CASCADE, which
// drops those.
func (p *alterPlan) dropConstraint(ctx context.Context, a translate.AlterAction) error {
	ed := p.edit
	c, ok := ed.constraint(a.Name)
	if !ok {
		// ADD CONSTRAINT … UNIQUE of older builds made a unique index.
		if typ, text, err := p.e.schemaObject(ctx, a.Name); err != nil {
			return err
		} else if typ == "index" && strings.Contains(strings.ToUpper(text), "UNIQUE") && p.indexOnTable(ctx, a.Name) {
			p.indexDrops = append(p.indexDrops, a.Name)
			return nil
		}
		if a.MissingOK {
			return nil
		}
		return p.noConstraint(a.Name)
	}
	if c.kind == 'p' || c.kind == 'u' {
		deps, self, err := p.dependents(ctx, func(refCols []string) bool { return sameColumns(refCols, c.cols) }, "")
		if err != nil {
			return err
		}
		what := "constraint " + a.Name + " on table " + pgQuoteIdent(p.table)
		if !a.Cascade {
			switch {
			case len(self) > 0:
				return dependError(what, "constraint "+self[0]+" on table "+pgQuoteIdent(p.table)+" depends on index "+pgQuoteIdent(a.Name))
			case len(deps) > 0:
				return dependError(what, "constraint "+deps[0].name+" on table "+pgQuoteIdent(deps[0].table)+" depends on index "+pgQuoteIdent(a.Name))
			}
		}
		p.children = append(p.children, deps...)
		p.dropSelf(self)
		if c, ok = ed.constraint(a.Name); !ok {
			return p.noConstraint(a.Name)
		}
	}
	ed.removeConstraint(c.ddlConstraint)
	if c.kind == 'p' && len(c.cols) == 1 {
		ed.demoteRowidAlias(ed.column(c.cols[0]))
	}
	p.rebuild = true
	return nil
}

func (p *alterPlan) indexOnTable(ctx context.Context, index string) bool {
	idx, err := p.e.tableIndexes(ctx, p.table)
	return err == nil && slices.ContainsFunc(idx, func(ix indexText) bool { return ix.name == index })
}
