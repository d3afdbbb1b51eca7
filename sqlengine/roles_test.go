package sqlengine

import (
	"context"
	"strings"
	"testing"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

func roleEntry(t *testing.T, changes ...RoleChange) []byte {
	t.Helper()
	p := &Payload{Ctx: ExecContext{TimeMicros: 1, Seed: 1, TimeZone: "UTC"}, StepBudget: MaxStatementSteps}
	for _, c := range changes {
		op, err := RoleOp(c)
		if err != nil {
			t.Fatal(err)
		}
		p.Ops = append(p.Ops, op)
	}
	b, err := EncodePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func applyRoles(t *testing.T, e *Engine, index uint64, changes ...RoleChange) error {
	t.Helper()
	out := e.ApplyBatch([]Command{{Index: index, Data: roleEntry(t, changes...)}})
	ar, ok := out[0].(*ApplyResult)
	if !ok {
		t.Fatalf("apply: %v", out[0])
	}
	if ar.Err != nil {
		return ar.Err
	}
	for _, r := range ar.Results {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// TestRoleChanges: roles are created, altered, renamed and dropped through
// the log, with PostgreSQL's errors, and read back; pg_authid shows them
// without passwords.
func TestRoleChanges(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	if _, ok := e.Role("postgres"); ok {
		t.Fatal("a new engine has a stored role")
	}
	v := "SCRAM-SHA-256$4096:c2FsdA==$AAAA:BBBB"
	if err := applyRoles(t, e, 1,
		RoleChange{Action: RoleEnsure, Name: "postgres", Verifier: &v, Superuser: ptr(true), Login: ptr(true)},
		RoleChange{Action: RoleEnsure, Name: "postgres"}, // already there: nothing
		RoleChange{Action: RoleCreate, Name: "alice", Login: ptr(true)},
	); err != nil {
		t.Fatal(err)
	}
	index := uint64(2)
	for _, tc := range []struct {
		change RoleChange
		code   string
	}{
		{RoleChange{Action: RoleCreate, Name: "alice"}, pgerror.DuplicateObject},
		{RoleChange{Action: RoleAlter, Name: "nobody", Login: ptr(true)}, pgerror.UndefinedObject},
		{RoleChange{Action: RoleDrop, Name: "nobody"}, pgerror.UndefinedObject},
		{RoleChange{Action: RoleRename, Name: "alice", NewName: "postgres"}, pgerror.DuplicateObject},
	} {
		err := applyRoles(t, e, index, tc.change)
		index++
		if pe := pgerror.As(err); pe == nil || pe.Code != tc.code {
			t.Errorf("%+v: %v, want %s", tc.change, err, tc.code)
		}
	}
	if err := applyRoles(t, e, 10,
		RoleChange{Action: RoleDrop, Name: "nobody", IfExists: true},
		RoleChange{Action: RoleAlter, Name: "alice", Verifier: &v, CreateRole: ptr(true)},
		RoleChange{Action: RoleRename, Name: "alice", NewName: "alicia"},
	); err != nil {
		t.Fatal(err)
	}
	r, ok := e.Role("alicia")
	if !ok {
		t.Fatal("Role(alicia): no such role")
	}
	if r.Verifier != v || !r.Login || !r.CreateRole || r.Superuser || r.OID < 16384 {
		t.Errorf("alicia = %+v", r)
	}
	if pg, _ := e.Role("postgres"); pg.OID != 10 || !pg.Superuser {
		t.Errorf("postgres = %+v, want oid 10, superuser", pg)
	}
	rows, err := e.Query(ctx, `SELECT oid, rolname, rolsuper, rolcanlogin, rolpassword FROM pg_authid ORDER BY oid`, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, append([]any(nil), vals...))
	}
	rows.Close()
	if len(got) != 3 || got[0][1] != "postgres" || got[1][1] != "pg_database_owner" || got[2][1] != "alicia" || got[2][4] != nil {
		t.Errorf("pg_authid = %v", got)
	}
	// A node that installs a snapshot has the roles at once.
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := snap.Persist(writerFunc(func(b []byte) (int, error) { return buf.WriteString(string(b)) })); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	e2 := newTestEngine(t)
	if err := e2.Restore(strings.NewReader(buf.String())); err != nil {
		t.Fatal(err)
	}
	if r2, ok := e2.Role("alicia"); !ok || r2 != r {
		t.Errorf("restored alicia = %+v, %v; want %+v", r2, ok, r)
	}
	if err := applyRoles(t, e, 11, RoleChange{Action: RoleDrop, Name: "alicia"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Role("alicia"); ok {
		t.Error("alicia still there after DROP ROLE")
	}
}

// TestRoleOpNeedsVersion3: a role operation in an older payload version
// is corrupt, not run.
func TestRoleOpNeedsVersion3(t *testing.T) {
	b := roleEntry(t, RoleChange{Action: RoleCreate, Name: "x"})
	b[0] = 2
	if _, err := DecodePayload(b); err == nil {
		t.Fatal("a version 2 payload with a role operation decoded")
	}
}
