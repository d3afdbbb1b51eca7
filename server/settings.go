package server

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// ServerVersion is what pgraft reports as server_version: PostgreSQL 15, so
// that psql 15 and drivers send the catalog queries they send to a 15.x
// server (PG-SURFACE.md b-3).
const (
	ServerVersion    = "15.18 (pgraft)"
	ServerVersionNum = "150018"
)

// guc describes one configuration parameter a session can SHOW or SET.
type guc struct {
	name     string // canonical spelling, as SHOW ALL and ParameterStatus print it
	def      string // default value
	reported bool   // sent as ParameterStatus (GUC_REPORT)
	readOnly bool   // SET fails with 55P02
	check    func(string) (string, error)
}

// gucs are the parameters pgraft knows. Names are looked up lower-case.
var gucs = func() map[string]*guc {
	list := []*guc{
		{name: "application_name", reported: true},
		{name: "client_encoding", def: "UTF8", reported: true, check: checkEncoding},
		{name: "DateStyle", def: "ISO, MDY", reported: true, check: checkDateStyle},
		{name: "default_transaction_read_only", def: "off", reported: true, check: checkBool},
		{name: "in_hot_standby", def: "off", reported: true, readOnly: true},
		{name: "integer_datetimes", def: "on", reported: true, readOnly: true},
		{name: "IntervalStyle", def: "postgres", reported: true},
		{name: "is_superuser", def: "on", reported: true, readOnly: true},
		{name: "server_encoding", def: "UTF8", reported: true, readOnly: true},
		{name: "server_version", def: ServerVersion, reported: true, readOnly: true},
		{name: "session_authorization", def: "postgres", reported: true},
		{name: "role", def: "none"},
		{name: "standard_conforming_strings", def: "on", reported: true, check: checkOn},
		{name: "TimeZone", def: "UTC", reported: true, check: checkTimeZone},
		{name: "server_version_num", def: ServerVersionNum, readOnly: true},
		{name: "extra_float_digits", def: "1", check: checkInt},
		{name: "search_path", def: `"$user", public`},
		{name: "statement_timeout", def: "0", check: checkDuration},
		{name: "lock_timeout", def: "10s", check: checkDuration},
		{name: "idle_in_transaction_session_timeout", def: "0", check: checkDuration},
		{name: "transaction_isolation", def: "read committed", check: checkIsolation},
		{name: "default_transaction_isolation", def: "read committed", check: checkIsolation},
		{name: "transaction_read_only", def: "off", check: checkBool},
		{name: "transaction_deferrable", def: "off", check: checkBool},
		{name: "default_transaction_deferrable", def: "off", check: checkBool},
		{name: "max_identifier_length", def: "63", readOnly: true},
		{name: "block_size", def: "8192", readOnly: true},
		{name: "max_connections", def: "100", readOnly: true},
		{name: "bytea_output", def: "hex", check: checkBytea},
		{name: "client_min_messages", def: "notice"},
		{name: "lc_messages", def: "C.UTF-8"},
		{name: "lc_monetary", def: "C.UTF-8"},
		{name: "lc_numeric", def: "C.UTF-8"},
		{name: "lc_time", def: "C.UTF-8"},
		{name: "lc_collate", def: "C.UTF-8", readOnly: true},
		{name: "lc_ctype", def: "C.UTF-8", readOnly: true},
		{name: "synchronous_commit", def: "on"},
		{name: "row_security", def: "on"},
		{name: "jit", def: "off"},
		{name: "xmloption", def: "content"},
		{name: "password_encryption", def: "scram-sha-256"},
		// What pg_dump and pg_restore set, with their meaning in pgraft:
		// every scan is synchronized-free already; no function bodies to
		// check; one tablespace and one table access method.
		{name: "synchronize_seqscans", def: "on", check: checkBool},
		{name: "check_function_bodies", def: "on", check: checkBool},
		{name: "default_tablespace", def: "", check: checkTablespace},
		{name: "temp_tablespaces", def: "", check: checkTablespace},
		{name: "default_table_access_method", def: "heap", check: checkAccessMethod},
		{name: "restrict_nonsystem_relation_kind", def: ""},
		{name: "quote_all_identifiers", def: "off", check: checkBool},
		{name: "escape_string_warning", def: "on", check: checkBool},
		{name: "array_nulls", def: "on", check: checkBool},
		{name: "default_toast_compression", def: "pglz"},
		{name: "idle_session_timeout", def: "0", check: checkDuration},
		// Planner, memory and statistics hints that tools and ORMs set for a
		// session: accepted and shown; SQLite plans its own way.
		{name: "work_mem", def: "4MB"},
		{name: "maintenance_work_mem", def: "64MB"},
		{name: "temp_buffers", def: "8MB"},
		{name: "effective_cache_size", def: "4GB"},
		{name: "random_page_cost", def: "4"},
		{name: "seq_page_cost", def: "1"},
		{name: "default_statistics_target", def: "100", check: checkInt},
		{name: "max_parallel_workers_per_gather", def: "2", check: checkInt},
		{name: "enable_seqscan", def: "on", check: checkBool},
		{name: "enable_indexscan", def: "on", check: checkBool},
		{name: "enable_bitmapscan", def: "on", check: checkBool},
		{name: "enable_hashjoin", def: "on", check: checkBool},
		{name: "enable_mergejoin", def: "on", check: checkBool},
		{name: "enable_nestloop", def: "on", check: checkBool},
		{name: "enable_sort", def: "on", check: checkBool},
		{name: "join_collapse_limit", def: "8", check: checkInt},
		{name: "from_collapse_limit", def: "8", check: checkInt},
		{name: "plan_cache_mode", def: "auto"},
		{name: "cursor_tuple_fraction", def: "0.1"},
		{name: "pgraft.read_consistency", def: "session", check: checkConsistency},
		{name: "pgraft.idle_write_timeout", def: "10s", check: checkDuration},
		{name: "pgraft.leader_wait", def: "5s", check: checkDuration},
		{name: "pgraft.max_transaction_size", def: defaultMaxTransactionSize, check: checkBytes},
		{name: "pgraft.max_lag", def: "0", check: checkDuration},
		{name: "pgraft.min_index", def: "0", check: checkInt},
	}
	m := make(map[string]*guc, len(list))
	for _, g := range list {
		m[strings.ToLower(g.name)] = g
	}
	return m
}()

