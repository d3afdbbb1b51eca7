package sqlengine

import (
	"context"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// alter_rename.go: the renames of ALTER TABLE (the table, a constraint) and
// the ALTER statements that name no table (ALTER INDEX … RENAME, OWNER TO of
// an index or a view). The rest of ALTER TABLE is in alter.go.

// renameTable renames the table after writing out the names PostgreSQL
// gave its unnamed constraints (from the old table name), which they keep.
// SQLite's own RENAME then carries the new name into the references of
// other tables and into views.
func (p *alterPlan) renameTable(ctx context.Context, newName string) error {
	if typ, _, err := p.e.schemaObject(ctx, newName); err != nil {
		return err
	} else if typ != "" && !strings.EqualFold(newName, p.table) {
		return pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", newName)
	}
	for {
		var unnamed *named
		for _, c := range p.edit.constraints() {
			if c.nameTok == (span{}) {
				unnamed = &c
				break
			}
		}
		if unnamed == nil {
			break
		}
		p.edit.replace(span{unnamed.text.start, unnamed.text.start}, "CONSTRAINT "+sqlQuote(unnamed.pgName)+" ")
		p.rebuild = true
	}
	p.renameTo = newName
	return nil
}

// renameConstraint renames a constraint (or the unique index an older
// build made of one).
func (p *alterPlan) renameConstraint(ctx context.Context, name, newName string) error {
	ed := p.edit
	c, ok := ed.constraint(name)
	if !ok {
		if p.indexOnTable(ctx, name) {
			p.renames[name] = newName
			p.rebuild = true
			return nil
		}
		return p.noConstraint(name)
	}
	if _, dup := ed.constraint(newName); dup {
		return pgerror.New(pgerror.DuplicateObject, "constraint \"%s\" for relation \"%s\" already exists", newName, p.table)
	}
	if c.nameTok != (span{}) {
		ed.replace(c.nameTok, sqlQuote(newName))
	} else {
		ed.replace(span{c.text.start, c.text.start}, "CONSTRAINT "+sqlQuote(newName)+" ")
	}
	p.rebuild = true
	return nil
}

// alterObjects runs a spec that names no table: ALTER INDEX … RENAME, and
// OWNER TO of an index or a view.
func (e *Engine) alterObjects(ctx context.Context, spec *translate.AlterSpec) error {
	for _, a := range spec.Actions {
		switch a.Op {
		case "owner":
			if err := e.checkRole(ctx, a.Name); err != nil {
				return err
			}
			if a.Object != "" {
				if err := e.setRelationOwner(ctx, a.Object, a.Name); err != nil {
					return err
				}
			}
		case "rename_index":
			if err := e.renameIndex(ctx, a); err != nil {
				return err
			}
			if err := e.renameRelationACL(ctx, a.Name, a.NewName); err != nil {
				return err
			}
		case "drop_dependents":
			if err := e.dropDependents(ctx, a.Name); err != nil {
				return err
			}
		default:
			return pgerror.Unsupported("ALTER action " + a.Op + " without a table")
		}
	}
	return nil
}

// renameIndex renames an index: SQLite has no ALTER INDEX, so it is
// created again under the new name. An index behind a PRIMARY KEY or
// UNIQUE constraint is the constraint's name in PostgreSQL: the constraint
// is renamed.
func (e *Engine) renameIndex(ctx context.Context, a translate.AlterAction) error {
	typ, text, err := e.schemaObject(ctx, a.Name)
	if err != nil {
		return err
	}
	if typ == "index" && text != "" {
		if t, _, err := e.schemaObject(ctx, a.NewName); err != nil {
			return err
		} else if t != "" {
			return pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", a.NewName)
		}
		_, err := e.wconn.ExecContext(ctx, "DROP INDEX "+sqlQuote(a.Name))
		if err == nil {
			_, err = e.wconn.ExecContext(ctx, renameIndexSQL(text, a.NewName))
		}
		return err
	}
	rows, err := e.wconn.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_pgraft%' ESCAPE '\' ORDER BY rowid`)
	if err != nil {
		return err
	}
	var owner string
	for rows.Next() {
		var name, text string
		if err := rows.Scan(&name, &text); err != nil {
			rows.Close()
			return err
		}
		if c, ok := newTableEdit(name, text).constraint(a.Name); ok && (c.kind == 'p' || c.kind == 'u') && owner == "" {
			owner = name
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if owner == "" {
		if a.MissingOK {
			return nil
		}
		return pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", a.Name)
	}
	p, err := e.newAlterPlan(ctx, owner)
	if err != nil {
		return err
	}
	if err := p.renameConstraint(ctx, a.Name, a.NewName); err != nil {
		return err
	}
	return p.run(ctx)
}
