package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Role statements: CREATE/ALTER/DROP ROLE and USER, ALTER ROLE … RENAME TO.
// They carry no SQL: the session checks the client's right to run them,
// turns a password into its SCRAM verifier (only the leader can: the salt
// is random) and logs a RoleChange (roles.go).

// RoleAction is what a role statement does.
type RoleAction string

const (
	RoleCreate RoleAction = "create" // CREATE ROLE/USER: 42710 if it exists
	RoleEnsure RoleAction = "ensure" // the bootstrap superuser: create unless it exists
	RoleAlter  RoleAction = "alter"  // ALTER ROLE/USER: the attributes given
	RoleRename RoleAction = "rename" // ALTER ROLE … RENAME TO NewName
	RoleDrop   RoleAction = "drop"   // DROP ROLE/USER [IF EXISTS]
	RoleGrant  RoleAction = "grant"  // GRANT privileges ON objects TO roles (Privilege)
	RoleRevoke RoleAction = "revoke" // REVOKE privileges ON objects FROM roles (Privilege)
)

// RoleChange is one role statement as the log carries it (sqlengine's
// OpRole). A nil attribute is left as it is (ALTER) or takes its default
// (CREATE).
type RoleChange struct {
	Action   RoleAction `json:"action"`
	Name     string     `json:"name"`
	NewName  string     `json:"new_name,omitempty"`
	IfExists bool       `json:"if_exists,omitempty"`
	// Verifier is the SCRAM verifier to store; "" stores none
	// (PASSWORD NULL). Never a plaintext password.
	Verifier   *string `json:"verifier,omitempty"`
	Superuser  *bool   `json:"superuser,omitempty"`
	Login      *bool   `json:"login,omitempty"`
	CreateRole *bool   `json:"createrole,omitempty"`
	CreateDB   *bool   `json:"createdb,omitempty"`
	// Privilege is GRANT's and REVOKE's change (RoleGrant, RoleRevoke).
	Privilege *PrivilegeChange `json:"privilege,omitempty"`
}

// PrivilegeChange is a GRANT or REVOKE on tables, views, sequences or
// schema public (sqlengine/acl.go applies it).
type PrivilegeChange struct {
	ObjType     string   `json:"objtype"`                 // "table" (tables, views, sequences), "sequence", "schema"
	Objects     []string `json:"objects,omitempty"`       // folded names; none with AllInSchema
	AllInSchema bool     `json:"all_in_schema,omitempty"` // ON ALL TABLES/SEQUENCES IN SCHEMA public
	Privs       string   `json:"privs"`                   // aclitem letters; "" for ALL
	Grantees    []string `json:"grantees"`                // role names; "" is PUBLIC
	GrantOption bool     `json:"grant_option,omitempty"`  // WITH GRANT OPTION; REVOKE GRANT OPTION FOR
	// Defaults: ALTER DEFAULT PRIVILEGES [FOR ROLE ForRoles] [IN SCHEMA
	// public (InSchema)]: the privileges of what ForRoles (else the
	// grantor) create from now on; ObjType "table" or "sequence".
	Defaults bool     `json:"defaults,omitempty"`
	ForRoles []string `json:"for_roles,omitempty"`
	InSchema bool     `json:"in_schema,omitempty"`
	// Grantor is the session user and GrantorSuper whether it is a
	// superuser, filled by the server: a non-superuser grants only on what
	// it owns or holds with GRANT OPTION.
	Grantor      string `json:"grantor"`
	GrantorSuper bool   `json:"grantor_super,omitempty"`
}

// RoleStmt is a translated role statement.
type RoleStmt struct {
	Change RoleChange // Verifier unset: see Password
	// Password is PASSWORD's argument as written (a plaintext password or
	// a SCRAM verifier), nil when the statement gives none; PasswordNull
	// is PASSWORD NULL.
	Password     *string
	PasswordNull bool
}

