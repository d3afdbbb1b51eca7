package translate

import (
	"reflect"
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

func TestCopyStatement(t *testing.T) {
	tests := []struct {
		sql    string
		insert string
		cols   []string
		opts   CopyOptions
		access string
	}{
		{sql: "COPY users FROM STDIN", insert: `INSERT INTO "users" ("id", "name", "email", "active", "created_at", "score")`,
			cols: []string{"id", "name", "email", "active", "created_at", "score"},
			opts: CopyOptions{Format: "text", Delimiter: "\t", Null: `\N`}, access: "a"},
		{sql: "COPY users (name, id) FROM stdin WITH CSV HEADER", insert: `INSERT INTO "users" ("name", "id")`,
			cols: []string{"name", "id"},
			opts: CopyOptions{Format: "csv", Delimiter: ",", Quote: `"`, Escape: `"`, Header: true}, access: "a"},
		{sql: "COPY users (name) FROM STDIN WITH (FORMAT csv, HEADER match, DELIMITER ';', NULL 'x', QUOTE '''', ESCAPE '\\', FORCE_NOT_NULL (name), FORCE_NULL (name), ENCODING 'UTF8')",
			insert: `INSERT INTO "users" ("name")`, cols: []string{"name"},
			opts: CopyOptions{Format: "csv", Delimiter: ";", Null: "x", Quote: "'", Escape: `\`, Header: true, HeaderMatch: true,
				ForceNotNull: []string{"name"}, ForceNull: []string{"name"}}, access: "a"},
		{sql: "COPY users (id) TO STDOUT DELIMITER AS '|' NULL AS 'nil'", cols: []string{"id"},
			opts: CopyOptions{Format: "text", Delimiter: "|", Null: "nil"}, access: "r"},
		{sql: "COPY users TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)", cols: []string{"id", "name", "email", "active", "created_at", "score"},
			opts: CopyOptions{Format: "csv", Delimiter: ",", Quote: `"`, Escape: `"`, ForceQuoteAll: true}, access: "r"},
		{sql: "COPY users (name) FROM STDIN WITH CSV HEADER DELIMITER AS ';' NULL AS 'x' QUOTE AS '''' ESCAPE AS '\\' FORCE NOT NULL name",
			insert: `INSERT INTO "users" ("name")`, cols: []string{"name"},
			opts: CopyOptions{Format: "csv", Delimiter: ";", Null: "x", Quote: "'", Escape: `\`, Header: true,
				ForceNotNull: []string{"name"}}, access: "a"},
		{sql: "COPY users (id, name) TO STDOUT CSV FORCE QUOTE name, id", cols: []string{"id", "name"},
			opts: CopyOptions{Format: "csv", Delimiter: ",", Quote: `"`, Escape: `"`, ForceQuote: []string{"name", "id"}}, access: "r"},
		{sql: "COPY users FROM STDIN BINARY", cols: []string{"id", "name", "email", "active", "created_at", "score"},
			insert: `INSERT INTO "users" ("id", "name", "email", "active", "created_at", "score")`,
			opts:   CopyOptions{Format: "binary", Delimiter: "\t", Null: `\N`}, access: "a"},
	}
	for _, tc := range tests {
		st := translateOne(t, tc.sql)
		c := st.Copy
		if st.Kind != KindCopy || c == nil {
			t.Fatalf("%s: kind %v", tc.sql, st.Kind)
		}
		var cols []string
		for _, col := range c.Columns {
			cols = append(cols, col.Name)
		}
		if c.Insert != tc.insert || !reflect.DeepEqual(cols, tc.cols) || !reflect.DeepEqual(c.Options, tc.opts) {
			t.Errorf("%s:\n insert %q cols %v opts %+v\nwant %q %v %+v", tc.sql, c.Insert, cols, c.Options, tc.insert, tc.cols, tc.opts)
		}
		if len(st.Access) != 1 || st.Access[0].Rel != "users" || st.Access[0].Privs != tc.access {
			t.Errorf("%s: access %+v", tc.sql, st.Access)
		}
		if !c.From && (c.Query == nil || c.Query.Kind != KindSelect) {
			t.Errorf("%s: no query", tc.sql)
		}
	}
	q := translateOne(t, "COPY (SELECT name FROM users WHERE id > 1) TO STDOUT").Copy
	if q.Query == nil || q.Relation != "" || len(q.Query.Access) != 1 || q.Query.Access[0].Privs != "r" || q.Query.Source == "" {
		t.Errorf("COPY (query): %+v", q)
	}
}

func TestCopyStatementErrors(t *testing.T) {
	for sql, code := range map[string]string{
		"COPY users FROM '/etc/passwd'":                                   pgerror.InsufficientPrivilege,
		"COPY users TO '/tmp/x'":                                          pgerror.InsufficientPrivilege,
		"COPY users TO PROGRAM 'cat'":                                     pgerror.InsufficientPrivilege,
		"COPY nosuch FROM STDIN":                                          pgerror.UndefinedTable,
		"COPY users (nosuch) FROM STDIN":                                  pgerror.UndefinedColumn,
		"COPY users (id, id) FROM STDIN":                                  pgerror.DuplicateColumn,
		"COPY users FROM STDIN (FORMAT xml)":                              pgerror.InvalidParameterValue,
		"COPY users FROM STDIN (FORMAT csv, FORMAT text)":                 pgerror.SyntaxError,
		"COPY users FROM STDIN (BOGUS)":                                   pgerror.SyntaxError,
		"COPY users FROM STDIN (DELIMITER ',,')":                          pgerror.FeatureNotSupported,
		"COPY users FROM STDIN (DELIMITER 'a')":                           pgerror.FeatureNotSupported,
		"COPY users FROM STDIN (QUOTE '\"')":                              pgerror.FeatureNotSupported,
		"COPY users FROM STDIN (FORMAT csv, DELIMITER '\"')":              pgerror.InvalidParameterValue,
		"COPY users TO STDOUT (FORMAT csv, FORCE_NOT_NULL (id))":          pgerror.FeatureNotSupported,
		"COPY users FROM STDIN (FORMAT csv, FORCE_QUOTE (id))":            pgerror.FeatureNotSupported,
		"COPY users FROM STDIN (FORMAT csv, FORCE_NULL (nosuch))":         pgerror.InvalidColumnReference,
		"COPY users FROM STDIN (FORMAT binary, HEADER)":                   pgerror.FeatureNotSupported,
		"COPY users TO STDOUT (FORMAT csv, HEADER match)":                 pgerror.FeatureNotSupported,
		"COPY users FROM STDIN (NULL 'a\tb')":                             pgerror.FeatureNotSupported,
		"COPY users FROM STDIN (ENCODING 'LATIN1')":                       pgerror.FeatureNotSupported,
		"COPY users FROM STDIN WHERE id > 1":                              pgerror.FeatureNotSupported,
		"COPY (INSERT INTO users (id) VALUES (1) RETURNING id) TO STDOUT": pgerror.FeatureNotSupported,
	} {
		_, err := SQL(sql, testSchema(), testOptions())
		if pgerror.Code(err) != code {
			t.Errorf("%s: %v (%s), want %s", sql, err, pgerror.Code(err), code)
		}
	}
}

func TestCopyQueryForms(t *testing.T) {
	for sql, catalog := range map[string]bool{
		"COPY pg_catalog.pg_class TO STDOUT":                        true,
		"COPY pg_class (relname) TO STDOUT":                         true,
		"COPY (SELECT relname FROM pg_class) TO STDOUT":             true,
		"COPY (SELECT name FROM users) TO STDOUT WITH (FORMAT csv)": false,
	} {
		st := translateOne(t, sql)
		if st.Copy.Query == nil || st.Copy.Query.Catalog != catalog || st.Catalog != catalog {
			t.Errorf("%s: catalog %v", sql, st.Copy.Query.Catalog)
		}
	}
	for sql, code := range map[string]string{
		"COPY (SELECT $1) TO STDOUT":           pgerror.UndefinedParameter,
		"COPY (SELECT nextval('s')) TO STDOUT": pgerror.FeatureNotSupported,
		"COPY pg_class FROM STDIN":             pgerror.UndefinedTable,
		"COPY pg_catalog.pg_class FROM STDIN":  pgerror.InsufficientPrivilege,
	} {
		_, err := SQL(sql, testSchema(), testOptions())
		if pgerror.Code(err) != code {
			t.Errorf("%s: %v (%s), want %s", sql, err, pgerror.Code(err), code)
		}
	}
}