// settings is one session's parameter values. Transaction-local values
// (SET LOCAL, SET TRANSACTION) sit in local and vanish at transaction end.
type settings struct {
	values map[string]string // lower-case name -> value; absent means default
	local  map[string]string
	custom map[string]string // placeholder "x.y" parameters
}

func newSettings() *settings {
	return &settings{values: map[string]string{}, local: map[string]string{}, custom: map[string]string{}}
}

// get returns a parameter's current value.
func (s *settings) get(name string) (string, bool) {
	n := strings.ToLower(name)
	if v, ok := s.local[n]; ok {
		return v, true
	}
	if v, ok := s.values[n]; ok {
		return v, true
	}
	if g, ok := gucs[n]; ok {
		return g.def, true
	}
	v, ok := s.custom[n]
	return v, ok
}

// set validates and stores a value; local values last until the transaction ends.
func (s *settings) set(name, value string, local bool) error {
	n := strings.ToLower(name)
	g, ok := gucs[n]
	if !ok {
		if strings.Contains(n, ".") && !strings.HasPrefix(n, "pgraft.") {
			s.custom[n] = value
			return nil
		}
		return pgerror.New(pgerror.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
	if g.readOnly {
		return pgerror.New("55P02", "parameter %q cannot be changed", g.name)
	}
	if g.check != nil {
		v, err := g.check(value)
		if err != nil {
			return err
		}
		value = v
	}
	if local {
		s.local[n] = value
	} else {
		s.values[n] = value
		delete(s.local, n)
	}
	return nil
}

// reset restores the default.
func (s *settings) reset(name string) error {
	n := strings.ToLower(name)
	if _, ok := gucs[n]; !ok {
		if _, ok := s.custom[n]; ok {
			delete(s.custom, n)
			return nil
		}
		return pgerror.New(pgerror.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
	delete(s.values, n)
	delete(s.local, n)
	return nil
}

func (s *settings) resetAll() {
	for n, g := range gucs {
		if !g.readOnly && n != "session_authorization" {
			delete(s.values, n)
		}
	}
	s.local = map[string]string{}
}

// endTransaction drops SET LOCAL values.
func (s *settings) endTransaction() { s.local = map[string]string{} }

// canonicalName is the spelling SHOW uses for its column.
func canonicalName(name string) string {
	if g, ok := gucs[strings.ToLower(name)]; ok {
		return strings.ToLower(g.name)
	}
	return strings.ToLower(name)
}

// all returns every known parameter, sorted, for SHOW ALL.
func (s *settings) all() [][2]string {
	var out [][2]string
	for _, g := range gucs {
		v, _ := s.get(g.name)
		out = append(out, [2]string{g.name, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func checkBool(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "yes", "1", "t", "y":
		return "on", nil
	case "off", "false", "no", "0", "f", "n":
		return "off", nil
	}
	return "", pgerror.New(pgerror.InvalidParameterValue, "parameter requires a Boolean value")
}

func checkOn(v string) (string, error) {
	b, err := checkBool(v)
	if err == nil && b != "on" {
		return "", pgerror.New(pgerror.FeatureNotSupported, "standard_conforming_strings cannot be turned off in pgraft")
	}
	return b, err
}

// checkTablespace accepts the one tablespace pgraft has ("" is the
// database's default, pg_default).
func checkTablespace(v string) (string, error) {
	switch t := strings.TrimSpace(v); t {
	case "", "pg_default":
		return t, nil
	}
	return "", pgerror.New(pgerror.UndefinedObject, "tablespace %q does not exist", strings.TrimSpace(v))
}

// checkAccessMethod accepts heap, the one table access method.
func checkAccessMethod(v string) (string, error) {
	if t := strings.ToLower(strings.TrimSpace(v)); t == "heap" {
		return t, nil
	}
	return "", pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"default_table_access_method\": %q", v).
		WithDetail(fmt.Sprintf("Table access method %q does not exist.", strings.TrimSpace(v)))
}

func checkInt(v string) (string, error) {
	if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
		return "", pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter: %q", v)
	}
	return strings.TrimSpace(v), nil
}

func checkEncoding(v string) (string, error) {
	switch strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(v), "-", "")) {
	case "UTF8", "UNICODE":
		return "UTF8", nil
	}
	return "", pgerror.New(pgerror.FeatureNotSupported, "client_encoding %q is not supported: pgraft speaks UTF8 only", v)
}

func checkDateStyle(v string) (string, error) {
	if !strings.Contains(strings.ToUpper(v), "ISO") {
		return "", pgerror.New(pgerror.FeatureNotSupported, "DateStyle %q is not supported: pgraft writes ISO dates", v)
	}
	return "ISO, MDY", nil
}

func checkBytea(v string) (string, error) {
	if strings.ToLower(strings.TrimSpace(v)) != "hex" {
		return "", pgerror.New(pgerror.FeatureNotSupported, "bytea_output %q is not supported", v)
	}
	return "hex", nil
}

func checkTimeZone(v string) (string, error) {
	v = strings.TrimSpace(v)
	if _, ok := pgvalue.LoadZone(v); !ok {
		return "", pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"TimeZone\": \"%s\"", v)
	}
	return v, nil
}

// location returns the session's time zone (pgvalue.LoadZone).
func (s *settings) location() *time.Location {
	v, _ := s.get("timezone")
	if loc, ok := pgvalue.LoadZone(v); ok {
		return loc
	}
	return time.UTC
}

func checkIsolation(v string) (string, error) {
	switch s := strings.ToLower(strings.TrimSpace(v)); s {
	case "read uncommitted", "read committed", "repeatable read", "serializable":
		return s, nil
	}
	return "", pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"transaction_isolation\": %q", v)
}

func checkConsistency(v string) (string, error) {
	switch s := strings.ToLower(strings.TrimSpace(v)); s {
	case "local", "session", "linearizable":
		return s, nil
	}
	return "", pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"pgraft.read_consistency\": %q", v).
		WithHint("Available values: local, session, linearizable.")
}

// checkDuration accepts PostgreSQL's time units (a bare number is ms).
func checkDuration(v string) (string, error) {
	if _, err := parseDuration(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(v), nil
}

func parseDuration(v string) (time.Duration, error) {
	s := strings.TrimSpace(strings.ToLower(v))
	num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyz ")
	unit := strings.TrimSpace(s[len(num):])
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n < 0 {
		return 0, pgerror.New(pgerror.InvalidParameterValue, "invalid value for a time parameter: %q", v)
	}
	mult := map[string]time.Duration{"": time.Millisecond, "us": time.Microsecond, "ms": time.Millisecond,
		"s": time.Second, "min": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[unit]
	if mult == 0 {
		return 0, pgerror.New(pgerror.InvalidParameterValue, "invalid unit for a time parameter: %q", v).
			WithHint(`Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".`)
	}
	return time.Duration(n * float64(mult)), nil
}

// duration returns a duration parameter's value.
func (s *settings) duration(name string) time.Duration {
	v, _ := s.get(name)
	d, _ := parseDuration(v)
	return d
}