// roleStatement translates a role statement; nil when n is not one.
func (t *translator) roleStatement(n *pg.Node) *Stmt {
	switch v := n.GetNode().(type) {
	case *pg.Node_CreateRoleStmt:
		s := v.CreateRoleStmt
		if s.StmtType == pg.RoleStmtType_ROLESTMT_GROUP {
			t.unsupported("CREATE GROUP")
		}
		rs := &RoleStmt{Change: RoleChange{Action: RoleCreate, Name: s.Role}}
		if s.StmtType == pg.RoleStmtType_ROLESTMT_USER {
			rs.Change.Login = ptrTo(true) // CREATE USER is CREATE ROLE … LOGIN
		}
		t.roleOptions(rs, s.Options)
		tag := "CREATE ROLE"
		return &Stmt{Kind: KindRole, Tag: tag, Role: rs}
	case *pg.Node_AlterRoleStmt:
		s := v.AlterRoleStmt
		if s.Action != 0 && s.Action != 1 { // ALTER GROUP … ADD/DROP USER
			t.unsupported("ALTER GROUP")
		}
		rs := &RoleStmt{Change: RoleChange{Action: RoleAlter, Name: t.roleSpecName(s.Role)}}
		t.roleOptions(rs, s.Options)
		return &Stmt{Kind: KindRole, Tag: "ALTER ROLE", Role: rs}
	case *pg.Node_DropRoleStmt:
		s := v.DropRoleStmt
		if len(s.Roles) != 1 {
			t.unsupported("DROP ROLE of several roles in one statement")
		}
		rs := &RoleStmt{Change: RoleChange{Action: RoleDrop, Name: t.roleSpecName(s.Roles[0].GetRoleSpec()), IfExists: s.MissingOk}}
		return &Stmt{Kind: KindRole, Tag: "DROP ROLE", Role: rs}
	case *pg.Node_RenameStmt:
		s := v.RenameStmt
		if s.RenameType != pg.ObjectType_OBJECT_ROLE {
			return nil
		}
		rs := &RoleStmt{Change: RoleChange{Action: RoleRename, Name: s.Subname, NewName: s.Newname}}
		return &Stmt{Kind: KindRole, Tag: "ALTER ROLE", Role: rs}
	case *pg.Node_AlterRoleSetStmt:
		t.unsupported("ALTER ROLE … SET")
	case *pg.Node_GrantRoleStmt:
		t.unsupported("GRANT role membership")
	case *pg.Node_GrantStmt:
		return t.grantStatement(v.GrantStmt)
	case *pg.Node_AlterDefaultPrivilegesStmt:
		return t.defaultPrivileges(v.AlterDefaultPrivilegesStmt)
	}
	return nil
}

// privilegeLetters are the aclitem letters of GRANT's privilege names.
var privilegeLetters = map[string]string{
	"select": "r", "insert": "a", "update": "w", "delete": "d", "truncate": "D",
	"references": "x", "trigger": "t", "usage": "U", "create": "C",
}

