package sqlengine

import (
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// acl_catalog.go answers the catalog functions over privileges:
// has_table_privilege() and its kin, and acldefault(), from the engine's
// copies of the role and privilege stores (never the database: they run
// inside client reads).

// hasPrivilege answers has_table_privilege(user, table, privilege) and its
// kin (always with the user: translation supplies the session's) from the
// privilege catalog, as PostgreSQL's: several privileges separated by
// commas mean any of them, "WITH GRANT OPTION" asks for the option. A
// column is answered by its table (pgraft has no column privileges).
func (s *catalogState) hasPrivilege(fn string, a []any) (any, error) {
	user, obj, priv := asString(a[0]), a[1], asString(a[len(a)-1])
	var roles map[string]Role
	if s != nil && s.roles != nil {
		if r := s.roles.Load(); r != nil {
			roles = *r
		}
	}
	r, ok := roles[user]
	if !ok && user != "postgres" {
		return nil, pgerror.New(pgerror.UndefinedObject, "role \"%s\" does not exist", user)
	}
	var p *Privileges
	if s != nil && s.privs != nil {
		p = s.privs.Load()
	}
	if p == nil {
		p = &Privileges{rels: map[string]*ObjectACL{}, public: defaultPublic()}
	}
	var o *ObjectACL
	if fn == "has_schema_privilege" {
		if name := asString(obj); name != "public" && name != "2200" {
			return int64(1), nil // pg_catalog, information_schema: everyone's USAGE
		}
		o = p.public
	} else {
		name := ""
		if n, err := toInt(obj); err == nil {
			if snap := s.Get(); snap != nil {
				if t := snap.byOID[uint32(n)]; t != nil {
					name = t.Name
				}
			}
		} else if name, ok = translate.RegclassName(asString(obj)); !ok {
			return nil, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", asString(obj))
		}
		if o = p.rels[name]; o == nil {
			return int64(1), nil // a catalog relation: everyone may read it
		}
	}
	if !ok || r.Superuser {
		return int64(1), nil
	}
	for _, want := range strings.Split(priv, ",") {
		want = strings.ToUpper(strings.TrimSpace(want))
		option := strings.HasSuffix(want, " WITH GRANT OPTION")
		want = strings.TrimSpace(strings.TrimSuffix(want, " WITH GRANT OPTION"))
		letter := ""
		for l, n := range map[string]string{"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "D": "TRUNCATE",
			"x": "REFERENCES", "t": "TRIGGER", "U": "USAGE", "C": "CREATE"} {
			if n == want {
				letter = l
			}
		}
		if letter == "" {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "unrecognized privilege type: \"%s\"", want)
		}
		if o.Owner == user || !option && o.holds(user, letter) || option && o.grantable(user, letter) {
			return int64(1), nil
		}
	}
	return int64(0), nil
}

// aclDefault is acldefault(objtype, owner): PostgreSQL's built-in ACL of
// an object kind for an owner, as aclitem[] text.
func (s *catalogState) aclDefault(objtype string, owner any) (any, error) {
	n, _ := toInt(owner)
	name, ok := s.roleName(n)
	if !ok {
		return nil, pgerror.New(pgerror.UndefinedObject, "role with OID %d does not exist", n)
	}
	own := func(privs string) aclItem { return aclItem{grantee: name, grantor: name, privs: privs} }
	pub := func(privs string) aclItem { return aclItem{grantor: name, privs: privs} }
	var items []aclItem
	switch objtype {
	case "r":
		items = []aclItem{own("arwdDxt")}
	case "s":
		items = []aclItem{own("rwU")}
	case "n":
		items = []aclItem{own("UC")}
	case "f", "p":
		items = []aclItem{pub("X"), own("X")}
	case "T", "L":
		items = []aclItem{pub("U"), own("U")}
	case "d":
		items = []aclItem{pub("Tc"), own("CTc")}
	case "F", "S":
		items = []aclItem{own("U")}
	case "l":
		items = []aclItem{own("rw")}
	case "c":
		items = []aclItem{own("arwx")}
	default:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "unrecognized object type abbreviation: %s", objtype)
	}
	return aclText(items), nil
}

// roleName is the name of the role with oid n: a stored role, or the two
// pg_authid always shows (postgres while none has oid 10, and
// pg_database_owner, which owns schema public).
func (s *catalogState) roleName(n int64) (string, bool) {
	if s != nil && s.roles != nil {
		if roles := s.roles.Load(); roles != nil {
			for _, r := range *roles {
				if r.OID == n {
					return r.Name, true
				}
			}
		}
	}
	switch n {
	case 10:
		return "postgres", true
	case 6171:
		return "pg_database_owner", true
	}
	return "", false
}
