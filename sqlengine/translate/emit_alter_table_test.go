package translate

import (
	"encoding/json"
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// alterSpecOf translates one ALTER statement and decodes its spec.
func alterSpecOf(t *testing.T, sql string) *AlterSpec {
	t.Helper()
	st := translateOne(t, sql)
	spec, ok, err := DecodeAlter(st.SQL)
	if !ok || err != nil || st.Kind != KindDDL {
		t.Fatalf("SQL(%q) = %+v: not an ALTER spec (%v)", sql, st, err)
	}
	return spec
}

func TestTranslateAlterTable(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"pg_dump primary key", "ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id)",
			`{"table":"orders","actions":[{"op":"add_constraint","name":"orders_pkey","kind":"p","cols":["id"],"sql":"PRIMARY KEY (id)"}]}`},
		{"django deferrable foreign key", `ALTER TABLE "orders" ADD CONSTRAINT "orders_user_id_fk_users_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") DEFERRABLE INITIALLY DEFERRED`,
			`{"table":"orders","actions":[{"op":"add_constraint","name":"orders_user_id_fk_users_id","kind":"f","cols":["user_id"],"sql":"FOREIGN KEY (user_id) REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED","ref_table":"users","ref_cols":["id"]}]}`},
		{"knex foreign key with action", `alter table "orders" add constraint "orders_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
			`{"table":"orders","actions":[{"op":"add_constraint","name":"orders_user_id_foreign","kind":"f","cols":["user_id"],"sql":"FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE","ref_table":"users","ref_cols":["id"]}]}`},
		{"unnamed unique and check", "ALTER TABLE users ADD UNIQUE (email), ADD CHECK (score > 0) NOT VALID",
			`{"table":"users","actions":[{"op":"add_constraint","kind":"u","cols":["email"],"sql":"UNIQUE (email)"},{"op":"add_constraint","kind":"c","sql":"CHECK (score \u003e pg_numeric(0) COLLATE pg_numeric)","check":"score \u003e pg_numeric(0) COLLATE pg_numeric","no_validate":true}]}`},
		{"type change converts with a cast", `ALTER TABLE "orders" ALTER COLUMN "note" TYPE VARCHAR(255)`,
			`{"table":"orders","actions":[{"op":"set_type","column":"note","sql":"VARCHAR(255)","using":"pg_cast(note, 'text', 'varchar', 259)","type":"varchar"}]}`},
		{"type change with USING and a range check", "ALTER TABLE orders ALTER COLUMN note TYPE int USING note::int",
			`{"table":"orders","actions":[{"op":"set_type","column":"note","sql":"INT4","using":"pg_cast(note, 'text', 'int4', -1)","type":"int4","check":"CONSTRAINT \"pgraft_range_int4_note\" CHECK (\"note\" BETWEEN -2147483648 AND 2147483647)"}]}`},
		{"defaults and not null", `ALTER TABLE users ALTER COLUMN "email" SET DEFAULT 'x', ALTER COLUMN active DROP DEFAULT, ALTER COLUMN email SET NOT NULL, ALTER name DROP NOT NULL`,
			`{"table":"users","actions":[{"op":"set_default","column":"email","sql":"('x')"},{"op":"drop_default","column":"active"},{"op":"set_not_null","column":"email"},{"op":"drop_not_null","column":"name"}]}`},
		{"drop constraint and column", "ALTER TABLE IF EXISTS users DROP CONSTRAINT IF EXISTS users_email_key CASCADE, DROP COLUMN email",
			`{"table":"users","actions":[{"op":"drop_constraint","name":"users_email_key","missing_ok":true,"cascade":true},{"op":"drop_column","column":"email"}]}`},
		{"add column with constraints", "ALTER TABLE orders ADD COLUMN code text NOT NULL DEFAULT 'a' UNIQUE REFERENCES users(name)",
			`{"table":"orders","actions":[{"op":"add_column","column":"code","sql":"\"code\" TEXT NOT NULL DEFAULT ('a') UNIQUE REFERENCES users (name)"}]}`},
		{"owner is checked at apply", "ALTER TABLE public.users OWNER TO postgres",
			`{"table":"users","actions":[{"op":"owner","name":"postgres","object":"users"}]}`},
		{"later commands see earlier columns", "ALTER TABLE users ADD COLUMN d int, ALTER COLUMN d SET DEFAULT 3, ADD UNIQUE (d), DROP COLUMN d",
			`{"table":"users","actions":[{"op":"add_column","column":"d","sql":"\"d\" INT4 CONSTRAINT \"pgraft_range_int4_d\" CHECK (\"d\" BETWEEN -2147483648 AND 2147483647)"},{"op":"set_default","column":"d","sql":"(3)"},{"op":"add_constraint","kind":"u","cols":["d"],"sql":"UNIQUE (d)"},{"op":"drop_column","column":"d"}]}`},
		{"rename table", "ALTER TABLE users RENAME TO people",
			`{"table":"users","actions":[{"op":"rename_table","new_name":"people"}]}`},
		{"rename constraint", "ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk",
			`{"table":"users","actions":[{"op":"rename_constraint","name":"users_pkey","new_name":"users_pk"}]}`},
		{"owner of what is no table (pg_dump's sequences)", "ALTER TABLE public.users_id_seq OWNER TO postgres",
			`{"table":"","actions":[{"op":"owner","name":"postgres","object":"users_id_seq"}]}`},
		{"owner of a sequence", "ALTER SEQUENCE public.users_id_seq OWNER TO postgres",
			`{"table":"","actions":[{"op":"owner","name":"postgres","object":"users_id_seq"}]}`},
		{"rename index", "ALTER INDEX IF EXISTS users_email_idx RENAME TO users_mail_idx",
			`{"table":"","actions":[{"op":"rename_index","name":"users_email_idx","new_name":"users_mail_idx","missing_ok":true}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := json.Marshal(alterSpecOf(t, c.in))
			if string(got) != c.want {
				t.Errorf("%s\n got: %s\nwant: %s", c.in, got, c.want)
			}
		})
	}
}