// grantStatement translates GRANT and REVOKE of privileges on tables,
// views, sequences and schema public. GRANT on the database (everyone may
// connect already) and on all functions (there are none) change nothing.
func (t *translator) grantStatement(s *pg.GrantStmt) *Stmt {
	tag := "GRANT"
	action := RoleGrant
	if !s.IsGrant {
		tag, action = "REVOKE", RoleRevoke
	}
	pc := &PrivilegeChange{GrantOption: s.GrantOption}
	defaults := s.Targtype == pg.GrantTargetType_ACL_TARGET_DEFAULTS
	switch s.Objtype {
	case pg.ObjectType_OBJECT_TABLE:
		pc.ObjType = "table"
	case pg.ObjectType_OBJECT_SEQUENCE:
		pc.ObjType = "sequence"
	case pg.ObjectType_OBJECT_SCHEMA:
		pc.ObjType = "schema"
	case pg.ObjectType_OBJECT_DATABASE:
		if s.IsGrant {
			return &Stmt{Kind: KindNoop, Tag: tag}
		}
		t.unsupported("REVOKE on a database")
	case pg.ObjectType_OBJECT_FUNCTION, pg.ObjectType_OBJECT_PROCEDURE, pg.ObjectType_OBJECT_ROUTINE, pg.ObjectType_OBJECT_TYPE:
		if s.Targtype == pg.GrantTargetType_ACL_TARGET_ALL_IN_SCHEMA || defaults {
			// There are no user functions or types: nothing to grant on.
			return &Stmt{Kind: KindNoop, Tag: tag}
		}
		t.unsupported("%s on a function", tag)
	default:
		t.unsupported("%s on this kind of object", tag)
	}
	if defaults {
		if pc.ObjType == "schema" {
			t.unsupported("ALTER DEFAULT PRIVILEGES … ON SCHEMAS")
		}
		pc.Defaults = true
	} else if s.Targtype == pg.GrantTargetType_ACL_TARGET_ALL_IN_SCHEMA {
		pc.AllInSchema = true
		for _, o := range s.Objects {
			if name := o.GetString_().GetSval(); name != "public" {
				t.fail(pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", name))
			}
		}
	} else {
		for _, o := range s.Objects {
			if pc.ObjType == "schema" {
				name := o.GetString_().GetSval()
				if name != "public" {
					t.fail(pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", name))
				}
				pc.Objects = append(pc.Objects, name)
				continue
			}
			rv := o.GetRangeVar()
			name, ok := userRelation(rv)
			if !ok {
				t.fail(pgerror.New(pgerror.InsufficientPrivilege, "permission denied for schema %s", rv.GetSchemaname()))
			}
			pc.Objects = append(pc.Objects, name)
		}
	}
	for _, p := range s.Privileges {
		ap := p.GetAccessPriv()
		if ap == nil {
			continue
		}
		if len(ap.Cols) > 0 {
			t.unsupported("column privileges")
		}
		if ap.PrivName == "" { // ALL (PRIVILEGES) (col, …)
			continue
		}
		letter, ok := privilegeLetters[ap.PrivName]
		if !ok {
			t.fail(pgerror.New("0LP01", "unrecognized privilege type \"%s\"", ap.PrivName))
		}
		if !strings.Contains(pc.Privs, letter) {
			pc.Privs += letter
		}
	}
	for _, g := range s.Grantees {
		r := g.GetRoleSpec()
		switch r.GetRoletype() {
		case pg.RoleSpecType_ROLESPEC_PUBLIC:
			pc.Grantees = append(pc.Grantees, "")
		case pg.RoleSpecType_ROLESPEC_CSTRING:
			pc.Grantees = append(pc.Grantees, r.Rolename)
		default:
			t.unsupported("CURRENT_USER and SESSION_USER as a grantee")
		}
	}
	if s.Grantor != nil {
		t.unsupported("GRANTED BY")
	}
	name := "public"
	if len(pc.Objects) > 0 {
		name = pc.Objects[0]
	}
	rs := &RoleStmt{Change: RoleChange{Action: action, Name: name, Privilege: pc}}
	return &Stmt{Kind: KindRole, Tag: tag, Role: rs}
}

// defaultPrivileges translates ALTER DEFAULT PRIVILEGES.
func (t *translator) defaultPrivileges(s *pg.AlterDefaultPrivilegesStmt) *Stmt {
	st := t.grantStatement(s.Action)
	if st.Kind == KindNoop {
		st.Tag = "ALTER DEFAULT PRIVILEGES"
		return st
	}
	pc := st.Role.Change.Privilege
	for _, o := range s.Options {
		d := o.GetDefElem()
		switch d.GetDefname() {
		case "schemas":
			for _, n := range d.Arg.GetList().GetItems() {
				if name := n.GetString_().GetSval(); name != "public" {
					t.fail(pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", name))
				}
				pc.InSchema = true
			}
		case "roles":
			for _, n := range d.Arg.GetList().GetItems() {
				pc.ForRoles = append(pc.ForRoles, t.roleSpecName(n.GetRoleSpec()))
			}
		default:
			t.unsupported("ALTER DEFAULT PRIVILEGES option %s", d.GetDefname())
		}
	}
	st.Tag = "ALTER DEFAULT PRIVILEGES"
	return st
}

// roleSpecName is the role a RoleSpec names: a name, not CURRENT_USER and
// the like (not supported yet).
func (t *translator) roleSpecName(r *pg.RoleSpec) string {
	if r == nil || r.Roletype != pg.RoleSpecType_ROLESPEC_CSTRING {
		t.unsupported("CURRENT_USER, SESSION_USER and PUBLIC as a role name")
	}
	return r.Rolename
}

// roleOptions reads CREATE/ALTER ROLE's options into rs.
func (t *translator) roleOptions(rs *RoleStmt, opts []*pg.Node) {
	c := &rs.Change
	for _, o := range opts {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		switch d.Defname {
		case "password":
			if d.Arg == nil {
				rs.PasswordNull = true
				continue
			}
			sv := d.Arg.GetString_()
			if sv == nil {
				t.fail(pgerror.New(pgerror.SyntaxError, "password must be a string constant"))
			}
			rs.Password = &sv.Sval
		case "superuser":
			c.Superuser = ptrTo(t.roleFlag(d))
		case "canlogin":
			c.Login = ptrTo(t.roleFlag(d))
		case "createrole":
			c.CreateRole = ptrTo(t.roleFlag(d))
		case "createdb":
			c.CreateDB = ptrTo(t.roleFlag(d))
		case "inherit":
			if !t.roleFlag(d) {
				t.unsupported("NOINHERIT")
			}
		case "connectionlimit":
			if n := d.Arg.GetInteger(); n == nil || n.Ival != -1 {
				t.unsupported("CONNECTION LIMIT for a role")
			}
		case "isreplication", "bypassrls":
			if t.roleFlag(d) {
				t.unsupported("REPLICATION and BYPASSRLS")
			}
		default:
			t.unsupported("role option %s", d.Defname)
		}
	}
}

// roleFlag is a boolean role option's value (SUPERUSER, NOLOGIN, …).
func (t *translator) roleFlag(d *pg.DefElem) bool {
	switch a := d.Arg.GetNode().(type) {
	case *pg.Node_Boolean:
		return a.Boolean.Boolval
	case *pg.Node_Integer:
		return a.Integer.Ival != 0
	}
	t.unsupported("role option %s", d.Defname)
	return false
}

func ptrTo[T any](v T) *T { return &v }
