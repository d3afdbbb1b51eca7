package translate

import (
	"encoding/json"
	"strings"
)

// AlterSpec is the work of one ALTER TABLE (or ALTER INDEX … RENAME, ALTER
// TABLE … RENAME CONSTRAINT) that SQLite cannot do in one statement of its
// own. Translation fixes what the client said, in SQLite's terms (declared
// types, translated expressions); the engine (sqlengine/alter.go) reads the
// table as it is when the entry applies and rebuilds it, so that every node
// derives the same rebuild from the same database (docs/design.md,
// "ALTER TABLE").
//
// It travels in the log as the SQL text of an ordinary statement: AlterMarker
// followed by the spec in JSON (Encode). Only translation writes that text,
// never a client, so the marker cannot be forged. Being in the log, the
// spec is a log format (payload version 4): every entry is replayed for
// ever, so a later build may add fields and actions but must carry out
// every spec already written exactly as this one does.
type AlterSpec struct {
	Table   string        `json:"table"` // "" for rename_index: the engine finds the index's table
	Actions []AlterAction `json:"actions"`
}

// AlterAction is one action of an AlterSpec, applied in order. Op is one of:
//
//   - add_column: SQL is the column definition (name, declared type,
//     constraints), as CREATE TABLE would write it.
//   - drop_column: Column; MissingOK (IF EXISTS), Cascade.
//   - set_type: Column gets declared type SQL (PostgreSQL typname Type);
//     Using converts each row's value; Check is the type's range check
//     clause ("" for none).
//   - set_default (SQL: the expression), drop_default, set_not_null,
//     drop_not_null: Column.
//   - add_constraint: Kind 'p', 'u', 'c' or 'f'; Name ("" for PostgreSQL's
//     generated name); Cols (the key columns, or for 'c' none); SQL the
//     constraint without its name (PRIMARY KEY (…), UNIQUE (…), CHECK (…),
//     FOREIGN KEY (…) REFERENCES …); for 'c' Check is the expression and
//     for 'f' RefTable/RefCols the referenced key (RefCols nil: its primary
//     key); Index (USING INDEX) the index that becomes the constraint's;
//     NoValidate (NOT VALID) skips checking existing rows.
//   - drop_constraint: Name; MissingOK, Cascade.
//   - rename_constraint, rename_index: Name becomes NewName.
//   - rename_table: the table becomes NewName, its constraints keep their
//     names (the last action of its spec).
//   - validate_constraint: Name must exist.
//   - owner: Name is a role that must exist.
//   - drop_dependents (Table ""): the CASCADE of a DROP TABLE/VIEW Name
//     that follows in the same statement: the views that depend on Name
//     and other tables' FOREIGN KEYs referencing it are dropped.
type AlterAction struct {
	Op         string   `json:"op"`
	Column     string   `json:"column,omitempty"`
	Name       string   `json:"name,omitempty"`
	NewName    string   `json:"new_name,omitempty"`
	Kind       string   `json:"kind,omitempty"`
	Cols       []string `json:"cols,omitempty"`
	SQL        string   `json:"sql,omitempty"`
	Using      string   `json:"using,omitempty"`
	Type       string   `json:"type,omitempty"`
	Check      string   `json:"check,omitempty"`
	RefTable   string   `json:"ref_table,omitempty"`
	RefCols    []string `json:"ref_cols,omitempty"`
	Index      string   `json:"index,omitempty"`
	NoValidate bool     `json:"no_validate,omitempty"`
	MissingOK  bool     `json:"missing_ok,omitempty"`
	Cascade    bool     `json:"cascade,omitempty"`
	Object     string   `json:"object,omitempty"` // owner: the relation (specs before owners were recorded lack it)
}

// AlterMarker starts the SQL text of a statement that carries an AlterSpec.
const AlterMarker = "/*pgraft:alter*/ "

// Encode returns the statement text that carries s.
func (s *AlterSpec) Encode() string {
	b, err := json.Marshal(s)
	if err != nil {
		panic("translate: AlterSpec does not encode: " + err.Error()) // plain strings and slices always do
	}
	return AlterMarker + string(b)
}

// DecodeAlter returns the AlterSpec carried by statement text q; ok is false
// when q carries none.
func DecodeAlter(q string) (s *AlterSpec, ok bool, err error) {
	if !strings.HasPrefix(q, AlterMarker) {
		return nil, false, nil
	}
	s = &AlterSpec{}
	if err := json.Unmarshal([]byte(q[len(AlterMarker):]), s); err != nil {
		return nil, true, err
	}
	return s, true, nil
}