func TestTranslateAlterAccepted(t *testing.T) {
	for _, in := range []string{
		"ALTER TABLE users OWNER TO CURRENT_USER",
		"ALTER TABLE users SET (fillfactor = 70, autovacuum_enabled = false)",
		"ALTER TABLE users RESET (fillfactor)",
		"ALTER TABLE users SET SCHEMA public",
		"ALTER TABLE users ALTER COLUMN name SET STATISTICS 100",
		"ALTER TABLE users CLUSTER ON users_pkey",
		"ALTER TABLE users REPLICA IDENTITY FULL",
		"ALTER TABLE IF EXISTS nope ADD COLUMN a int",
		"ALTER INDEX users_pkey SET (fillfactor = 90)",
		`SET CONSTRAINTS "orders_user_id_fk" IMMEDIATE`,
		"SET CONSTRAINTS ALL IMMEDIATE",
	} {
		if st := translateOne(t, in); st.Kind != KindNoop {
			t.Errorf("%s: %+v, want KindNoop", in, st)
		}
	}
	for in, want := range map[string]string{
		"CREATE TABLE w (a int) WITH (fillfactor = 100, oids = false, autovacuum_enabled = false, toast.autovacuum_enabled = false)": `CREATE TABLE w ("a" INT4 CONSTRAINT "pgraft_range_int4_a" CHECK ("a" BETWEEN -2147483648 AND 2147483647))`,
		"CREATE INDEX ON users (name) WITH (fillfactor = 50, deduplicate_items = off)":                                               "CREATE INDEX users_name_idx ON users (name)",
	} {
		if st := translateOne(t, in); st.SQL != want {
			t.Errorf("%s: %q, want %q", in, st.SQL, want)
		}
	}
}

func TestTranslateAlterErrors(t *testing.T) {
	for in, code := range map[string]string{
		"ALTER TABLE nope ADD COLUMN a int":                           pgerror.UndefinedTable,
		"ALTER TABLE users ALTER COLUMN nope SET NOT NULL":            pgerror.UndefinedColumn,
		"ALTER TABLE users DROP COLUMN nope":                          pgerror.UndefinedColumn,
		"ALTER TABLE users ALTER COLUMN name TYPE int":                pgerror.DatatypeMismatch,
		"ALTER TABLE users ALTER COLUMN name TYPE nosuchtype":         pgerror.UndefinedObject,
		"ALTER TABLE users SET (nonsense = 1)":                        pgerror.InvalidParameterValue,
		"ALTER TABLE users SET (fillfactor = 5)":                      pgerror.InvalidParameterValue,
		"ALTER TABLE users SET SCHEMA other":                          invalidSchemaName,
		"SET CONSTRAINTS ALL DEFERRED":                                pgerror.FeatureNotSupported,
		"CREATE TABLE w (a int) WITH (oids = true)":                   pgerror.FeatureNotSupported,
		"CREATE TABLE w (a int) WITH (fillfactor)":                    pgerror.InvalidParameterValue,
		"CREATE INDEX ON users (name) WITH (foo = 1)":                 pgerror.InvalidParameterValue,
		"ALTER TABLE users ADD FOREIGN KEY (id) REFERENCES nope (id)": pgerror.UndefinedTable,
		"ALTER TABLE users ADD PRIMARY KEY USING INDEX nope":          pgerror.UndefinedObject,
		"ALTER TABLE users RENAME COLUMN nope TO x":                   pgerror.UndefinedColumn,
		"ALTER TABLE users ALTER COLUMN name SET DEFAULT $1":          pgerror.UndefinedParameter,
	} {
		_, err := SQL(in, testSchema(), testOptions())
		if pgerror.Code(err) != code {
			t.Errorf("SQL(%q) = %v, want %s", in, err, code)
		}
	}
}
